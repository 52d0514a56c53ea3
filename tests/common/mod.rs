//! A hand-built report shared by the renderer tests: it covers every severity, a suppressed
//! finding, a fix, a skipped file and characters that need escaping.

#![allow(dead_code)]

use immutabot::model::*;
use immutabot::output::Sources;

pub const COMPOSE: &str = "services:\n  web:\n    image: nginx\n  db:\n    image: postgres\n    read_only: true\n    tmpfs: /tmp\n";
pub const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/api:1.0\n";

pub fn finding(rule: &str, severity: Severity, line: usize, end_line: usize) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        line,
        end_line,
        column: 3,
        message: format!("{rule} at line {line}"),
        workload: None,
        container: None,
        fix: None,
        suppressed: None,
        expired: None,
    }
}

pub fn report() -> Report {
    let compose = FileReport {
        path: "compose.yml".into(),
        format: Format::Compose,
        skipped_reason: None,
        units: vec![
            Unit {
                workload: "web".into(),
                namespace: None,
                container: None,
                role: Role::Service,
                image: Some("nginx".into()),
                line: 2,
                read_only: ReadOnly::False,
                partial: false,
            },
            Unit {
                workload: "db".into(),
                namespace: None,
                container: None,
                role: Role::Service,
                image: Some("postgres".into()),
                line: 4,
                read_only: ReadOnly::Suppressed,
                partial: false,
            },
        ],
        findings: vec![
            Finding {
                workload: Some("web".into()),
                message: "Service `web` can write to its root file system.".into(),
                fix: Some(Fix {
                    description: "Set `read_only: true` on service `web`".into(),
                    start_line: 2,
                    end_line: 3,
                    replacement: "  web:\n    image: nginx\n    read_only: true\n".into(),
                }),
                ..finding("writable-root-filesystem", Severity::Error, 2, 3)
            },
            Finding {
                workload: Some("db".into()),
                message: "tmpfs `/tmp` is owned by root, 100%: the process runs as uid 999, so it cannot write there.\nSet uid=999.".into(),
                suppressed: Some(Suppression {
                    kind: SuppressionKind::Comment,
                    reason: "legacy image".into(),
                    expires: None,
                    origin: String::new(),
                }),
                ..finding("tmpfs-owned-by-root", Severity::Warning, 7, 7)
            },
        ],
        rendered: None,
    };
    let deploy = FileReport {
        path: "k8s/deploy, v1.yaml".into(),
        format: Format::Kubernetes,
        skipped_reason: None,
        units: vec![Unit {
            workload: "Deployment/api".into(),
            namespace: Some("prod".into()),
            container: Some("app".into()),
            role: Role::Container,
            image: Some("ghcr.io/acme/api:1.0".into()),
            line: 9,
            read_only: ReadOnly::True,
            partial: false,
        }],
        findings: vec![
            Finding {
                workload: Some("Deployment/api".into()),
                container: Some("app".into()),
                message: "Image `ghcr.io/acme/api` may need a writable /tmp.".into(),
                ..finding("missing-scratch-mount", Severity::Warning, 9, 10)
            },
            Finding {
                workload: Some("Deployment/api".into()),
                container: Some("app".into()),
                message: "Read-only status of `app` is set from a variable.".into(),
                suppressed: Some(Suppression {
                    kind: SuppressionKind::Config,
                    reason: String::new(),
                    expires: None,
                    origin: String::new(),
                }),
                ..finding("read-only-unknown", Severity::Info, 10, 10)
            },
        ],
        rendered: None,
    };
    let chart = FileReport {
        path: "charts/web/templates/deploy.yaml".into(),
        format: Format::Skipped,
        skipped_reason: Some("Helm template: not YAML".into()),
        units: vec![],
        findings: vec![],
        rendered: None,
    };
    Report::new(vec![deploy, compose, chart])
}

pub fn sources() -> Sources {
    let mut s = Sources::new();
    s.insert("compose.yml".into(), COMPOSE.into());
    s.insert("k8s/deploy, v1.yaml".into(), DEPLOY.into());
    s
}
