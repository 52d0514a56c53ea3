//! What real repositories hold and our own corpus did not: Helm values that have the shape of
//! version-1 Compose services, files inside charts, `{{ … }}` inside strings of valid YAML,
//! and Compose fragments checked on their own. Each case comes from a real file of
//! `../shared` or is cut from one.

use immutabot::analyze::{NOT_RECOGNISED, NoFiles, Resolver, analyze};
use immutabot::config::Config;
use immutabot::model::{FileReport, Format, ReadOnly};
use std::collections::HashMap;
use std::path::Path;

struct Files(HashMap<&'static str, &'static str>);

impl Resolver for Files {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0.get(path).map(|t| t.as_bytes().to_vec())
    }
}

fn shared(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn run(path: &str, text: &[u8], files: &dyn Resolver) -> FileReport {
    analyze(path, text, &Config::default(), files)
}

fn workloads(r: &FileReport) -> Vec<(String, ReadOnly)> {
    r.units
        .iter()
        .map(|u| (u.workload.clone(), u.read_only))
        .collect()
}

#[test]
fn helm_values_and_schemas_are_not_version_1_compose_files() {
    // Real values files whose top-level keys (`image`, `global`, `serviceAccount`, …) were
    // reported as services, judged on content alone (no `Chart.yaml` beside them).
    for rel in [
        "charts/keda/values.yaml",
        "charts/external-secrets/values.yaml",
        "charts/external-secrets/ci/main-values.yaml",
        "charts/external-secrets/values.schema.json",
        "charts/tigera-operator/values.yaml",
        "charts/vault/values.openshift.yaml",
    ] {
        let r = run("values.yaml", &shared(rel), &NoFiles);
        assert_eq!(r.format, Format::Skipped, "{rel}: {:?}", workloads(&r));
        assert_eq!(r.skipped_reason.as_deref(), Some(NOT_RECOGNISED), "{rel}");
        assert!(r.units.is_empty() && r.findings.is_empty(), "{rel}");
    }
}

#[test]
fn a_version_1_compose_file_is_still_one() {
    let v1 = b"web:\n  image: nginx\n  links: [db]\n  ports: [\"80:80\"]\ndb:\n  image: postgres\nx-common: &c {restart: always}\n";
    let r = run("stack.yml", v1, &NoFiles);
    assert_eq!(r.format, Format::Compose);
    assert_eq!(
        workloads(&r),
        [
            ("web".into(), ReadOnly::False),
            ("db".into(), ReadOnly::False)
        ]
    );
    // A top-level entry with a Helm-style image, or a key no service has, is not a service.
    let values = b"web:\n  image:\n    repository: nginx\n    tag: 1.27\n";
    assert_eq!(run("v.yml", values, &NoFiles).format, Format::Skipped);
    let values = b"web:\n  image: nginx\n  nodeSelector: {}\n";
    assert_eq!(run("v.yml", values, &NoFiles).format, Format::Skipped);
    // Named Compose, the lenient reading stays: the odd entry is a problem Compose reports.
    let named = run(
        "docker-compose.yml",
        b"web:\n  image: nginx\nfoo: 1\n",
        &NoFiles,
    );
    assert_eq!(named.format, Format::Compose);
    assert_eq!(named.findings[0].rule, "invalid-file");
}

#[test]
fn a_file_inside_a_chart_is_never_compose_unless_named_so() {
    let v1 = "web:\n  image: nginx\n";
    let files = Files(HashMap::from([
        (
            "charts/web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        ),
        ("charts/web/tests/web_test.yaml", v1),
    ]));
    for path in [
        "charts/web/tests/web_test.yaml",
        "charts/web/values.yaml",
        "charts/web/ci/small-values.yaml",
    ] {
        let r = run(path, v1.as_bytes(), &files);
        assert_eq!(r.skipped_reason.as_deref(), Some(NOT_RECOGNISED), "{path}");
    }
    assert_eq!(
        run("elsewhere/web.yaml", v1.as_bytes(), &files).format,
        Format::Compose
    );
    let named = run("charts/web/docker-compose.yml", v1.as_bytes(), &files);
    assert_eq!(named.format, Format::Compose, "a Compose name decides");
    // A chart's template is a template even when it happens to be valid YAML.
    let t = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{{ .Release.Name }}\"\nspec:\n  containers:\n    - name: a\n      image: nginx\n";
    let r = run("charts/web/templates/pod.yaml", t, &files);
    assert!(
        r.skipped_reason.as_deref().unwrap().starts_with("template"),
        "{r:?}"
    );
}

#[test]
fn real_files_with_markers_inside_strings_are_checked() {
    // Each was skipped as "template: `{{` at line N is not YAML until rendered".
    for (rel, units) in [
        // Traefik labels with `{{ … }}` rules inside quoted strings.
        (
            "bench-corpus/compose/RocketChat__rocketchat-compose__compose.traefik.yml",
            2,
        ),
        (
            "bench-corpus/compose/RocketChat__rocketchat-compose__generated__docker-compose.yml",
            9,
        ),
        // Grafana dashboards inside ConfigMaps (`"legendFormat": "{{ pod }}"`).
        (
            "bench-corpus/helm-rendered/linkerd__linkerd2__charts__linkerd-control-plane.rendered.yaml",
            12,
        ),
        // Notification templates and Prometheus alert annotations.
        (
            "bench-corpus/k8s/argoproj__argo-rollouts__manifests__notifications-install.yaml",
            0,
        ),
        (
            "bench-corpus/k8s/rook__rook__deploy__examples__monitoring__localrules.yaml",
            0,
        ),
        (
            "kustomize/argo-rollouts/notifications/on-rollout-updated.yaml",
            0,
        ),
    ] {
        let name = rel.rsplit('/').next().unwrap();
        let r = run(name, &shared(rel), &NoFiles);
        assert_eq!(r.skipped_reason, None, "{rel}");
        assert_ne!(r.format, Format::Skipped, "{rel}");
        assert_eq!(r.units.len(), units, "{rel}: {:?}", workloads(&r));
    }
}

const VTTABLET: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vttablet-{{uid}}
spec:
  template:
    spec:
      containers:
        - name: vttablet
          image: vitess/lite:v19.0.4
";

#[test]
fn a_marker_in_a_deciding_value_makes_the_unit_unknown_and_says_why() {
    let r = run("vttablet-up.yaml", VTTABLET.as_bytes(), &NoFiles);
    assert_eq!(r.format, Format::Kubernetes);
    assert_eq!(r.units[0].read_only, ReadOnly::Unknown);
    let f = &r.findings[0];
    assert_eq!(f.rule, "read-only-unknown");
    insta::assert_snapshot!(f.message, @"Container `vttablet` of `Deployment/vttablet-{{uid}}`: the read-only status cannot be decided from the file: the name `vttablet-{{uid}}` is filled in by a template before it deploys.");

    let flag = VTTABLET.replace(
        "          image: vitess/lite:v19.0.4\n",
        "          image: vitess/lite:v19.0.4\n          securityContext:\n            readOnlyRootFilesystem: \"{{ro}}\"\n",
    );
    let r = run("vttablet-up.yaml", flag.as_bytes(), &NoFiles);
    assert!(
        r.findings[0]
            .message
            .contains("the read-only flag `{{ro}}` is filled in by a template")
    );

    // A literal `true` decides whatever the name is.
    let ro = VTTABLET.replace(
        "          image: vitess/lite:v19.0.4\n",
        "          image: vitess/lite:v19.0.4\n          securityContext:\n            readOnlyRootFilesystem: true\n",
    );
    let r = run("vttablet-up.yaml", ro.as_bytes(), &NoFiles);
    assert_eq!(r.units[0].read_only, ReadOnly::True);
}

const BASE: &str =
    "services:\n  web:\n    image: nginx\n  db:\n    image: postgres\n    read_only: true\n";
const FRAGMENT: &str = "services:\n  web:\n    ports:\n      - \"8080:80\"\n";

#[test]
fn an_override_fragment_is_listed_as_partial_never_dropped() {
    let files = Files(HashMap::from([
        ("docker-compose.test.yml", BASE),
        ("docker-compose.test.override.yml", FRAGMENT),
    ]));
    // With its base beside it: listed, partial, judged on the merge; the base owns the finding.
    let over = run(
        "docker-compose.test.override.yml",
        FRAGMENT.as_bytes(),
        &files,
    );
    assert_eq!(workloads(&over), [("web".into(), ReadOnly::False)]);
    assert!(over.units[0].partial);
    assert!(over.findings.is_empty(), "{:?}", over.findings);
    let base = run("docker-compose.test.yml", BASE.as_bytes(), &files);
    assert!(base.units.iter().all(|u| !u.partial));
    let writable = |r: &FileReport| {
        r.findings
            .iter()
            .filter(|f| f.rule == "writable-root-filesystem")
            .count()
    };
    assert_eq!(writable(&base), 1);

    // Alone: listed, partial, and judged on the file alone.
    let alone = run(
        "docker-compose.test.override.yml",
        FRAGMENT.as_bytes(),
        &NoFiles,
    );
    assert_eq!(workloads(&alone), [("web".into(), ReadOnly::False)]);
    assert!(alone.units[0].partial);
    assert_eq!(alone.findings[0].rule, "writable-root-filesystem");

    // JSON: `partial: true` on the fragment, absent on whole units (fields are only added).
    let json = serde_json::to_value(&alone.units[0]).unwrap();
    assert_eq!(json["partial"], true);
    let json = serde_json::to_value(&base.units[0]).unwrap();
    assert!(json.get("partial").is_none());
}

#[test]
fn the_text_output_says_a_fragment_is_partial() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker-compose.test.override.yml");
    std::fs::write(&path, FRAGMENT).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .args([
            "check",
            "--color",
            "never",
            "docker-compose.test.override.yml",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    insta::assert_snapshot!(first, @"docker-compose.test.override.yml:2: note: service `web` is partial (no image or build of its own: an override fragment or an `extends` base); it is judged on what this file says");
}
