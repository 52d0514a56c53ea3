use super::*;
use crate::patch::apply_all;
use proptest::prelude::*;

fn paths(knobs: &[Knob]) -> Vec<(String, KnobKind)> {
    knobs.iter().map(|k| (k.path.join("."), k.kind)).collect()
}

fn parse(t: &str) -> Stream {
    let s = Stream::parse(t, Limits::default());
    assert!(s.error.is_none(), "{:?} in\n{t}", s.error);
    s
}

#[test]
fn candidates_nested_lists_and_empties() {
    let text = "\
securityContext: {}
podSecurityContext:
server:
  containerSecurityContext:
    runAsUser: 1000
    capabilities:
      drop: [ALL]
  statefulSet:
    securityContext:
      pod: {}
      container: ~
  extraVolumes: []
  volumeMounts: null
  volumes:
    - name: a
      emptyDir: {}
  securityContextEnabled: true
  extraVolumeMountsText: \"x\"
sidecars:
  - securityContext: {}
    extraVolumes: []
";
    let k = candidates(text);
    use KnobKind::*;
    assert_eq!(
        paths(&k),
        vec![
            ("securityContext".into(), SecurityContext),
            ("podSecurityContext".into(), SecurityContext),
            ("server.containerSecurityContext".into(), SecurityContext),
            ("server.statefulSet.securityContext".into(), SecurityContext),
            (
                "server.statefulSet.securityContext.pod".into(),
                SecurityContext
            ),
            (
                "server.statefulSet.securityContext.container".into(),
                SecurityContext
            ),
            ("server.extraVolumes".into(), Volumes),
            ("server.volumeMounts".into(), VolumeMounts),
            ("server.volumes".into(), Volumes),
        ]
    );
    assert_eq!(k[0].line, 1);
    assert_eq!(k[5].line, 11);
}

#[test]
fn probe_values_parse_and_merge() {
    let k = candidates(
        "a:\n  securityContext:\n    container: {}\n  extraVolumes: []\n  extraVolumeMounts: ~\n",
    );
    assert_eq!(k.len(), 4);
    let text = probe_values(&k);
    let s = parse(&text);
    let root = s.docs[0].unwrap();
    let at = |p: &[&str]| {
        s.path(root, p)
            .and_then(|n| s.scalar(n))
            .map(str::to_string)
    };
    assert_eq!(
        at(&["a", "securityContext", "readOnlyRootFilesystem"]).as_deref(),
        Some("immutabot-probe-0")
    );
    assert_eq!(
        at(&[
            "a",
            "securityContext",
            "container",
            "readOnlyRootFilesystem"
        ])
        .as_deref(),
        Some("immutabot-probe-1")
    );
    let vols = s.path(root, &["a", "extraVolumes"]).unwrap();
    assert_eq!(s.items(vols).len(), 1);
    assert_eq!(
        s.get_str(s.items(vols)[0], "name"),
        Some("immutabot-probe-2")
    );
    assert!(
        s.path(s.items(vols)[0], &["emptyDir"])
            .is_some_and(|e| s.is_map(e))
    );
    let mounts = s.path(root, &["a", "extraVolumeMounts"]).unwrap();
    let m = s.items(mounts)[0];
    assert_eq!(s.get_str(m, "mountPath"), Some("/immutabot-probe-3"));

    let one = parse(&probe_values_subset(&k, &[3]));
    let root = one.docs[0].unwrap();
    assert_eq!(
        one.keys(one.path(root, &["a"]).unwrap()),
        ["extraVolumeMounts"]
    );
    let m = one.items(one.path(root, &["a", "extraVolumeMounts"]).unwrap())[0];
    assert_eq!(one.get_str(m, "name"), Some("immutabot-probe-3"));

    let b = parse(&probe_values_bool(&k, 1, false));
    let root = b.docs[0].unwrap();
    let sc = b.path(root, &["a", "securityContext"]).unwrap();
    assert_eq!(b.get(sc, "readOnlyRootFilesystem"), None);
    assert_eq!(
        b.path(sc, &["container", "readOnlyRootFilesystem"])
            .and_then(|n| b.scalar(n)),
        Some("false")
    );
}

