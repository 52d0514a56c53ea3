//! Hostile and broken input: a clear finding with a line, never a panic, never silence.

use immutabot::analyze::{MAX_FILE_BYTES, NoFiles, analyze};
use immutabot::config::Config;
use immutabot::model::{FileReport, Format, ReadOnly};

fn run(path: &str, bytes: &[u8]) -> FileReport {
    analyze(path, bytes, &Config::default(), &NoFiles)
}

fn invalid(r: &FileReport) -> Vec<String> {
    r.findings
        .iter()
        .filter(|f| f.rule == "invalid-file")
        .map(|f| format!("{}:{} {}", f.line, f.column, f.message))
        .collect()
}

#[test]
fn yaml_bomb_is_cheap_and_still_checked() {
    let mut t = String::from("x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..40 {
        let p = i - 1;
        t.push_str(&format!(
            "x-a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    t.push_str("services:\n  web:\n    image: nginx\n    command: *a39\n");
    let r = run("compose.yaml", t.as_bytes());
    assert_eq!(r.units.len(), 1);
    assert_eq!(r.units[0].read_only, ReadOnly::False);
}

#[test]
fn deep_nesting_is_bounded() {
    let t = format!("services: {}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = run("compose.yaml", t.as_bytes());
    let msgs = invalid(&r);
    assert!(!msgs.is_empty(), "{r:?}");
    let t = (0..500)
        .map(|i| format!("{}k{i}:", " ".repeat(i * 2)))
        .collect::<Vec<_>>()
        .join("\n");
    let r = run("compose.yaml", t.as_bytes());
    assert!(!invalid(&r).is_empty());
}

#[test]
fn huge_file_is_refused_with_a_reason() {
    let big = vec![b'#'; MAX_FILE_BYTES + 1];
    let r = run("compose.yaml", &big);
    assert_eq!(r.format, Format::Skipped);
    assert!(invalid(&r)[0].contains("limit"), "{r:?}");
}

#[test]
fn non_utf8_reports_the_line_and_unknown_units() {
    let t = b"services:\n  web:\n    # caf\xe9\n    image: nginx\n";
    let r = run("compose.yaml", t);
    assert_eq!(r.units[0].read_only, ReadOnly::Unknown);
    assert!(invalid(&r)[0].starts_with("3:"), "{:?}", invalid(&r));
}

#[test]
fn tabs_are_a_finding() {
    let t = "services:\n\tweb:\n\t\timage: nginx\n";
    let r = run("compose.yaml", t.as_bytes());
    assert!(!invalid(&r).is_empty(), "{r:?}");
}

#[test]
fn duplicate_keys_are_reported_and_make_the_unit_unknown() {
    let t = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext:\n      readOnlyRootFilesystem: true\n    securityContext:\n      runAsUser: 1\n";
    let r = run("pod.yaml", t.as_bytes());
    assert_eq!(r.units[0].read_only, ReadOnly::Unknown);
    assert!(invalid(&r)[0].starts_with("11:5"), "{:?}", invalid(&r));
}

#[test]
fn bom_is_accepted() {
    let t = "\u{feff}services:\n  web:\n    image: nginx\n    read_only: true\n    tmpfs: [/var/cache/nginx, /run]\n";
    let r = run("compose.yaml", t.as_bytes());
    assert_eq!(r.units[0].read_only, ReadOnly::True);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn helm_templates_are_skipped_with_the_reason() {
    let t = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"x.fullname\" . }}\nspec: {}\n";
    let r = run("templates/deploy.yaml", t.as_bytes());
    assert_eq!(r.format, Format::Skipped);
    assert!(r.skipped_reason.unwrap().contains("line 4"));
}

#[test]
fn syntax_errors_have_line_and_column() {
    let r = run("compose.yaml", b"services:\n  web: [\n");
    let m = invalid(&r);
    assert_eq!(m.len(), 1);
    assert!(m[0].starts_with('3') || m[0].starts_with('2'), "{m:?}");
}

#[test]
fn odd_inputs_never_panic() {
    let cases: &[&[u8]] = &[
        b"",
        b"---\n---\n",
        b"\x00\x01\x02",
        b"services: 5\n",
        b"services:\n  web: *nope\n",
        b"apiVersion: v1\nkind: List\nitems: 7\n",
        b"apiVersion: v1\nkind: Pod\nspec:\n  containers: [1, 2]\n",
        b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - securityContext: 3\n",
        b"services:\n  a: &a\n    <<: *a\n",
        b"services:\n  a:\n    extends: a\n",
        b"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"x\"}]}}",
        b"services:\n  ? [a, b]\n  : image: x\n",
        b"%YAML 1.1\n---\nservices: {}\n",
        b"services:\n  web:\n    read_only: !!str true\n",
    ];
    for c in cases {
        let _ = run("compose.yaml", c);
        let _ = run("k8s.json", c);
    }
}

/// Found by the fuzzer: a lone `\r` is a line break to YAML, so patches must count it too.
#[test]
fn lone_carriage_returns_are_line_breaks() {
    let t = b"foo:\n  image: bus/ybox\nbar:\n  image: busybox\n\rweb:\n  extends:\n    file: circle-1.yml\n    service::\n  image: b#usybox\nquux:\n  image: busybox\n";
    let r = run("compose.yaml", t);
    for f in &r.findings {
        if let Some(fix) = &f.fix {
            let text = std::str::from_utf8(t).unwrap();
            let patched = immutabot::patch::apply(text, fix).expect("applies");
            let again = run("compose.yaml", patched.as_bytes());
            assert!(
                again.findings.iter().all(|g| g.rule != "invalid-file"),
                "{patched:?}"
            );
        }
    }
    let r = run("compose.yaml", b"services:\r  web:\r    image: x\r");
    assert_eq!(r.units[0].line, 2);
    let fix = r.findings[0].fix.as_ref().unwrap();
    assert_eq!(fix.replacement, "    image: x\r    read_only: true\r");
}

/// A repository holds lock files and templates of other tools: when they are big or broken
/// and do not look like a manifest, they are not ours to fail on.
#[test]
fn big_or_broken_files_of_other_tools_are_not_findings() {
    let lock = format!(
        "{{\"lockfileVersion\": 3, \"packages\": \"{}\"}}",
        "x".repeat(MAX_FILE_BYTES)
    );
    let r = run("package-lock.json", lock.as_bytes());
    assert!(r.findings.is_empty());
    assert_eq!(
        r.skipped_reason.as_deref(),
        Some(immutabot::analyze::NOT_RECOGNISED)
    );
    let ansible = "- hosts: all\n  tasks:\n    - name: x\n      template: {% raw %}\n";
    let r = run("playbook.yml", ansible.as_bytes());
    assert!(r.findings.is_empty(), "{r:?}");
    let broken_manifest = "apiVersion: v1\nkind: Pod\nmetadata: [\n";
    let r = run("pod.yaml", broken_manifest.as_bytes());
    assert_eq!(invalid(&r).len(), 1);
}
