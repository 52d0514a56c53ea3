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

/// "Billion laughs" with Compose extension fields: cheap for us, refused by Compose.
#[test]
fn yaml_bomb_is_cheap_and_refused() {
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
    assert_eq!(r.units[0].read_only, ReadOnly::Unknown);
    let msgs = invalid(&r);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].starts_with("4:27 Aliases unfold past what yaml.v3 allows: by `*a2`, 4,630 of the 4,670 nodes decoded come from aliases"), "{msgs:?}");
    assert!(msgs[0].ends_with("Compose refuses the file (`document contains excessive aliasing`); its services are reported as unknown"), "{msgs:?}");
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

/// A real-shaped Deployment where one value is separated from its key by a TAB (an editor
/// setting away from breaking a rollout): kubectl refuses it, so nothing here deploys.
#[test]
fn a_deployment_with_a_tab_after_a_key_is_refused() {
    let t = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  labels:\n    app: api\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n      containers:\n        - name: api\n          image:\tghcr.io/acme/api:2.3.1\n          ports:\n            - containerPort: 8080\n          securityContext:\n            readOnlyRootFilesystem: true\n";
    let r = run("k8s/api.yaml", t.as_bytes());
    assert_eq!(r.format, Format::Kubernetes);
    assert_eq!(r.units.len(), 1);
    assert_eq!(r.units[0].read_only, ReadOnly::Unknown);
    assert_eq!(
        invalid(&r),
        [
            "19:17 A TAB follows `image:`: kubectl and kustomize refuse the file (in block style YAML indentation and the space after `:` or `-` must be spaces; `found character that cannot start any token`); its containers are reported as unknown"
        ]
    );
    assert!(r.findings.iter().all(|f| f.rule == "invalid-file"));
}

/// The same Deployment indented with a TAB on two lines.
#[test]
fn a_deployment_indented_with_tabs_is_refused() {
    let t = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n    securityContext:\n\t  readOnlyRootFilesystem: true\n";
    let r = run("pod.yaml", t.as_bytes());
    assert!(r.units.iter().all(|u| u.read_only == ReadOnly::Unknown));
    let msgs = invalid(&r);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].starts_with("10:"), "{msgs:?}");
}

/// A TAB before a comment, or inside a quoted value or a flow list, is fine for every reader.
#[test]
fn tabs_the_tools_accept_are_not_findings() {
    let t = "services:\n  web:\n    image: nginx\t# pinned below\n    command: [\"sh\",\t\"-c\", \"echo\ta\"]\n    read_only: true\n    tmpfs: [/var/cache/nginx, /run]\n";
    let r = run("compose.yaml", t.as_bytes());
    assert_eq!(r.units[0].read_only, ReadOnly::True);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

/// Our parser stops at these as the Go readers do, so the file is already a finding.
#[test]
fn control_characters_are_refused() {
    let t = "services:\n  web:\n    image: nginx\n    environment:\n      PS1: \"\u{9b}1m$ \"\n";
    let r = run("compose.yaml", t.as_bytes());
    assert!(r.units.iter().all(|u| u.read_only == ReadOnly::Unknown));
    assert!(invalid(&r)[0].starts_with("5:13 "), "{:?}", r);
}

#[test]
fn unknown_anchors_and_bad_merges_are_refused() {
    let t = "x-logging: &logging\n  driver: json-file\nservices:\n  web:\n    <<: *defaults\n    image: nginx\n    logging: *logging\n";
    let r = run("compose.yaml", t.as_bytes());
    assert!(r.units.iter().all(|u| u.read_only == ReadOnly::Unknown));
    assert!(invalid(&r)[0].starts_with("5:9 "), "{:?}", r);
    let t =
        "x-ports: &ports\n  - \"80:80\"\nservices:\n  web:\n    image: nginx\n    <<: [*ports]\n";
    let r = run("compose.yaml", t.as_bytes());
    assert_eq!(r.units[0].read_only, ReadOnly::Unknown);
    assert!(invalid(&r)[0].starts_with("6:10 `<<` merges a sequence, not a mapping: Compose refuses the file (`map merge requires map or sequence of maps as the value`)"), "{:?}", invalid(&r));
}

/// `x-l0: &l0 {a: 1}`, then each level merges the one below eight times: lookups that follow
/// every path grow eightfold per level.
fn merge_bomb(depth: usize) -> String {
    let mut t = String::from("x-l0: &l0 {a: 1}\n");
    for i in 1..=depth {
        let p = i - 1;
        let refs = vec![format!("*l{p}"); 8].join(", ");
        t.push_str(&format!("x-l{i}: &l{i} {{<<: [{refs}]}}\n"));
    }
    t.push_str(&format!(
        "services:\n  web:\n    <<: *l{depth}\n    image: nginx\n  worker:\n    <<: *l{depth}\n    image: nginx\n"
    ));
    t
}

#[test]
fn merge_key_bomb_finishes_and_reports_its_units() {
    let r = run("compose.yaml", merge_bomb(12).as_bytes());
    assert_eq!(r.units.len(), 2);
    assert!(r.units.iter().all(|u| u.read_only == ReadOnly::Unknown));
    let msgs = invalid(&r);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].contains("`document contains excessive aliasing`"),
        "{msgs:?}"
    );
}