const RENDERED: &str = "\
---
# Source: c/templates/svc.yaml
apiVersion: v1
kind: Service
metadata: {name: s}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      volumes:
        - name: config
        - name: immutabot-probe-2
          emptyDir: {}
      initContainers:
        - name: init
      containers:
        - name: app
          securityContext:
            readOnlyRootFilesystem: immutabot-probe-0
          volumeMounts:
            - name: immutabot-probe-3
              mountPath: /immutabot-probe-3
";

#[test]
fn reached_reads_sentinels() {
    let r = reached(RENDERED);
    assert_eq!(r.len(), 2);
    // The inventory lists `containers` before `initContainers`.
    assert_eq!(r[0].workload, "Deployment/web");
    assert_eq!(r[0].container, "app");
    assert_eq!(
        (r[0].security_context, r[0].volumes, r[0].volume_mounts),
        (Some(0), Some(2), Some(3))
    );
    assert_eq!(r[1].container, "init");
    assert_eq!(
        (r[1].security_context, r[1].volumes, r[1].volume_mounts),
        (None, Some(2), None)
    );
    let on = RENDERED.replace("immutabot-probe-0", "true");
    let off = RENDERED.replace("immutabot-probe-0", "false");
    let b = reached_bool(&on, &off, 7);
    assert_eq!(b[0].security_context, Some(7));
    assert_eq!(b[1].security_context, None);
    assert_eq!(reached_bool(&on, &on, 7)[0].security_context, None);
}

fn knob(text: &str, path: &str) -> Knob {
    candidates(text)
        .into_iter()
        .find(|k| k.path.join(".") == path)
        .unwrap_or_else(|| panic!("no knob {path} in\n{text}"))
}

fn tmp() -> Vec<ScratchMount> {
    vec![ScratchMount {
        name: "tmp".into(),
        path: "/tmp".into(),
    }]
}

/// Applies the fixes and checks the result: read-only at the knob, the scratch volume and
/// mount in the lists, every line outside the fixes untouched.
fn fixed(text: &str, sc: &str, vols: Option<&str>, mounts: Option<&str>) -> String {
    let (k_sc, k_v, k_m) = (
        knob(text, sc),
        vols.map(|p| knob(text, p)),
        mounts.map(|p| knob(text, p)),
    );
    let fixes = values_fix(text, &k_sc, k_v.as_ref(), k_m.as_ref(), &tmp(), &[]);
    assert!(!fixes.is_empty(), "no fix for\n{text}");
    let (out, n) = apply_all(text, &fixes);
    assert_eq!(n, fixes.len());
    let s = parse(&out);
    let root = s.docs[0].unwrap();
    let at = |p: &str| {
        let keys: Vec<&str> = p.split('.').collect();
        s.path(root, &keys)
            .unwrap_or_else(|| panic!("{p} missing in\n{out}"))
    };
    assert_eq!(
        s.get(at(sc), "readOnlyRootFilesystem")
            .map(|(_, v)| (s.scalar(v), s.style(v))),
        Some((Some("true"), Some(crate::yaml::Style::Plain))),
        "{out}"
    );
    for (p, key, want) in [
        (vols, "emptyDir", None),
        (mounts, "mountPath", Some("/tmp")),
    ] {
        let Some(p) = p else { continue };
        let last = *s.items(at(p)).last().unwrap();
        assert_eq!(s.get_str(last, "name"), Some("tmp"), "{out}");
        let (_, v) = s.get(last, key).unwrap();
        assert!(want.is_none_or(|w| s.scalar(v) == Some(w)), "{out}");
    }
    assert_outside_intact(text, &out, &fixes);
    out
}

fn assert_outside_intact(before: &str, after: &str, fixes: &[Fix]) {
    let mut fixes: Vec<&Fix> = fixes.iter().collect();
    fixes.sort_by_key(|f| f.start_line);
    let b: Vec<&str> = before.split_inclusive('\n').collect();
    let mut expect = String::new();
    let mut line = 1;
    for f in fixes {
        expect.extend(b[line - 1..f.start_line - 1].iter().copied());
        expect.push_str(&f.replacement);
        line = f.end_line + 1;
    }
    expect.extend(b[line - 1..].iter().copied());
    assert_eq!(expect, after);
}

