//! What the inventory sees: every unit, its status and its line, across the input shapes
//! the issue lists (override files, extends, List, CRDs, JSON) and the suppressions.

use immutabot::analyze::{NoFiles, Resolver, analyze};
use immutabot::config::Config;
use immutabot::model::{FileReport, Format, ReadOnly, SuppressionKind};
use std::collections::HashMap;

struct Files(HashMap<&'static str, &'static str>);

impl Resolver for Files {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.get(path).map(|t| t.as_bytes().to_vec())
    }
}

fn run(path: &str, text: &str) -> FileReport {
    analyze(path, text.as_bytes(), &Config::default(), &NoFiles)
}

fn status(r: &FileReport) -> Vec<(String, Option<String>, ReadOnly, usize)> {
    r.units
        .iter()
        .map(|u| (u.workload.clone(), u.container.clone(), u.read_only, u.line))
        .collect()
}

const BASE: &str = "services:\n  web:\n    image: nginx\n    read_only: true\n    tmpfs: [/var/cache/nginx, /run]\n  db:\n    image: postgres\n";
const OVERRIDE: &str = "services:\n  web:\n    read_only: false\n  debug:\n    image: busybox\n";

#[test]
fn override_file_decides_and_carries_the_finding() {
    let files = Files(HashMap::from([
        ("app/compose.yaml", BASE),
        ("app/compose.override.yaml", OVERRIDE),
    ]));
    let base = analyze(
        "app/compose.yaml",
        BASE.as_bytes(),
        &Config::default(),
        &files,
    );
    // The base reports the merged value; the fix belongs to the override.
    let web = base.units.iter().find(|u| u.workload == "web").unwrap();
    assert_eq!(web.read_only, ReadOnly::False);
    let f = base
        .findings
        .iter()
        .find(|f| f.workload.as_deref() == Some("web"))
        .unwrap();
    assert!(f.fix.is_none() && f.message.contains("override"), "{f:?}");
    let over = analyze(
        "app/compose.override.yaml",
        OVERRIDE.as_bytes(),
        &Config::default(),
        &files,
    );
    // `web` is reported by the base; `debug` only exists in the override.
    assert_eq!(
        status(&over),
        vec![("debug".into(), None, ReadOnly::False, 4)]
    );
    let web_fix = over
        .findings
        .iter()
        .find(|f| f.workload.as_deref() == Some("web"))
        .and_then(|f| f.fix.as_ref());
    assert!(web_fix.is_some(), "{:?}", over.findings);
}

#[test]
fn extends_follows_other_files_and_says_when_one_is_missing() {
    let common = "services:\n  base:\n    image: nginx\n    read_only: true\n    tmpfs: [/var/cache/nginx, /run]\n";
    let app = "services:\n  web:\n    extends:\n      file: ../common/base.yml\n      service: base\n  gone:\n    extends: {file: nope.yml, service: x}\n  local:\n    extends: web\n";
    let files = Files(HashMap::from([("common/base.yml", common)]));
    let r = analyze(
        "app/compose.yml",
        app.as_bytes(),
        &Config::default(),
        &files,
    );
    assert_eq!(
        status(&r),
        vec![
            ("web".into(), None, ReadOnly::True, 2),
            ("gone".into(), None, ReadOnly::Unknown, 6),
            ("local".into(), None, ReadOnly::True, 8),
        ]
    );
    let why = r
        .findings
        .iter()
        .find(|f| f.rule == "read-only-unknown")
        .unwrap();
    assert!(why.message.contains("nope.yml"), "{}", why.message);
}

#[test]
fn lists_crds_and_json_are_found() {
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    containers:\n    - name: c\n      image: x\n      securityContext: {readOnlyRootFilesystem: true}\n";
    assert_eq!(
        status(&run("list.yaml", list)),
        vec![("Pod/a".into(), Some("c".into()), ReadOnly::True, 9)]
    );
    let rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: r\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: x\n";
    assert_eq!(
        status(&run("rollout.yaml", rollout)),
        vec![("Rollout/r".into(), Some("app".into()), ReadOnly::False, 9)]
    );
    let json = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j", "namespace": "ns"},
 "spec": {"containers": [{"name": "c", "image": "x"}], "ephemeralContainers": [{"name": "dbg", "image": "busybox"}]}}"#;
    let r = run("pod.json", json);
    assert_eq!(r.format, Format::Kubernetes);
    assert_eq!(r.units.len(), 2);
    assert_eq!(r.units[0].namespace.as_deref(), Some("ns"));
    assert_eq!(r.units[1].role, immutabot::model::Role::Ephemeral);
}