/// Work is counted, not timed: the node visits of the same lookups at depth 9 and depth 24
/// grow with the text, not eightfold per level.
#[test]
fn lookups_through_merge_keys_are_linear() {
    use immutabot::yaml::{Limits, Stream};
    let work = |depth: usize| {
        let t = merge_bomb(depth);
        let s = Stream::parse(&t, Limits::default());
        let root = s.docs[0].unwrap();
        for svc in ["web", "worker"] {
            let m = s.path(root, &["services", svc]).unwrap();
            assert_eq!(s.get_str(m, "a"), Some("1"));
            assert_eq!(s.get(m, "read_only"), None);
            assert_eq!(s.keys(m), ["a", "image"]);
        }
        (s.merge_work() as f64, t.len() as f64)
    };
    let (w9, n9) = work(9);
    let (w24, n24) = work(24);
    assert!(w9 > 0.0);
    let per_byte = (w24 / n24) / (w9 / n9);
    assert!(
        per_byte < 3.0,
        "work per byte grew {per_byte}x: {w9} then {w24}"
    );
}

/// Thousands of mappings merged into every service: not refused by Compose (the alias share
/// stays under 99%), but over our work allowance, which is then a finding.
#[test]
fn the_merge_work_allowance_is_a_finding_when_hit() {
    let mut t = String::new();
    for i in 0..5000 {
        t.push_str(&format!("x-{i}: &m{i} {{k{i}: 1}}\n"));
    }
    let refs: Vec<String> = (0..5000).map(|i| format!("*m{i}")).collect();
    t.push_str(&format!(
        "x-all: &all {{<<: [{}]}}\nservices:\n",
        refs.join(", ")
    ));
    for i in 0..40 {
        t.push_str(&format!("  s{i}:\n    <<: *all\n    image: nginx\n"));
    }
    let r = run("compose.yaml", t.as_bytes());
    assert_eq!(r.units.len(), 40);
    assert!(r.units.iter().all(|u| u.read_only == ReadOnly::Unknown));
    let msgs = invalid(&r);
    assert!(
        msgs.iter()
            .any(|m| m.contains("more work than immutabot allows")),
        "{msgs:?}"
    );
}

/// One file of N Deployments, each without a securityContext: one writable finding apiece.
fn deployments(n: usize) -> String {
    (0..n)
        .map(|i| format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\nspec:\n  selector:\n    matchLabels:\n      app: app-{i}\n  template:\n    metadata:\n      labels:\n        app: app-{i}\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/app-{i}:1.0\n"))
        .collect()
}

fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every output format carries every finding of a big file (the time it takes is measured
/// by `scripts/bench-hostile`, not here).
#[test]
fn a_big_file_with_thousands_of_findings_in_every_output_format() {
    use serde_json::Value;
    const N: usize = 1000;
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join(".git")).unwrap();
    std::fs::write(t.path().join("all.yaml"), deployments(N)).unwrap();
    let dir = t.path();
    let json: Value = serde_json::from_str(&cli(dir, &["check", "--format", "json"])).unwrap();
    let findings = json["files"][0]["findings"].as_array().unwrap();
    let writable = findings
        .iter()
        .filter(|f| f["rule"] == "writable-root-filesystem")
        .count();
    assert_eq!(writable, N);
    let total = findings.len();

    let text = cli(dir, &["check", "--format", "text"]);
    let located = text.lines().filter(|l| l.starts_with("all.yaml:")).count();
    assert_eq!(located, total);
    let sarif: Value = serde_json::from_str(&cli(dir, &["check", "--format", "sarif"])).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), total);
    let gitlab: Value = serde_json::from_str(&cli(dir, &["check", "--format", "gitlab"])).unwrap();
    assert_eq!(gitlab.as_array().unwrap().len(), total);
    let rdjson: Value = serde_json::from_str(&cli(dir, &["check", "--format", "rdjson"])).unwrap();
    assert_eq!(rdjson["diagnostics"].as_array().unwrap().len(), total);
    let github = cli(dir, &["check", "--format", "github"]);
    assert_eq!(
        github.lines().filter(|l| l.starts_with("::")).count(),
        total
    );

    let diff = cli(dir, &["check", "--diff"]);
    let added = diff
        .lines()
        .filter(|l| l.starts_with('+') && l.contains("readOnlyRootFilesystem: true"))
        .count();
    assert_eq!(added, N);
    cli(dir, &["check", "--fix"]);
    let json: Value = serde_json::from_str(&cli(dir, &["check", "--format", "json"])).unwrap();
    let left = json["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "writable-root-filesystem")
        .count();
    assert_eq!(left, 0);
    assert_eq!(json["files"][0]["units"].as_array().unwrap().len(), N);
}
