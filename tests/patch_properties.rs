//! Property tests for the patcher over generated Compose and Kubernetes files: whatever the
//! indentation, sequence style, line endings, comments and flow/block mix, every patch
//! parses, fixes its rule, touches only its lines and is idempotent.
//!
//! The second half writes the same manifests in flow style and as JSON (one object, or a
//! stream of concatenated objects as kubectl reads them), in every shape a person or a tool
//! writes them: trailing commas or not, closing brackets on their own lines or hugging the
//! last entry, `[{` on one line, flow nested in block, empty `{}` and `[]`, quoted keys,
//! tight `"key":value` spacing. Patches must keep the file parsing, fix the unit, keep every
//! byte they do not mean to change, keep JSON JSON, and `--fix` must converge in one go.

#[path = "support/promises.rs"]
mod promises;

use immutabot::analyze::{NoFiles, analyze};
use immutabot::cli::fix::fix_bytes;
use immutabot::config::Config;
use immutabot::model::{Finding, Fix};
use immutabot::patch;
use immutabot::yaml::{Limits, Stream};
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

// ---- Flow style and JSON -------------------------------------------------------------

const FLOW_IMAGES: &[&str] = &[
    "nginx:1.27",
    "nginx:1.27-alpine",
    "redis:7",
    "postgres:16",
    "example/app:1",
    "wordpress:6",
    "ghcr.io/acme/api:2",
];