#[test]
fn fix_fills_empty_flow_mapping() {
    let t =
        "# top\nreplicas: 1\nsecurityContext: {}\nextraVolumes: []\nextraVolumeMounts: []\nz: 1\n";
    let out = fixed(
        t,
        "securityContext",
        Some("extraVolumes"),
        Some("extraVolumeMounts"),
    );
    assert_eq!(
        out,
        "# top\nreplicas: 1\nsecurityContext: {readOnlyRootFilesystem: true}\n\
         extraVolumes: [{name: tmp, emptyDir: {}}]\n\
         extraVolumeMounts: [{name: tmp, mountPath: /tmp}]\nz: 1\n"
    );
}

#[test]
fn fix_adds_to_block_mapping_with_comments() {
    let t = "\
server:
  # the container's context
  containerSecurityContext:
    # keep this
    runAsUser: 1000   # uid
    capabilities:
      drop:
        - ALL
    # trailing comment
  volumes:
    - name: data
      emptyDir: {}
  volumeMounts:
  other: x
";
    let out = fixed(
        t,
        "server.containerSecurityContext",
        Some("server.volumes"),
        Some("server.volumeMounts"),
    );
    assert!(
        out.contains("        - ALL\n    readOnlyRootFilesystem: true\n"),
        "{out}"
    );
    assert!(
        out.contains("      emptyDir: {}\n    - name: tmp\n      emptyDir: {}\n"),
        "{out}"
    );
    assert!(
        out.contains("  volumeMounts:\n    - name: tmp\n      mountPath: /tmp\n  other"),
        "{out}"
    );
}

#[test]
fn fix_replaces_false() {
    let t = "securityContext:\n  readOnlyRootFilesystem: false # why\n  runAsNonRoot: true\n";
    let out = fixed(t, "securityContext", None, None);
    assert_eq!(
        out,
        "securityContext:\n  readOnlyRootFilesystem: true # why\n  runAsNonRoot: true\n"
    );
    let on = "securityContext:\n  readOnlyRootFilesystem: true\n";
    assert!(values_fix(on, &knob(on, "securityContext"), None, None, &[], &[]).is_empty());
}

#[test]
fn fix_fills_null() {
    for (t, want) in [
        (
            "a:\n  securityContext:\n  b: 1\n",
            "a:\n  securityContext:\n    readOnlyRootFilesystem: true\n  b: 1\n",
        ),
        (
            "a:\n  securityContext: ~ # none\n",
            "a:\n  securityContext: # none\n    readOnlyRootFilesystem: true\n",
        ),
        (
            "a:\n  securityContext: null",
            "a:\n  securityContext:\n    readOnlyRootFilesystem: true",
        ),
    ] {
        assert_eq!(fixed(t, "a.securityContext", None, None), want);
    }
}

#[test]
fn fix_flow_mappings() {
    let t = "a: {securityContext: {runAsUser: 1}, extraVolumes: [], extraVolumeMounts: ~}\n";
    let out = fixed(
        t,
        "a.securityContext",
        Some("a.extraVolumes"),
        Some("a.extraVolumeMounts"),
    );
    assert_eq!(
        out,
        "a: {securityContext: {runAsUser: 1, readOnlyRootFilesystem: true}, \
         extraVolumes: [{name: tmp, emptyDir: {}}], \
         extraVolumeMounts: [{name: tmp, mountPath: /tmp}]}\n"
    );
    let t = "a: {securityContext: null}\n";
    assert_eq!(
        fixed(t, "a.securityContext", None, None),
        "a: {securityContext: {readOnlyRootFilesystem: true}}\n"
    );
}

#[test]
fn fix_keeps_crlf() {
    let t = "a:\r\n  securityContext:\r\n    runAsUser: 1\r\n  volumes:\r\n  - name: x\r\n    emptyDir: {}\r\nb: 2\r\n";
    let out = fixed(t, "a.securityContext", Some("a.volumes"), None);
    assert_eq!(
        out,
        "a:\r\n  securityContext:\r\n    runAsUser: 1\r\n    readOnlyRootFilesystem: true\r\n  volumes:\r\n  - name: x\r\n    emptyDir: {}\r\n  - name: tmp\r\n    emptyDir: {}\r\nb: 2\r\n"
    );
}

