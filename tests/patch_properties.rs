//! Property tests for the patcher over generated Compose and Kubernetes files: whatever the
//! indentation, sequence style, line endings, comments and flow/block mix, every patch
//! parses, fixes its rule, touches only its lines and is idempotent.

#[path = "support/promises.rs"]
mod promises;

use proptest::prelude::*;

const IMAGES: &[&str] = &[
    "nginx:1.27",
    "nginx:1.27-alpine",
    "redis:7",
    "postgres:16",
    "example/app:1",
    "wordpress:6",
    "\"ghcr.io/acme/api:2\"",
];

#[derive(Debug, Clone)]
struct Layout {
    indent: usize,
    indentless: bool,
    crlf: bool,
    final_newline: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop_oneof![Just(2usize), Just(4)],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(indent, indentless, crlf, final_newline)| Layout {
            indent,
            indentless,
            crlf,
            final_newline,
        })
}

#[derive(Debug, Clone)]
struct Container {
    image: usize,
    /// 0 none, 1 block with another key, 2 flow, 3 explicit false, 4 empty flow, 5 string "true"
    security: u8,
    mounts: bool,
    comment: bool,
}

fn container() -> impl Strategy<Value = Container> {
    (0..IMAGES.len(), 0u8..6, any::<bool>(), any::<bool>()).prop_map(
        |(image, security, mounts, comment)| Container {
            image,
            security,
            mounts,
            comment,
        },
    )
}

fn finish(lines: Vec<String>, l: &Layout) -> String {
    let eol = if l.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    if l.final_newline {
        text.push_str(eol);
    }
    text
}

fn k8s(l: &Layout, containers: &[Container], volumes: bool) -> String {
    let i = |n: usize| " ".repeat(n * l.indent);
    let dash = |n: usize| {
        if l.indentless {
            format!("{}- ", i(n))
        } else {
            format!("{}- ", i(n + 1))
        }
    };
    let item = |n: usize| {
        if l.indentless {
            " ".repeat(n * l.indent + 2)
        } else {
            " ".repeat((n + 1) * l.indent + 2)
        }
    };
    let mut out = vec![
        "apiVersion: apps/v1".to_string(),
        "kind: Deployment".into(),
        "metadata:".into(),
        format!("{}name: web # the web tier", i(1)),
        "spec:".into(),
        format!("{}template:", i(1)),
        format!("{}spec:", i(2)),
        format!("{}containers:", i(3)),
    ];
    for (n, c) in containers.iter().enumerate() {
        if c.comment {
            out.push(format!("{}# container {n}", item(3)));
        }
        out.push(format!("{}name: c{n}", dash(3)));
        out.push(format!("{}image: {}", item(3), IMAGES[c.image]));
        match c.security {
            1 => {
                out.push(format!("{}securityContext:", item(3)));
                out.push(format!("{}{}runAsNonRoot: true", item(3), i(1)));
            }
            2 => out.push(format!("{}securityContext: {{runAsUser: 1000}}", item(3))),
            3 => {
                out.push(format!("{}securityContext:", item(3)));
                out.push(format!(
                    "{}{}readOnlyRootFilesystem: false  # why",
                    item(3),
                    i(1)
                ));
            }
            4 => out.push(format!("{}securityContext: {{}}", item(3))),
            5 => {
                out.push(format!("{}securityContext:", item(3)));
                out.push(format!(
                    "{}{}readOnlyRootFilesystem: \"true\"",
                    item(3),
                    i(1)
                ));
            }
            _ => {}
        }
        if c.mounts {
            out.push(format!("{}volumeMounts:", item(3)));
            let dash2 = if l.indentless {
                format!("{}- ", item(3))
            } else {
                format!("{}{}- ", item(3), i(1))
            };
            out.push(format!("{dash2}name: config"));
            out.push(format!("{}mountPath: /etc/config", " ".repeat(dash2.len())));
        }
    }
    if volumes {
        out.push(format!("{}volumes:", i(3)));
        out.push(format!("{}name: config", dash(3)));
        out.push(format!("{}configMap: {{name: web-config}}", item(3)));
    }
    finish(out, l)
}

#[derive(Debug, Clone)]
struct Service {
    image: usize,
    /// 0 absent, 1 false, 2 true, 3 flow body
    read_only: u8,
    /// 0 none, 1 block list, 2 flow list, 3 scalar
    tmpfs: u8,
    user: bool,
}

fn service() -> impl Strategy<Value = Service> {
    (0..IMAGES.len(), 0u8..4, 0u8..4, any::<bool>()).prop_map(|(image, read_only, tmpfs, user)| {
        Service {
            image,
            read_only,
            tmpfs,
            user,
        }
    })
}

fn compose(l: &Layout, services: &[Service]) -> String {
    let i = |n: usize| " ".repeat(n * l.indent);
    let mut out = vec!["# generated".to_string(), "services:".into()];
    for (n, s) in services.iter().enumerate() {
        if s.read_only == 3 {
            out.push(format!("{}s{n}: {{image: {}}}", i(1), IMAGES[s.image]));
            continue;
        }
        out.push(format!("{}s{n}:", i(1)));
        out.push(format!("{}image: {}", i(2), IMAGES[s.image]));
        match s.read_only {
            1 => out.push(format!("{}read_only: false", i(2))),
            2 => out.push(format!("{}read_only: true", i(2))),
            _ => {}
        }
        if s.user {
            out.push(format!("{}user: \"1000\"", i(2)));
        }
        match s.tmpfs {
            1 => {
                out.push(format!("{}tmpfs:", i(2)));
                let d = if l.indentless { i(2) } else { i(3) };
                out.push(format!("{d}- /tmp"));
            }
            2 => out.push(format!("{}tmpfs: [/tmp]", i(2))),
            3 => out.push(format!("{}tmpfs: /tmp", i(2))),
            _ => {}
        }
    }
    finish(out, l)
}

fn check_all(name: &str, text: &str) {
    let report = promises::run(name, text);
    assert!(
        !report.findings.iter().any(|f| f.rule == "invalid-file"),
        "generated file is invalid: {text}"
    );
    for f in &report.findings {
        if let Some(fix) = &f.fix {
            promises::assert_patch_keeps_promises(name, text, f, fix);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn kubernetes_patches(l in layout(), cs in prop::collection::vec(container(), 1..4), volumes in any::<bool>()) {
        let text = k8s(&l, &cs, volumes);
        check_all("deploy.yaml", &text);
    }

    #[test]
    fn compose_patches(l in layout(), ss in prop::collection::vec(service(), 1..4)) {
        let text = compose(&l, &ss);
        check_all("compose.yaml", &text);
    }
}