/// A manifest as a tree, written out in one of many shapes by [`Emitter`].
#[derive(Debug, Clone)]
enum Tree {
    Str(String),
    /// Written as is: numbers, booleans, `null`.
    Raw(&'static str),
    Map(Vec<(String, Tree)>),
    Seq(Vec<Tree>),
}

fn map(entries: Vec<(&str, Tree)>) -> Tree {
    Tree::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn st(s: &str) -> Tree {
    Tree::Str(s.to_string())
}

#[derive(Debug, Clone)]
struct FlowContainer {
    image: usize,
    /// 0 none, 1 `{runAsNonRoot: true}`, 2 `{}`, 3 explicit false, 4 null, 5 string "true"
    security: u8,
    /// 0 none, 1 a mount, 2 `[]`, 3 null
    mounts: u8,
    ports: bool,
    /// Rotates the entries so that any of them can be the last one.
    rot: usize,
}

fn flow_container() -> impl Strategy<Value = FlowContainer> {
    (
        0..FLOW_IMAGES.len(),
        0u8..6,
        0u8..4,
        any::<bool>(),
        0usize..6,
    )
        .prop_map(|(image, security, mounts, ports, rot)| FlowContainer {
            image,
            security,
            mounts,
            ports,
            rot,
        })
}

#[derive(Debug, Clone)]
struct Workload {
    deployment: bool,
    containers: Vec<FlowContainer>,
    /// 0 none, 1 a config volume, 2 `[]`
    volumes: u8,
}

fn workload() -> impl Strategy<Value = Workload> {
    (
        any::<bool>(),
        prop::collection::vec(flow_container(), 1..4),
        0u8..3,
    )
        .prop_map(|(deployment, containers, volumes)| Workload {
            deployment,
            containers,
            volumes,
        })
}

fn container_tree(n: usize, c: &FlowContainer) -> Tree {
    let mut e = vec![
        ("name".to_string(), Tree::Str(format!("c{n}"))),
        ("image".into(), st(FLOW_IMAGES[c.image])),
    ];
    if c.ports {
        e.push((
            "ports".into(),
            Tree::Seq(vec![map(vec![("containerPort", Tree::Raw("8080"))])]),
        ));
    }
    let security = match c.security {
        1 => Some(map(vec![("runAsNonRoot", Tree::Raw("true"))])),
        2 => Some(map(vec![])),
        3 => Some(map(vec![("readOnlyRootFilesystem", Tree::Raw("false"))])),
        4 => Some(Tree::Raw("null")),
        5 => Some(map(vec![("readOnlyRootFilesystem", st("true"))])),
        _ => None,
    };
    if let Some(sc) = security {
        e.push(("securityContext".into(), sc));
    }
    let mounts = match c.mounts {
        1 => Some(Tree::Seq(vec![map(vec![
            ("name", st("config")),
            ("mountPath", st("/etc/config")),
        ])])),
        2 => Some(Tree::Seq(vec![])),
        3 => Some(Tree::Raw("null")),
        _ => None,
    };
    if let Some(m) = mounts {
        e.push(("volumeMounts".into(), m));
    }
    let r = c.rot % e.len();
    e.rotate_left(r);
    Tree::Map(e)
}

fn workload_tree(i: usize, w: &Workload) -> Tree {
    let name = format!("web{i}");
    let mut spec = vec![(
        "containers",
        Tree::Seq(
            w.containers
                .iter()
                .enumerate()
                .map(|(n, c)| container_tree(n, c))
                .collect(),
        ),
    )];
    match w.volumes {
        1 => spec.push((
            "volumes",
            Tree::Seq(vec![map(vec![
                ("name", st("config")),
                ("configMap", map(vec![("name", st("web-config"))])),
            ])]),
        )),
        2 => spec.push(("volumes", Tree::Seq(vec![]))),
        _ => {}
    }
    let labels = || map(vec![("app", st("web"))]);
    let pod = map(spec);
    if w.deployment {
        map(vec![
            ("apiVersion", st("apps/v1")),
            ("kind", st("Deployment")),
            (
                "metadata",
                map(vec![("name", st(&name)), ("labels", labels())]),
            ),
            (
                "spec",
                map(vec![
                    ("replicas", Tree::Raw("2")),
                    ("selector", map(vec![("matchLabels", labels())])),
                    (
                        "template",
                        map(vec![
                            ("metadata", map(vec![("labels", labels())])),
                            ("spec", pod),
                        ]),
                    ),
                ]),
            ),
        ])
    } else {
        map(vec![
            ("apiVersion", st("v1")),
            ("kind", st("Pod")),
            ("metadata", map(vec![("name", st(&name))])),
            ("spec", pod),
        ])
    }
}

#[derive(Debug, Clone)]
struct FlowService {
    image: usize,
    /// 0 absent, 1 false, 2 true
    read_only: u8,
    /// 0 none, 1 `[/tmp]`, 2 `[]`, 3 the scalar `/tmp`
    tmpfs: u8,
    /// 0 none, 1 `1000`, 2 `1000:1000`, 3 `www-data`
    user: u8,
    /// The service is written with an empty body (`s0: null`).
    empty: bool,
    rot: usize,
}

fn flow_service() -> impl Strategy<Value = FlowService> {
    (
        0..FLOW_IMAGES.len(),
        0u8..3,
        0u8..4,
        0u8..4,
        prop::bool::weighted(0.15),
        0usize..6,
    )
        .prop_map(|(image, read_only, tmpfs, user, empty, rot)| FlowService {
            image,
            read_only,
            tmpfs,
            user,
            empty,
            rot,
        })
}

fn compose_tree(services: &[FlowService]) -> Tree {
    let body = |s: &FlowService| {
        if s.empty {
            return Tree::Raw("null");
        }
        let mut e = vec![
            ("image".to_string(), st(FLOW_IMAGES[s.image])),
            ("ports".into(), Tree::Seq(vec![st("8080:80")])),
        ];
        match s.read_only {
            1 => e.push(("read_only".into(), Tree::Raw("false"))),
            2 => e.push(("read_only".into(), Tree::Raw("true"))),
            _ => {}
        }
        match s.user {
            1 => e.push(("user".into(), st("1000"))),
            2 => e.push(("user".into(), st("1000:1000"))),
            3 => e.push(("user".into(), st("www-data"))),
            _ => {}
        }
        match s.tmpfs {
            1 => e.push(("tmpfs".into(), Tree::Seq(vec![st("/tmp")]))),
            2 => e.push(("tmpfs".into(), Tree::Seq(vec![]))),
            3 => e.push(("tmpfs".into(), st("/tmp"))),
            _ => {}
        }
        let r = s.rot % e.len();
        e.rotate_left(r);
        Tree::Map(e)
    };
    let services = services
        .iter()
        .enumerate()
        .map(|(n, s)| (format!("s{n}"), body(s)))
        .collect();
    map(vec![("services", Tree::Map(services))])
}

/// How a file writes its collections. Each collection picks its own layout from `seed`, so
/// one file mixes them as hand-edited files do.
#[derive(Debug, Clone)]
struct Shape {
    json: bool,
    /// Levels of block mappings above the flow part (0: the whole document is flow).
    block_depth: usize,
    indent: usize,
    colon: &'static str,
    quote_keys: bool,
    quote_strings: bool,
    trailing_commas: bool,
    crlf: bool,
    /// Start each YAML document with `---`.
    doc_start: bool,
    seed: u64,
}

fn yaml_flow_shape() -> impl Strategy<Value = Shape> {
    (
        0usize..4,
        prop_oneof![Just(2usize), Just(4)],
        (any::<bool>(), any::<bool>()),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(
                block_depth,
                indent,
                (quote_keys, tight),
                quote_strings,
                trailing,
                crlf,
                doc_start,
                seed,
            )| Shape {
                json: false,
                block_depth,
                indent,
                colon: if quote_keys && tight { ":" } else { ": " },
                quote_keys,
                quote_strings,
                trailing_commas: trailing,
                crlf,
                doc_start,
                seed,
            },
        )
}

fn json_shape() -> impl Strategy<Value = Shape> {
    (
        prop_oneof![Just(2usize), Just(3), Just(4)],
        prop_oneof![Just(": "), Just(":"), Just(" : ")],
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(indent, colon, crlf, seed)| Shape {
            json: true,
            block_depth: 0,
            indent,
            colon,
            quote_keys: true,
            quote_strings: true,
            trailing_commas: false,
            crlf,
            doc_start: false,
            seed,
        })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Lay {
    /// `{a: 1, b: 2}`
    Inline,
    /// One entry per line, the closing bracket on a line of its own.
    Lines,
    /// One entry per line, the closing bracket right after the last entry.
    Hug,
}

struct Emitter<'a> {
    shape: &'a Shape,
    rng: u64,
}

impl Emitter<'_> {
    fn eol(&self) -> &'static str {
        if self.shape.crlf { "\r\n" } else { "\n" }
    }