#[test]
fn no_fix_through_aliases() {
    let t = "base: &b {runAsUser: 1}\nsecurityContext: *b\n";
    assert!(candidates(t).iter().all(|k| k.path != ["securityContext"]));
    let k = Knob {
        path: vec!["securityContext".into()],
        kind: KnobKind::SecurityContext,
        line: 2,
    };
    assert!(values_fix(t, &k, None, None, &[], &[]).is_empty());
}

/// A values file shaped by the strategy: indentation, comments, key order and the form of
/// the security context vary; the knob sits at `top.securityContext`.
fn values_text(indent: usize, comments: bool, before: usize, after: usize, form: usize) -> String {
    let p = " ".repeat(indent);
    let c = |t: &str| {
        if comments {
            format!(" # {t}")
        } else {
            String::new()
        }
    };
    let mut out = String::new();
    if comments {
        out.push_str("# values\n");
    }
    out.push_str(&format!("top:{}\n", c("top")));
    for i in 0..before {
        out.push_str(&format!("{p}k{i}: v{i}{}\n", c("before")));
    }
    let sc = match form {
        0 => format!("{p}securityContext: {{}}{}\n", c("empty")),
        1 => format!("{p}securityContext:{}\n", c("null")),
        2 => format!(
            "{p}securityContext:\n{p}{p}runAsUser: 1{}\n{p}{p}readOnlyRootFilesystem: false\n",
            c("uid")
        ),
        3 => format!(
            "{p}securityContext:\n{p}{p}runAsUser: 1\n{}",
            if comments {
                format!("{p}{p}# end\n")
            } else {
                String::new()
            }
        ),
        _ => format!("{p}securityContext: {{runAsUser: 1}}\n"),
    };
    out.push_str(&sc);
    out.push_str(&format!("{p}extraVolumes: []\n"));
    for i in 0..after {
        out.push_str(&format!("{p}z{i}: w{i}{}\n", c("after")));
    }
    out.push_str("next: 1\n");
    out
}

proptest! {
    #[test]
    fn fix_keeps_other_lines(
        indent in 1usize..6,
        comments: bool,
        before in 0usize..4,
        after in 0usize..4,
        form in 0usize..5,
    ) {
        let t = values_text(indent, comments, before, after, form);
        fixed(&t, "top.securityContext", Some("top.extraVolumes"), None);
    }
}

#[test]
fn fix_keeps_rendered_defaults_in_empty_knobs() {
    let rendered = "kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      securityContext:\n        allowPrivilegeEscalation: false\n        readOnlyRootFilesystem: false\n        capabilities:\n          drop:\n            - ALL\n";
    let keep = rendered_security_context(rendered, "Pod/p", "c");
    assert_eq!(
        keep,
        [
            "allowPrivilegeEscalation: false",
            "capabilities:",
            "  drop:",
            "    - ALL"
        ]
    );
    for t in [
        "securityContext:\n  container: {} # c\nx: 1\n",
        "securityContext:\n  container:\nx: 1\n",
    ] {
        let fixes = values_fix(
            t,
            &knob(t, "securityContext.container"),
            None,
            None,
            &[],
            &keep,
        );
        let (out, _) = apply_all(t, &fixes);
        let comment = if t.contains('#') { " # c" } else { "" };
        assert_eq!(
            out,
            format!(
                "securityContext:\n  container:{comment}\n    allowPrivilegeEscalation: false\n    capabilities:\n      drop:\n        - ALL\n    readOnlyRootFilesystem: true\nx: 1\n"
            )
        );
    }
    let t = "securityContext:\n  container:\n    runAsUser: 1\n";
    let fixes = values_fix(
        t,
        &knob(t, "securityContext.container"),
        None,
        None,
        &[],
        &keep,
    );
    assert_eq!(
        apply_all(t, &fixes).0,
        "securityContext:\n  container:\n    runAsUser: 1\n    readOnlyRootFilesystem: true\n"
    );
}