#[test]
fn suppressions_count_as_suppressed_never_compliant() {
    let k8s = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    immutabot.dev/exempt-containers: \"istio-init\"\n    immutabot.dev/exempt-reason: \"needs /run/xtables.lock\"\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: istio-init\n        image: istio/proxyv2\n      containers:\n      # immutabot:ignore writable-root-filesystem vendor image, ticket SEC-12\n      - name: app\n        image: x\n      - name: debug\n        image: busybox\n";
    let r = run("deploy.yaml", k8s);
    let kinds: Vec<_> = r
        .findings
        .iter()
        .map(|f| f.suppressed.as_ref().map(|s| s.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            Some(SuppressionKind::Annotation),
            Some(SuppressionKind::Comment),
            None
        ]
    );
    assert_eq!(
        r.units.iter().map(|u| u.read_only).collect::<Vec<_>>(),
        vec![ReadOnly::Suppressed, ReadOnly::Suppressed, ReadOnly::False]
    );
    let config = Config::parse("exempt:\n  - image: busybox*\n    reason: debug only\n").unwrap();
    let r = analyze("deploy.yaml", k8s.as_bytes(), &config, &NoFiles);
    assert_eq!(r.units[2].read_only, ReadOnly::Suppressed);
    assert_eq!(
        r.findings[2].suppressed.as_ref().unwrap().kind,
        SuppressionKind::Config
    );
}

#[test]
fn values_compose_casts_and_kubernetes_rejects() {
    let compose = "services:\n  a: {image: x, read_only: \"true\"}\n  b: {image: x, read_only: yes}\n  c: {image: x, read_only: 'false'}\n  d: {image: x, read_only: \"${RO:-true}\"}\n";
    assert_eq!(
        run("compose.yaml", compose)
            .units
            .iter()
            .map(|u| u.read_only)
            .collect::<Vec<_>>(),
        vec![
            ReadOnly::True,
            ReadOnly::True,
            ReadOnly::False,
            ReadOnly::Unknown
        ]
    );
}

#[test]
fn privileged_read_only_is_not_effective() {
    let t = "services:\n  a:\n    image: x\n    read_only: true\n    privileged: true\n  b:\n    image: x\n    read_only: true\n    cap_add: [SYS_ADMIN]\n";
    let r = run("compose.yaml", t);
    let rules: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.line))
        .collect();
    assert_eq!(
        rules,
        vec![("read-only-bypassed", 5), ("read-only-bypassed", 9)]
    );
}

#[test]
fn an_explicit_tag_is_not_guessed() {
    let t = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext:\n      readOnlyRootFilesystem: !!str true\n";
    let r = run("pod.yaml", t);
    assert_eq!(r.units[0].read_only, ReadOnly::Unknown);
    assert_eq!(r.findings[0].rule, "read-only-unknown");
}

#[test]
fn extends_adds_the_extended_services_mounts() {
    let t = "services:\n  base:\n    image: nginx:1.27\n    tmpfs: [/var/cache/nginx]\n    volumes: [run:/var/run]\n  web:\n    extends: base\n    read_only: true\n";
    let r = run("compose.yaml", t);
    let web: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.workload.as_deref() == Some("web"))
        .collect();
    assert!(web.is_empty(), "{web:?}");
}

#[test]
fn a_gitlab_ci_file_is_not_a_version_1_compose_file() {
    let ci =
        "stages: [test]\nlint:\n  stage: test\n  image: rust:1.94\n  script:\n    - cargo clippy\n";
    let report = immutabot::analyze::analyze(
        ".gitlab-ci.yml",
        ci.as_bytes(),
        &immutabot::config::Config::default(),
        &immutabot::analyze::NoFiles,
    );
    assert!(report.units.is_empty(), "{report:?}");
    assert!(report.findings.is_empty(), "{report:?}");
    // A job list without `stages:` is still a pipeline.
    let jobs = "build:\n  image: node:22\n  script: npm ci\n";
    let report = immutabot::analyze::analyze(
        "ci.yml",
        jobs.as_bytes(),
        &immutabot::config::Config::default(),
        &immutabot::analyze::NoFiles,
    );
    assert!(report.units.is_empty(), "{report:?}");
}