    fn pick(&mut self, n: u64) -> u64 {
        // xorshift: the same seed gives the same file, so failures replay.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n
    }

    fn key(&self, k: &str) -> String {
        let colon = if self.shape.quote_keys || self.shape.json {
            self.shape.colon
        } else {
            ": "
        };
        if self.shape.quote_keys || self.shape.json {
            format!("\"{k}\"{colon}")
        } else {
            format!("{k}{colon}")
        }
    }

    /// A whole document: block mappings down to `block_depth`, flow below.
    fn document(&mut self, t: &Tree) -> String {
        if self.shape.block_depth == 0 {
            return self.flow(t, "", false);
        }
        let mut lines = Vec::new();
        self.block(t, 0, &mut lines);
        lines.join(self.eol())
    }

    fn block(&mut self, t: &Tree, depth: usize, lines: &mut Vec<String>) {
        let Tree::Map(entries) = t else {
            unreachable!()
        };
        let pad = " ".repeat(depth * self.shape.indent);
        for (k, v) in entries {
            match v {
                Tree::Map(inner) if !inner.is_empty() && depth + 1 < self.shape.block_depth => {
                    lines.push(format!("{pad}{k}:"));
                    self.block(v, depth + 1, lines);
                }
                _ => {
                    // Flow lines inside block context are indented deeper than their key.
                    let deeper = format!("{pad}{}", " ".repeat(self.shape.indent));
                    let value = self.flow(v, &deeper, false);
                    lines.push(format!("{pad}{k}: {value}"));
                }
            }
        }
    }

    /// A flow value whose closing bracket (when on its own line) sits at `pad`.
    fn flow(&mut self, t: &Tree, pad: &str, inline: bool) -> String {
        match t {
            Tree::Str(s) if self.shape.json || self.shape.quote_strings => format!("\"{s}\""),
            Tree::Str(s) => s.clone(),
            Tree::Raw(r) => r.to_string(),
            Tree::Map(e) if e.is_empty() => "{}".into(),
            Tree::Seq(i) if i.is_empty() => "[]".into(),
            Tree::Map(entries) => {
                let lay = self.lay(inline);
                let inner = self.inner_pad(pad, lay);
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| {
                        let v = self.flow(v, &inner, lay == Lay::Inline);
                        format!("{}{v}", self.key(k))
                    })
                    .collect();
                self.collection('{', '}', &parts, pad, &inner, lay)
            }
            Tree::Seq(items) => {
                let lay = self.lay(inline);
                let maps = items
                    .iter()
                    .all(|i| matches!(i, Tree::Map(e) if !e.is_empty()));
                if lay != Lay::Inline && maps && self.pick(2) == 0 {
                    // `[{` … `}, {` … `}]`: the items' brackets hug the sequence's.
                    let parts: Vec<String> =
                        items.iter().map(|i| self.flow_lines(i, pad)).collect();
                    return format!("[{}]", parts.join(", "));
                }
                let inner = self.inner_pad(pad, lay);
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| self.flow(i, &inner, lay == Lay::Inline))
                    .collect();
                self.collection('[', ']', &parts, pad, &inner, lay)
            }
        }
    }

    /// A mapping with one entry per line and its closing bracket at `pad`.
    fn flow_lines(&mut self, t: &Tree, pad: &str) -> String {
        let Tree::Map(entries) = t else {
            unreachable!()
        };
        let inner = self.inner_pad(pad, Lay::Lines);
        let parts: Vec<String> = entries
            .iter()
            .map(|(k, v)| {
                let v = self.flow(v, &inner, false);
                format!("{}{v}", self.key(k))
            })
            .collect();
        self.collection('{', '}', &parts, pad, &inner, Lay::Lines)
    }

    fn lay(&mut self, inline: bool) -> Lay {
        if inline {
            return Lay::Inline;
        }
        match self.pick(5) {
            0 => Lay::Inline,
            1 => Lay::Hug,
            _ => Lay::Lines,
        }
    }

    fn inner_pad(&self, pad: &str, lay: Lay) -> String {
        match lay {
            Lay::Inline => pad.to_string(),
            _ => format!("{pad}{}", " ".repeat(self.shape.indent)),
        }
    }

    fn collection(
        &self,
        open: char,
        close: char,
        parts: &[String],
        pad: &str,
        inner: &str,
        lay: Lay,
    ) -> String {
        let trail = if self.shape.trailing_commas { "," } else { "" };
        let eol = self.eol();
        let one_per_line = || {
            parts
                .iter()
                .map(|p| format!("{inner}{p}"))
                .collect::<Vec<_>>()
                .join(&format!(",{eol}"))
        };
        match lay {
            Lay::Inline => format!("{open}{}{trail}{close}", parts.join(", ")),
            Lay::Lines => format!("{open}{eol}{}{trail}{eol}{pad}{close}", one_per_line()),
            Lay::Hug => format!("{open}{eol}{}{trail}{close}", one_per_line()),
        }
    }
}

/// Writes documents as one file: YAML documents (with `---` between them), or JSON objects
/// one after another separated by `sep`.
fn emit(shape: &Shape, docs: &[Tree], sep: &str) -> String {
    let mut e = Emitter {
        shape,
        rng: shape.seed | 1,
    };
    let eol = e.eol();
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        let body = e.document(d);
        if shape.json {
            if i > 0 {
                out.push_str(sep);
            }
            out.push_str(&body);
        } else {
            if shape.doc_start || i > 0 {
                out.push_str("---");
                out.push_str(eol);
            }
            out.push_str(&body);
            out.push_str(eol);
        }
    }
    if shape.json {
        out.push_str(eol);
    }
    out
}

/// The JSON values of a text read as a stream of them, or why it is not one.
fn json_values(text: &str) -> Result<usize, String> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<serde::de::IgnoredAny>()
        .try_fold(0, |n, v| v.map(|_| n + 1).map_err(|e| e.to_string()))
}

/// Whether `kept`'s characters appear in `text` in order: nothing of it was deleted.
fn is_subsequence(kept: &str, text: &str) -> bool {
    let mut rest = text.chars();
    kept.chars().all(|c| rest.by_ref().any(|t| t == c))
}

/// A patch only inserts, except for the value it switches or fills in: with those removed,
/// the replaced lines are a subsequence of the replacement.
fn assert_keeps_bytes(text: &str, fix: &Fix) {
    let lines: Vec<&str> = text.split_inclusive(['\n']).collect();
    let old: String = lines[fix.start_line - 1..fix.end_line].concat();
    let mut kept = old.clone();
    for token in ["false", "null", "\"true\""] {
        kept = kept.replace(token, "");
    }
    assert!(
        is_subsequence(&kept, &fix.replacement),
        "`{}` deletes bytes it should keep:\n--- before\n{old}\n--- after\n{}",
        fix.description,
        fix.replacement
    );
}

fn analyze_as(name: &str) -> impl Fn(&[u8]) -> immutabot::model::FileReport + '_ {
    move |b: &[u8]| analyze(name, b, &Config::default(), &NoFiles)
}

/// Every promise of every patch, then `--fix` on the whole file: it re-parses, checks clean
/// for writable root file systems, stays JSON (as many values as before) when it was, and a
/// second `--fix` changes nothing.
fn check_flow(name: &str, text: &str, json_docs: Option<usize>) {
    if let Some(n) = json_docs {
        assert_eq!(
            json_values(text),
            Ok(n),
            "generated JSON is not JSON:\n{text}"
        );
    }
    check_all(name, text);
    let report = promises::run(name, text);
    let fixes: Vec<(&Finding, &Fix)> = report
        .findings
        .iter()
        .filter_map(|f| f.fix.as_ref().map(|x| (f, x)))
        .collect();
    for (f, fix) in &fixes {
        assert_keeps_bytes(text, fix);
        if let Some(n) = json_docs {
            let patched = patch::apply(text, fix).unwrap();
            assert_eq!(
                json_values(&patched),
                Ok(n),
                "{name}: `{}` ({}) leaves a file that is not JSON:\n{patched}",
                fix.description,
                f.rule
            );
        }
    }
    let fixed = fix_bytes(text.as_bytes().to_vec(), analyze_as(name));
    let out = String::from_utf8(fixed.bytes.clone()).unwrap();
    let s = Stream::parse(&out, Limits::default());
    assert!(
        s.error.is_none(),
        "{name}: --fix output does not parse: {:?}\n{out}",
        s.error
    );
    let left: Vec<&Finding> = fixed
        .report
        .findings
        .iter()
        .filter(|f| f.rule == "writable-root-filesystem" || f.rule == "invalid-file")
        .collect();
    assert!(left.is_empty(), "{name}: after --fix:\n{out}\n{left:#?}");
    if let Some(n) = json_docs {
        assert_eq!(
            json_values(&out),
            Ok(n),
            "{name}: --fix output is not JSON:\n{out}"
        );
    }
    let again = fix_bytes(fixed.bytes.clone(), analyze_as(name));
    assert_eq!(
        again.applied, 0,
        "{name}: a second --fix changes the file:\n{out}"
    );
}

fn json_sep() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just(""), Just(" "), Just("\n\n"), Just("\r\n")]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn flow_kubernetes_patches(shape in yaml_flow_shape(), ws in prop::collection::vec(workload(), 1..3)) {
        let docs: Vec<Tree> = ws.iter().enumerate().map(|(i, w)| workload_tree(i, w)).collect();
        check_flow("deploy.yaml", &emit(&shape, &docs, ""), None);
    }

    #[test]
    fn json_kubernetes_patches(shape in json_shape(), w in workload()) {
        check_flow("deploy.json", &emit(&shape, &[workload_tree(0, &w)], ""), Some(1));
    }

    #[test]
    fn json_stream_patches(shape in json_shape(), ws in prop::collection::vec(workload(), 2..4), sep in json_sep()) {
        let docs: Vec<Tree> = ws.iter().enumerate().map(|(i, w)| workload_tree(i, w)).collect();
        check_flow("list.json", &emit(&shape, &docs, sep), Some(docs.len()));
    }

    #[test]
    fn flow_compose_patches(shape in yaml_flow_shape(), ss in prop::collection::vec(flow_service(), 1..4)) {
        check_flow("compose.yaml", &emit(&shape, &[compose_tree(&ss)], ""), None);
    }

    #[test]
    fn json_compose_patches(shape in json_shape(), ss in prop::collection::vec(flow_service(), 1..4)) {
        check_flow("compose.json", &emit(&shape, &[compose_tree(&ss)], ""), Some(1));
    }
}
