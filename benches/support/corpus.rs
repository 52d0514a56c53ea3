//! A deterministic generator of realistic Compose and Kubernetes files, for benchmarks.
//!
//! Shared by the criterion bench (`benches/analyze.rs`, in memory) and by the `gen-corpus`
//! example (`benches/support/gen_corpus.rs`, to disk, used by `scripts/bench`). Same seed and
//! index, same bytes: every file is generated from its own xorshift stream, so the corpus does
//! not depend on the order or number of files generated before it.
//!
//! The mix (by file): about 40 % Compose (v2.x, v3.x stack files with `deploy:`, the
//! version-less specification with `x-` anchors and `<<` merge keys), 55 % Kubernetes
//! (multi-document Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods, `kind: List`,
//! JSON manifests, with and without `securityContext`, `emptyDir` scratch volumes, init
//! containers, big ConfigMaps) and 5 % other YAML a repository scan meets (Helm templates,
//! CI workflows, kustomizations, an empty file). Sizes: mostly 1–15 KB, a few tens of KB, and
//! one file in 500 between 0.5 and 1.1 MB.

#![allow(dead_code)]

use std::fmt::Write as _;

/// A small, fast, seedable PRNG (xorshift64*), seeded through splitmix64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u32) -> bool {
        self.below(1000) < pct as usize * 10
    }

    /// True with probability `permille` per thousand.
    pub fn permille(&mut self, permille: u32) -> bool {
        self.below(1000) < permille as usize
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Which kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Docker Compose / Swarm stack file.
    Compose,
    /// Kubernetes manifests (YAML or JSON).
    Kubernetes,
    /// Other YAML a scan of a repository meets.
    Misc,
}

/// Rough target size of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 1–5 KB.
    Small,
    /// 5–15 KB.
    Medium,
    /// 15–60 KB.
    Large,
    /// 0.5–1.1 MB.
    Huge,
}

impl Size {
    fn target(self, rng: &mut Rng) -> usize {
        match self {
            Size::Small => rng.range(1_000, 5_000),
            Size::Medium => rng.range(5_000, 15_000),
            Size::Large => rng.range(15_000, 60_000),
            Size::Huge => rng.range(500_000, 1_100_000),
        }
    }
}

/// One generated file.
#[derive(Debug, Clone)]
pub struct GenFile {
    /// Relative path with forward slashes: `compose/…`, `k8s/…` or `misc/…`.
    pub path: String,
    /// The content.
    pub bytes: Vec<u8>,
    /// What it is.
    pub family: Family,
}

/// File number `index` of the corpus for `seed`, with the default mix of families and sizes.
pub fn file(seed: u64, index: usize) -> GenFile {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    let family = match rng.below(100) {
        0..40 => Family::Compose,
        40..95 => Family::Kubernetes,
        _ => Family::Misc,
    };
    let size = match rng.below(1000) {
        0..700 => Size::Small,
        700..950 => Size::Medium,
        950..998 => Size::Large,
        _ => Size::Huge,
    };
    // Huge Compose files do not exist in the wild; huge Kubernetes bundles do.
    let family = if size == Size::Huge && family != Family::Kubernetes {
        Family::Kubernetes
    } else {
        family
    };
    file_of(seed, index, family, size)
}

/// File number `index` with a given family and size (used by the criterion bench).
pub fn file_of(seed: u64, index: usize, family: Family, size: Size) -> GenFile {
    let mut rng = Rng::new(
        seed.rotate_left(17) ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED,
    );
    let target = size.target(&mut rng);
    let shard = index / 100;
    let (path, mut text) = match family {
        Family::Compose => {
            let name = *rng.pick(&[
                "docker-compose.yml",
                "docker-compose.yaml",
                "compose.yaml",
                "compose.yml",
                "docker-compose.prod.yml",
                "stack.yml",
                "docker-compose.override.yml",
            ]);
            (
                format!("compose/g{shard:03}/{index:06}-{name}"),
                compose_file(&mut rng, target),
            )
        }
        Family::Kubernetes => {
            let json = size != Size::Huge && rng.chance(6);
            let (stem, text) = k8s_file(&mut rng, target, json);
            let ext = if json {
                "json"
            } else {
                rng.pick(&["yaml", "yaml", "yml"])
            };
            (format!("k8s/g{shard:03}/{index:06}-{stem}.{ext}"), text)
        }
        Family::Misc => {
            let (name, text) = misc_file(&mut rng, target);
            (format!("misc/g{shard:03}/{index:06}-{name}"), text)
        }
    };
    if family != Family::Misc || !text.is_empty() {
        // Windows line endings in a few files, a byte-order mark in fewer.
        if rng.chance(2) && !text.contains('\r') {
            text = text.replace('\n', "\r\n");
        }
        if rng.permille(5) {
            text.insert(0, '\u{feff}');
        }
    }
    GenFile {
        path,
        bytes: text.into_bytes(),
        family,
    }
}

// ---------------------------------------------------------------------------------------------
// A tiny YAML/JSON tree and emitter, so that every generated file is well formed.

/// A scalar as it is written in YAML; `json` is its JSON rendering.
#[derive(Debug, Clone)]
struct Scalar {
    yaml: String,
    json: serde_json::Value,
}

#[derive(Debug, Clone)]
enum Y {
    S(Scalar),
    /// An alias (`*name`); YAML only.
    Alias(String),
    /// A literal block scalar (`|`).
    Block(String),
    M(Vec<E>),
    L(Vec<Y>),
}

#[derive(Debug, Clone)]
struct E {
    key: String,
    value: Y,
    anchor: Option<String>,
    /// A comment line written above the key.
    above: Option<String>,
    /// A comment written after a scalar value.
    trailing: Option<String>,
}

fn e(key: &str, value: Y) -> E {
    E {
        key: key.to_string(),
        value,
        anchor: None,
        above: None,
        trailing: None,
    }
}

/// A string scalar, quoted when YAML would read it as something else.
fn s(v: impl Into<String>) -> Y {
    let v = v.into();
    let plain_ok = !v.is_empty()
        && !v.starts_with(|c: char| "!&*-?{}[],#|>@`\"'%: ".contains(c) || c.is_ascii_digit())
        && !v.contains(": ")
        && !v.contains(" #")
        && !v.ends_with(':')
        && !v.ends_with(' ')
        && !matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
        );
    let yaml = if plain_ok {
        v.clone()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    };
    Y::S(Scalar {
        yaml,
        json: serde_json::Value::String(v),
    })
}

/// A string scalar written in single quotes.
fn sq(v: impl Into<String>) -> Y {
    let v = v.into();
    Y::S(Scalar {
        yaml: format!("'{}'", v.replace('\'', "''")),
        json: serde_json::Value::String(v),
    })
}

/// A scalar written exactly as given (numbers, booleans, interpolations).
fn raw(yaml: impl AsRef<str>) -> Y {
    let yaml = yaml.as_ref();
    let json = if let Ok(n) = yaml.parse::<i64>() {
        serde_json::Value::from(n)
    } else if yaml == "true" || yaml == "false" {
        serde_json::Value::Bool(yaml == "true")
    } else {
        serde_json::Value::String(yaml.trim_matches(['"', '\'']).to_string())
    };
    Y::S(Scalar {
        yaml: yaml.to_string(),
        json,
    })
}

fn int(n: usize) -> Y {
    raw(n.to_string())
}

fn boolean(b: bool) -> Y {
    raw(if b { "true" } else { "false" })
}

/// Emitting style, chosen per file.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// Spaces per level.
    indent: usize,
    /// Whether `- item` lines are indented under their key (`key:\n  - a`) or not (`key:\n- a`).
    indent_seq: bool,
}

impl Style {
    fn random(rng: &mut Rng) -> Style {
        Style {
            indent: if rng.chance(12) { 4 } else { 2 },
            indent_seq: !rng.chance(35),
        }
    }
}

fn emit_map(out: &mut String, entries: &[E], level: usize, st: Style) {
    for (i, en) in entries.iter().enumerate() {
        let _ = i;
        if let Some(c) = &en.above {
            push_indent(out, level);
            out.push_str("# ");
            out.push_str(c);
            out.push('\n');
        }
        push_indent(out, level);
        out.push_str(&en.key);
        out.push(':');
        if let Some(a) = &en.anchor {
            out.push_str(" &");
            out.push_str(a);
        }
        emit_value(out, &en.value, level, st, en.trailing.as_deref());
    }
}

/// Writes a value after `key:` (or after `- ` for list items handled by the caller).
fn emit_value(out: &mut String, v: &Y, level: usize, st: Style, trailing: Option<&str>) {
    match v {
        Y::S(sc) => {
            out.push(' ');
            out.push_str(&sc.yaml);
            if let Some(t) = trailing {
                out.push_str("  # ");
                out.push_str(t);
            }
            out.push('\n');
        }
        Y::Alias(a) => {
            out.push_str(" *");
            out.push_str(a);
            out.push('\n');
        }
        Y::Block(text) => {
            out.push_str(" |\n");
            for line in text.lines() {
                if !line.is_empty() {
                    push_indent(out, level + st.indent);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        Y::M(m) if m.is_empty() => out.push_str(" {}\n"),
        Y::L(l) if l.is_empty() => out.push_str(" []\n"),
        Y::M(m) => {
            out.push('\n');
            emit_map(out, m, level + st.indent, st);
        }
        Y::L(l) => {
            out.push('\n');
            emit_list(out, l, if st.indent_seq { level + 2 } else { level }, st);
        }
    }
}

fn emit_list(out: &mut String, items: &[Y], level: usize, st: Style) {
    for item in items {
        push_indent(out, level);
        out.push('-');
        match item {
            Y::M(m) if !m.is_empty() => {
                // First entry on the dash line, the rest aligned under it.
                let mut first = String::new();
                emit_map(&mut first, &m[..1], level + 2, st);
                out.push(' ');
                out.push_str(first.trim_start());
                emit_map(out, &m[1..], level + 2, st);
            }
            other => emit_value(out, other, level, st, None),
        }
    }
}

fn push_indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn yaml_doc(entries: &[E], st: Style) -> String {
    let mut out = String::new();
    emit_map(&mut out, entries, 0, st);
    out
}

fn to_json(v: &Y) -> serde_json::Value {
    match v {
        Y::S(sc) => sc.json.clone(),
        Y::Alias(a) => serde_json::Value::String(format!("*{a}")),
        Y::Block(t) => serde_json::Value::String(t.clone()),
        Y::M(m) => serde_json::Value::Object(
            m.iter()
                .map(|en| (en.key.trim_matches('"').to_string(), to_json(&en.value)))
                .collect(),
        ),
        Y::L(l) => serde_json::Value::Array(l.iter().map(to_json).collect()),
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary.

/// Images with the paths they are known to write (the scratch mounts a read-only run needs).
const IMAGES: &[(&str, &[&str], &[&str])] = &[
    // (repository, tags, writable paths)
    (
        "nginx",
        &["1.27", "1.27-alpine", "stable", "latest", "1.25.4"],
        &["/var/cache/nginx", "/var/run", "/tmp"],
    ),
    (
        "redis",
        &["7.4", "7-alpine", "6.2.14", "latest"],
        &["/data"],
    ),
    (
        "postgres",
        &["16", "16-alpine", "15.8", "13"],
        &["/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"],
    ),
    (
        "mysql",
        &["8.4", "8.0", "5.7"],
        &["/var/lib/mysql", "/var/run/mysqld", "/tmp"],
    ),
    (
        "mariadb",
        &["11", "10.11"],
        &["/var/lib/mysql", "/run/mysqld", "/tmp"],
    ),
    ("mongo", &["7.0", "6.0", "4.4"], &["/data/db", "/tmp"]),
    ("memcached", &["1.6", "1.6-alpine"], &[]),
    (
        "rabbitmq",
        &["3.13-management", "3-alpine"],
        &["/var/lib/rabbitmq", "/tmp"],
    ),
    (
        "grafana/grafana",
        &["11.2.0", "10.4.3", "latest"],
        &["/var/lib/grafana", "/tmp"],
    ),
    ("prom/prometheus", &["v2.53.0", "v2.45.6"], &["/prometheus"]),
    ("traefik", &["v3.1", "v2.11"], &["/tmp"]),
    (
        "haproxy",
        &["3.0", "2.8-alpine"],
        &["/var/lib/haproxy", "/run"],
    ),
    (
        "httpd",
        &["2.4", "2.4-alpine"],
        &["/usr/local/apache2/logs", "/tmp"],
    ),
    (
        "wordpress",
        &["6.6-apache", "6-fpm"],
        &["/var/www/html", "/tmp", "/run"],
    ),
    (
        "nextcloud",
        &["29-apache", "28"],
        &["/var/www/html", "/tmp"],
    ),
    (
        "minio/minio",
        &["RELEASE.2024-08-17T01-24-54Z", "latest"],
        &["/data"],
    ),
    (
        "hashicorp/vault",
        &["1.17", "1.15.6"],
        &["/vault/file", "/vault/logs"],
    ),
    ("hashicorp/consul", &["1.19", "1.16"], &["/consul/data"]),
    (
        "quay.io/keycloak/keycloak",
        &["25.0", "24.0.5"],
        &["/opt/keycloak/data", "/tmp"],
    ),
    (
        "gitea/gitea",
        &["1.22", "1.21-rootless"],
        &["/data", "/tmp"],
    ),
    (
        "jenkins/jenkins",
        &["lts", "2.462.1-jdk17"],
        &["/var/jenkins_home", "/tmp"],
    ),
    ("busybox", &["1.36", "latest"], &[]),
    ("alpine", &["3.20", "3.19", "latest"], &["/tmp"]),
    ("python", &["3.12-slim", "3.11-alpine"], &["/tmp"]),
    (
        "node",
        &["20-alpine", "22-bookworm-slim"],
        &["/tmp", "/home/node/.npm"],
    ),
    ("golang", &["1.23", "1.22-alpine"], &["/tmp", "/go/pkg"]),
    ("eclipse-temurin", &["21-jre", "17-jre-alpine"], &["/tmp"]),
    (
        "docker.elastic.co/elasticsearch/elasticsearch",
        &["8.15.0", "7.17.23"],
        &["/usr/share/elasticsearch/data", "/tmp"],
    ),
    (
        "docker.elastic.co/kibana/kibana",
        &["8.15.0"],
        &["/usr/share/kibana/data"],
    ),
    (
        "bitnami/kafka",
        &["3.8", "3.7.1"],
        &["/bitnami/kafka", "/tmp"],
    ),
    (
        "bitnami/zookeeper",
        &["3.9"],
        &["/bitnami/zookeeper", "/tmp"],
    ),
    (
        "registry.k8s.io/ingress-nginx/controller",
        &["v1.11.2"],
        &["/tmp"],
    ),
    ("quay.io/prometheus/node-exporter", &["v1.8.2"], &[]),
    (
        "ghcr.io/acme/api",
        &["v2.14.3", "sha-4f2a9c1", "main"],
        &["/tmp", "/app/cache"],
    ),
    ("ghcr.io/acme/worker", &["v2.14.3", "latest"], &["/tmp"]),
    (
        "registry.example.com:5000/team/web",
        &["1.0.7", "2024.08.1"],
        &["/tmp", "/var/run"],
    ),
    (
        "istio/proxyv2",
        &["1.23.0"],
        &["/etc/istio/proxy", "/var/lib/istio/data"],
    ),
    ("curlimages/curl", &["8.9.1"], &[]),
];

const WORDS: &[&str] = &[
    "api",
    "web",
    "worker",
    "db",
    "cache",
    "queue",
    "auth",
    "search",
    "proxy",
    "gateway",
    "billing",
    "orders",
    "users",
    "metrics",
    "logs",
    "frontend",
    "backend",
    "admin",
    "mail",
    "scheduler",
    "notifier",
    "payments",
    "catalog",
    "cart",
    "inventory",
    "reports",
    "sync",
    "importer",
    "exporter",
    "media",
    "thumbnailer",
    "ingest",
    "store",
    "session",
    "edge",
];

const ENV_KEYS: &[&str] = &[
    "LOG_LEVEL",
    "DATABASE_URL",
    "REDIS_URL",
    "PORT",
    "NODE_ENV",
    "TZ",
    "JAVA_OPTS",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "MYSQL_ROOT_PASSWORD",
    "GF_SECURITY_ADMIN_USER",
    "RAILS_ENV",
    "SECRET_KEY_BASE",
    "WORKERS",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "HTTP_PROXY",
    "NO_PROXY",
    "FEATURE_FLAGS",
    "SENTRY_DSN",
    "S3_BUCKET",
];

fn name(rng: &mut Rng) -> String {
    if rng.chance(40) {
        format!("{}-{}", rng.pick(WORDS), rng.pick(WORDS))
    } else {
        rng.pick(WORDS).to_string()
    }
}

/// An image reference and the writable paths it needs.
fn image(rng: &mut Rng) -> (String, &'static [&'static str]) {
    let (repo, tags, paths) = *rng.pick(IMAGES);
    let prefix = if !repo.contains('/') && rng.chance(15) {
        "docker.io/library/"
    } else {
        ""
    };
    let reference = if rng.chance(8) {
        let mut digest = String::new();
        for _ in 0..4 {
            let _ = write!(digest, "{:016x}", rng.next_u64());
        }
        format!("{prefix}{repo}@sha256:{digest}")
    } else if rng.chance(5) {
        format!("{prefix}{repo}")
    } else {
        format!("{prefix}{repo}:{}", rng.pick(tags))
    };
    (reference, paths)
}

fn env_value(rng: &mut Rng, key: &str) -> String {
    match rng.below(6) {
        0 => format!("${{{key}}}"),
        1 => format!("${{{key}:-default}}"),
        2 => rng
            .pick(&["info", "debug", "production", "UTC", "4"])
            .to_string(),
        3 => format!("postgres://app:secret@db:5432/{}", rng.pick(WORDS)),
        4 => format!("-Xms256m -Xmx{}m", rng.range(2, 16) * 128),
        _ => format!("{:x}", rng.next_u64()),
    }
}

fn comment(rng: &mut Rng) -> String {
    rng.pick(&[
        "TODO: pin this image by digest",
        "see https://docs.docker.com/compose/compose-file/",
        "keep in sync with the helm chart",
        "read_only: true  # breaks the entrypoint, see #1234",
        "needed by the health check",
        "mounted from the host for debugging",
        "Managed by ops; do not edit by hand",
        "ports are published by the reverse proxy",
        "resources tuned after the load test of 2024-03",
        "uid 1000 is the app user inside the image",
    ])
    .to_string()
}

/// A long block of configuration text (nginx, JSON dashboards, properties).
fn config_blob(rng: &mut Rng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 200);
    match rng.below(3) {
        0 => {
            out.push_str("worker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n");
            while out.len() < bytes {
                let n = name(rng);
                let _ = write!(
                    out,
                    "  upstream {n} {{ server {n}.svc.cluster.local:{} max_fails=3; }}\n  server {{\n    listen 8080;\n    server_name {n}.example.com;\n    location / {{ proxy_pass http://{n}; proxy_read_timeout {}s; }}\n  }}\n",
                    rng.range(1024, 9999),
                    rng.range(5, 120)
                );
            }
            out.push_str("}\n");
        }
        1 => {
            out.push_str("{\n  \"title\": \"Service overview\",\n  \"panels\": [\n");
            let mut first = true;
            while out.len() < bytes {
                if !first {
                    out.push_str(",\n");
                }
                first = false;
                let _ = write!(
                    out,
                    "    {{\"id\": {}, \"type\": \"timeseries\", \"title\": \"{} latency\", \"targets\": [{{\"expr\": \"histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{{service=\\\"{}\\\"}}[5m])) by (le))\"}}]}}",
                    rng.below(100_000),
                    name(rng),
                    name(rng)
                );
            }
            out.push_str("\n  ]\n}\n");
        }
        _ => {
            while out.len() < bytes {
                let _ = writeln!(
                    out,
                    "{}.{}.{} = {}",
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.pick(&["timeout", "size", "enabled", "url", "retries"]),
                    env_value(rng, "X")
                );
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Compose.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ComposeKind {
    V2,
    /// 3.x, `minor` after the dot; stack files carry `deploy:`.
    V3(u8),
    Spec,
}

fn compose_file(rng: &mut Rng, target: usize) -> String {
    let kind = match rng.below(10) {
        0..3 => ComposeKind::V2,
        3..6 => ComposeKind::V3(rng.below(10) as u8),
        _ => ComposeKind::Spec,
    };
    let swarm = matches!(kind, ComposeKind::V3(_)) && rng.chance(60);
    let anchors = match kind {
        ComposeKind::V2 => false,
        ComposeKind::V3(m) => m >= 4 && rng.chance(40),
        ComposeKind::Spec => rng.chance(60),
    };
    let st = Style::random(rng);
    let mut top: Vec<E> = Vec::new();
    let mut header = String::new();
    if rng.chance(50) {
        let _ = writeln!(header, "# {}", comment(rng));
        if rng.chance(30) {
            header.push_str("# Usage: docker compose up -d\n");
        }
    }
    match kind {
        ComposeKind::V2 => top.push(e("version", sq(*rng.pick(&["2", "2.1", "2.2", "2.4"])))),
        ComposeKind::V3(m) => top.push(e(
            "version",
            if rng.chance(50) {
                s(format!("3.{m}"))
            } else {
                sq(format!("3.{m}"))
            },
        )),
        ComposeKind::Spec => {
            if rng.chance(40) {
                top.push(e("name", s(name(rng))));
            }
        }
    }
    if anchors {
        let mut common = vec![
            e("restart", s("unless-stopped")),
            e(
                "logging",
                Y::M(vec![
                    e("driver", s("json-file")),
                    e(
                        "options",
                        Y::M(vec![e("max-size", sq("10m")), e("max-file", sq("3"))]),
                    ),
                ]),
            ),
        ];
        if rng.chance(40) {
            common.push(e("read_only", boolean(true)));
            common.push(e("tmpfs", Y::L(vec![s("/tmp")])));
        }
        let mut x = e("x-common", Y::M(common));
        x.anchor = Some("common".into());
        x.above = Some("shared settings, merged into every service below".into());
        top.push(x);
        {
            let mut envs = e(
                "x-env",
                Y::M(vec![
                    e("TZ", s("Europe/Berlin")),
                    e("LOG_LEVEL", s("${LOG_LEVEL:-info}")),
                ]),
            );
            envs.anchor = Some("env".into());
            top.push(envs);
        }
    }
    let mut services: Vec<E> = Vec::new();
    let mut used = std::collections::HashSet::new();
    let mut len = header.len() + 200;
    let mut volumes_named: Vec<String> = Vec::new();
    while len < target || services.is_empty() {
        let mut n = name(rng);
        while !used.insert(n.clone()) {
            n = format!("{}-{}", n, rng.below(100));
        }
        let svc = compose_service(rng, &n, kind, swarm, anchors, &mut volumes_named, &services);
        len += yaml_doc(std::slice::from_ref(&svc), st).len();
        services.push(svc);
    }
    top.push(e("services", Y::M(services)));
    if !volumes_named.is_empty() {
        let vols = volumes_named
            .iter()
            .map(|v| {
                if v.ends_with("-scratch") && kind != ComposeKind::V2 {
                    e(
                        v,
                        Y::M(vec![
                            e("driver", s("local")),
                            e(
                                "driver_opts",
                                Y::M(vec![
                                    e("type", s("tmpfs")),
                                    e("device", s("tmpfs")),
                                    e("o", sq("size=64m,uid=1000")),
                                ]),
                            ),
                        ]),
                    )
                } else {
                    e(v, Y::M(vec![]))
                }
            })
            .collect();
        top.push(e("volumes", Y::M(vols)));
    }
    if rng.chance(40) {
        let mut nets = vec![e("frontend", Y::M(vec![]))];
        if swarm {
            nets.push(e(
                "backend",
                Y::M(vec![
                    e("driver", s("overlay")),
                    e("attachable", boolean(true)),
                ]),
            ));
        } else {
            nets.push(e("backend", Y::M(vec![e("internal", boolean(true))])));
        }
        top.push(e("networks", Y::M(nets)));
    }
    let mut out = header;
    out.push_str(&yaml_doc(&top, st));
    out
}

fn compose_service(
    rng: &mut Rng,
    n: &str,
    kind: ComposeKind,
    swarm: bool,
    anchors: bool,
    volumes_named: &mut Vec<String>,
    earlier: &[E],
) -> E {
    let (img, paths) = image(rng);
    let mut m: Vec<E> = Vec::new();
    if anchors && rng.chance(70) {
        m.push(e("<<", Y::Alias("common".into())));
    }
    if !earlier.is_empty() && !matches!(kind, ComposeKind::V3(_)) && rng.chance(5) {
        let base = earlier[rng.below(earlier.len())].key.clone();
        m.push(e("extends", Y::M(vec![e("service", s(base))])));
    } else if rng.chance(88) {
        let mut en = e("image", s(img.clone()));
        if rng.chance(10) {
            en.trailing = Some("pinned by renovate".into());
        }
        m.push(en);
    } else {
        m.push(e(
            "build",
            if rng.chance(50) {
                s(format!("./{n}"))
            } else {
                Y::M(vec![
                    e("context", s(".")),
                    e("dockerfile", s(format!("docker/{n}.Dockerfile"))),
                    e("args", Y::L(vec![s("VERSION=${VERSION:-dev}")])),
                ])
            },
        ));
    }
    if rng.chance(20) {
        m.push(e("container_name", s(n)));
    }
    if !anchors && rng.chance(60) {
        m.push(e(
            "restart",
            s(*rng.pick(&["always", "unless-stopped", "on-failure"])),
        ));
    }
    // The switch.
    let ro = rng.below(100);
    let read_only = ro < 30;
    match ro {
        0..25 => {
            let mut en = e("read_only", boolean(true));
            if rng.chance(10) {
                en.above = Some("immutable root file system".into());
            }
            m.push(en);
        }
        25..30 => m.push(e(
            "read_only",
            raw(rng.pick(&["\"true\"", "yes", "True", "'true'", "${READ_ONLY:-true}"])),
        )),
        30..36 => m.push(e("read_only", raw(rng.pick(&["false", "'false'", "no"])))),
        36..40 => {
            let mut en = e("user", sq("1000:1000"));
            en.above = Some("read_only: true".into());
            m.push(en);
        }
        _ => {}
    }
    if read_only && rng.chance(3) {
        m.push(e("privileged", boolean(true)));
    } else if rng.chance(3) {
        m.push(e("cap_add", Y::L(vec![s("SYS_ADMIN"), s("NET_ADMIN")])));
    }
    if rng.chance(25) {
        m.push(e("security_opt", Y::L(vec![s("no-new-privileges:true")])));
    }
    if rng.chance(30) && !m.iter().any(|x| x.key == "user") {
        m.push(e(
            "user",
            sq(*rng.pick(&["1000:1000", "33", "nobody", "999"])),
        ));
    }
    // Scratch mounts.
    let scratch: Vec<&str> = if read_only || rng.chance(10) {
        paths.iter().copied().filter(|_| rng.chance(70)).collect()
    } else {
        Vec::new()
    };
    let long_tmpfs = match kind {
        ComposeKind::V3(m) => m >= 6 && (swarm || rng.chance(30)),
        ComposeKind::Spec => rng.chance(30),
        ComposeKind::V2 => false,
    };
    let mut volumes: Vec<Y> = Vec::new();
    if !scratch.is_empty() {
        if long_tmpfs {
            for p in &scratch {
                let mut v = vec![e("type", s("tmpfs")), e("target", s(*p))];
                if rng.chance(50) {
                    v.push(e(
                        "tmpfs",
                        Y::M(vec![e("size", int(rng.range(1, 64) * 1_048_576))]),
                    ));
                }
                volumes.push(Y::M(v));
            }
        } else if scratch.len() == 1 && rng.chance(40) {
            m.push(e("tmpfs", s(scratch[0])));
        } else {
            let items = scratch
                .iter()
                .map(|p| {
                    if rng.chance(40) {
                        s(format!("{p}:uid=1000,gid=1000,mode=1770"))
                    } else if rng.chance(20) {
                        s(format!("{p}:size=64m"))
                    } else {
                        s(*p)
                    }
                })
                .collect();
            m.push(e("tmpfs", Y::L(items)));
        }
    }
    if rng.chance(55) {
        for _ in 0..rng.range(1, 3) {
            match rng.below(4) {
                0 => volumes.push(s(format!("./{}:/etc/{n}:ro", rng.pick(WORDS)))),
                1 => {
                    let v = format!("{n}-data");
                    if !volumes_named.contains(&v) {
                        volumes_named.push(v.clone());
                    }
                    volumes.push(s(format!("{v}:/var/lib/{n}")));
                }
                2 if kind != ComposeKind::V2 => {
                    let v = format!("{n}-scratch");
                    if !volumes_named.contains(&v) {
                        volumes_named.push(v.clone());
                    }
                    volumes.push(s(format!("{v}:/cache")));
                }
                _ => {
                    if matches!(kind, ComposeKind::V3(m) if m >= 2) || kind == ComposeKind::Spec {
                        volumes.push(Y::M(vec![
                            e("type", s("bind")),
                            e("source", s("./config")),
                            e("target", s(format!("/etc/{n}"))),
                            e("read_only", boolean(true)),
                        ]));
                    } else {
                        volumes.push(s("/var/run/docker.sock:/var/run/docker.sock:ro"));
                    }
                }
            }
        }
    }
    if !volumes.is_empty() {
        m.push(e("volumes", Y::L(volumes)));
    }
    if rng.chance(70) {
        let mut env_entries = Vec::new();
        if anchors && rng.chance(30) {
            env_entries.push(e("<<", Y::Alias("env".into())));
        }
        let count = rng.range(1, 12);
        let mut seen = std::collections::HashSet::new();
        let as_list = env_entries.is_empty() && rng.chance(40);
        let mut list = Vec::new();
        for _ in 0..count {
            let k = *rng.pick(ENV_KEYS);
            if !seen.insert(k) {
                continue;
            }
            let v = env_value(rng, k);
            if as_list {
                list.push(s(format!("{k}={v}")));
            } else {
                env_entries.push(e(k, s(v)));
            }
        }
        m.push(e(
            "environment",
            if as_list {
                Y::L(list)
            } else {
                Y::M(env_entries)
            },
        ));
    }
    if rng.chance(50) {
        let ports = (0..rng.range(1, 3))
            .map(|_| {
                let p = rng.range(1024, 9999);
                sq(format!(
                    "{p}:{}",
                    rng.pick(&[80, 443, 8080, 3000, 5432, 6379])
                ))
            })
            .collect();
        m.push(e("ports", Y::L(ports)));
    }
    if !earlier.is_empty() && rng.chance(50) {
        let dep = earlier[rng.below(earlier.len())].key.clone();
        if kind == ComposeKind::V2 || rng.chance(50) {
            m.push(e("depends_on", Y::L(vec![s(dep)])));
        } else {
            m.push(e(
                "depends_on",
                Y::M(vec![e(
                    &dep,
                    Y::M(vec![e("condition", s("service_healthy"))]),
                )]),
            ));
        }
    }
    if rng.chance(35) {
        m.push(e(
            "healthcheck",
            Y::M(vec![
                e(
                    "test",
                    Y::L(vec![
                        s("CMD-SHELL"),
                        s(format!(
                            "wget -qO- http://localhost:{}/healthz || exit 1",
                            rng.range(1024, 9999)
                        )),
                    ]),
                ),
                e("interval", s("30s")),
                e("timeout", s("5s")),
                e("retries", int(3)),
            ]),
        ));
    }
    if rng.chance(15) {
        m.push(e(
            "command",
            Y::Block(format!(
                "sh -c '\n  cat > /tmp/{n}.conf <<EOF\n  listen {}\n  EOF\n  exec {n} --config /tmp/{n}.conf\n'\n",
                rng.range(1024, 9999)
            )),
        ));
    } else if rng.chance(25) {
        m.push(e(
            "command",
            Y::L(vec![
                s(format!("--port={}", rng.range(1024, 9999))),
                s("--log-format=json"),
            ]),
        ));
    }
    if rng.chance(25) {
        let labels = vec![
            e("traefik.enable", sq("true")),
            e(
                &format!("traefik.http.routers.{n}.rule"),
                s(format!("Host(`{n}.example.com`)")),
            ),
            e(
                &format!("traefik.http.services.{n}.loadbalancer.server.port"),
                sq(rng.range(1024, 9999).to_string()),
            ),
        ];
        if swarm {
            // Swarm reads service labels under deploy; keep container labels too.
            m.push(e("labels", Y::M(labels[..1].to_vec())));
        } else {
            m.push(e("labels", Y::M(labels)));
        }
    }
    if kind == ComposeKind::V2 && rng.chance(30) {
        m.push(e("mem_limit", s(format!("{}m", rng.range(1, 16) * 64))));
    }
    if swarm || (kind == ComposeKind::Spec && rng.chance(15)) {
        let mut d = vec![
            e(
                "mode",
                s(if rng.chance(85) {
                    "replicated"
                } else {
                    "global"
                }),
            ),
            e("replicas", int(rng.range(1, 6))),
            e(
                "resources",
                Y::M(vec![
                    e(
                        "limits",
                        Y::M(vec![
                            e("cpus", sq(format!("0.{}", rng.range(1, 9) * 10 + 5))),
                            e("memory", s(format!("{}M", rng.range(1, 16) * 64))),
                        ]),
                    ),
                    e(
                        "reservations",
                        Y::M(vec![e("memory", s(format!("{}M", rng.range(1, 4) * 32)))]),
                    ),
                ]),
            ),
        ];
        if rng.chance(50) {
            d.push(e(
                "restart_policy",
                Y::M(vec![
                    e("condition", s("on-failure")),
                    e("delay", s("5s")),
                    e("max_attempts", int(3)),
                ]),
            ));
        }
        if rng.chance(40) {
            d.push(e(
                "placement",
                Y::M(vec![e(
                    "constraints",
                    Y::L(vec![s("node.role == worker"), s("node.labels.zone == a")]),
                )]),
            ));
        }
        if rng.chance(40) {
            d.push(e(
                "update_config",
                Y::M(vec![
                    e("parallelism", int(1)),
                    e("delay", s("10s")),
                    e("order", s("start-first")),
                ]),
            ));
        }
        m.push(e("deploy", Y::M(d)));
    }
    if rng.chance(20) {
        m.push(e("networks", Y::L(vec![s("frontend"), s("backend")])));
    }
    let mut en = e(n, Y::M(m));
    if rng.chance(15) {
        en.above = Some(comment(rng));
    }
    en
}

// ---------------------------------------------------------------------------------------------
// Kubernetes.

const KINDS: &[(&str, u32)] = &[
    ("Deployment", 45),
    ("StatefulSet", 14),
    ("DaemonSet", 8),
    ("CronJob", 10),
    ("Job", 5),
    ("Pod", 12),
    ("ReplicaSet", 4),
    ("ReplicationController", 2),
];

fn pick_kind(rng: &mut Rng) -> &'static str {
    let total: u32 = KINDS.iter().map(|k| k.1).sum();
    let mut n = rng.below(total as usize) as u32;
    for (k, w) in KINDS {
        if n < *w {
            return k;
        }
        n -= w;
    }
    "Deployment"
}

fn k8s_file(rng: &mut Rng, target: usize, json: bool) -> (String, String) {
    let st = Style::random(rng);
    let namespace = if rng.chance(60) {
        Some(format!(
            "{}-{}",
            rng.pick(WORDS),
            rng.pick(&["prod", "staging", "dev"])
        ))
    } else {
        None
    };
    let mut docs: Vec<Vec<E>> = Vec::new();
    let mut len = 0;
    let mut first_kind = "";
    while len < target || docs.is_empty() {
        let n = format!("{}-{}", name(rng), rng.below(1000));
        let doc = if docs.is_empty() || rng.chance(55) {
            let kind = pick_kind(rng);
            if first_kind.is_empty() {
                first_kind = kind;
            }
            workload(rng, kind, &n, namespace.as_deref())
        } else {
            other_doc(rng, &n, namespace.as_deref(), target)
        };
        len += if json {
            serde_json::to_string_pretty(&to_json(&Y::M(doc.clone())))
                .map(|t| t.len())
                .unwrap_or(0)
        } else {
            yaml_doc(&doc, st).len() + 4
        };
        docs.push(doc);
    }
    let stem = first_kind.to_ascii_lowercase();
    if json {
        let value = if docs.len() == 1 {
            to_json(&Y::M(docs.pop().unwrap_or_default()))
        } else {
            to_json(&Y::M(vec![
                e("apiVersion", s("v1")),
                e("kind", s("List")),
                e("items", Y::L(docs.into_iter().map(Y::M).collect())),
            ]))
        };
        let text = if rng.chance(20) {
            serde_json::to_string(&value).unwrap_or_default()
        } else {
            serde_json::to_string_pretty(&value).unwrap_or_default()
        };
        return (stem, text + "\n");
    }
    if docs.len() > 1 && rng.chance(5) {
        let list = vec![
            e("apiVersion", s("v1")),
            e("kind", s("List")),
            e("items", Y::L(docs.into_iter().map(Y::M).collect())),
        ];
        return (stem, yaml_doc(&list, st));
    }
    let mut out = String::new();
    if rng.chance(30) {
        let _ = writeln!(out, "# {}", comment(rng));
    }
    if rng.chance(25) {
        out.push_str("---\n");
    }
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if rng.chance(10) {
            let _ = writeln!(
                out,
                "# Source: {}/templates/{}.yaml",
                rng.pick(WORDS),
                rng.pick(WORDS)
            );
        }
        out.push_str(&yaml_doc(d, st));
    }
    if rng.chance(5) {
        out.push_str("...\n");
    }
    (stem, out)
}

fn metadata(rng: &mut Rng, n: &str, ns: Option<&str>, exempt: Option<&str>) -> Y {
    let mut m = vec![e("name", s(n))];
    if let Some(ns) = ns {
        m.push(e("namespace", s(ns)));
    }
    let mut labels = vec![e("app.kubernetes.io/name", s(n))];
    if rng.chance(60) {
        labels.push(e("app.kubernetes.io/part-of", s(*rng.pick(WORDS))));
        labels.push(e(
            "app.kubernetes.io/version",
            sq(format!("1.{}.{}", rng.below(30), rng.below(10))),
        ));
    }
    m.push(e("labels", Y::M(labels)));
    let mut ann = Vec::new();
    if let Some(x) = exempt {
        ann.push(e("immutabot.dev/exempt-containers", s(x)));
    }
    if rng.chance(20) {
        ann.push(e(
            "deployment.kubernetes.io/revision",
            sq(rng.range(1, 40).to_string()),
        ));
    }
    if !ann.is_empty() {
        m.push(e("annotations", Y::M(ann)));
    }
    Y::M(m)
}

fn workload(rng: &mut Rng, kind: &str, n: &str, ns: Option<&str>) -> Vec<E> {
    let api = match kind {
        "Pod" | "ReplicationController" => "v1",
        "Job" | "CronJob" => "batch/v1",
        _ => "apps/v1",
    };
    let (pod, exempt) = pod_spec(rng, n, kind);
    let mut d = vec![
        e("apiVersion", s(api)),
        e("kind", s(kind)),
        e("metadata", metadata(rng, n, ns, exempt.as_deref())),
    ];
    if kind == "Pod" {
        d.push(e("spec", pod));
        return d;
    }
    let template = Y::M(vec![
        e(
            "metadata",
            Y::M(vec![e(
                "labels",
                Y::M(vec![e("app.kubernetes.io/name", s(n))]),
            )]),
        ),
        e("spec", pod),
    ]);
    let selector = e(
        "selector",
        Y::M(vec![e(
            "matchLabels",
            Y::M(vec![e("app.kubernetes.io/name", s(n))]),
        )]),
    );
    let spec = match kind {
        "CronJob" => vec![
            e(
                "schedule",
                sq(format!("{} {} * * *", rng.below(60), rng.below(24))),
            ),
            e("concurrencyPolicy", s("Forbid")),
            e(
                "jobTemplate",
                Y::M(vec![e(
                    "spec",
                    Y::M(vec![e("backoffLimit", int(2)), e("template", template)]),
                )]),
            ),
        ],
        "Job" => vec![e("backoffLimit", int(4)), e("template", template)],
        "DaemonSet" => vec![selector, e("template", template)],
        "StatefulSet" => vec![
            e("serviceName", s(n)),
            e("replicas", int(rng.range(1, 5))),
            selector,
            e("template", template),
            e(
                "volumeClaimTemplates",
                Y::L(vec![Y::M(vec![
                    e("metadata", Y::M(vec![e("name", s("data"))])),
                    e(
                        "spec",
                        Y::M(vec![
                            e("accessModes", Y::L(vec![s("ReadWriteOnce")])),
                            e(
                                "resources",
                                Y::M(vec![e(
                                    "requests",
                                    Y::M(vec![e("storage", s(format!("{}Gi", rng.range(1, 100))))]),
                                )]),
                            ),
                        ]),
                    ),
                ])]),
            ),
        ],
        "ReplicationController" => vec![
            e("replicas", int(rng.range(1, 5))),
            e("selector", Y::M(vec![e("app.kubernetes.io/name", s(n))])),
            e("template", template),
        ],
        _ => {
            let mut v = vec![e("replicas", int(rng.range(1, 10)))];
            if rng.chance(30) {
                v.push(e("revisionHistoryLimit", int(3)));
            }
            if rng.chance(30) {
                v.push(e(
                    "strategy",
                    Y::M(vec![
                        e("type", s("RollingUpdate")),
                        e(
                            "rollingUpdate",
                            Y::M(vec![e("maxSurge", sq("25%")), e("maxUnavailable", int(0))]),
                        ),
                    ]),
                ));
            }
            v.push(selector);
            v.push(e("template", template));
            v
        }
    };
    d.push(e("spec", Y::M(spec)));
    d
}

/// A pod spec and, sometimes, the value of an exemption annotation.
fn pod_spec(rng: &mut Rng, workload: &str, kind: &str) -> (Y, Option<String>) {
    let mut spec: Vec<E> = Vec::new();
    let mut volumes: Vec<Y> = Vec::new();
    let mut exempt = None;
    if rng.chance(40) {
        spec.push(e("serviceAccountName", s(workload)));
    }
    if matches!(kind, "Job" | "CronJob") {
        spec.push(e("restartPolicy", s(*rng.pick(&["OnFailure", "Never"]))));
    }
    // Pod-level security context: sometimes with the ignored readOnlyRootFilesystem.
    if rng.chance(45) {
        let mut psc = vec![
            e("runAsNonRoot", boolean(true)),
            e("runAsUser", int(*rng.pick(&[1000, 10001, 65532]))),
            e("fsGroup", int(2000)),
        ];
        if rng.chance(7) {
            let mut en = e("readOnlyRootFilesystem", boolean(true));
            en.trailing = Some("ignored here by Kubernetes".into());
            psc.push(en);
        }
        if rng.chance(40) {
            psc.push(e(
                "seccompProfile",
                Y::M(vec![e("type", s("RuntimeDefault"))]),
            ));
        }
        spec.push(e("securityContext", Y::M(psc)));
    }
    let mut init = Vec::new();
    if rng.chance(25) {
        for i in 0..rng.range(1, 2) {
            let cname = if rng.chance(30) {
                exempt = Some("istio-init".to_string());
                "istio-init".to_string()
            } else {
                format!(
                    "init-{}{}",
                    rng.pick(&["migrate", "perms", "wait", "config"]),
                    i
                )
            };
            init.push(container(rng, &cname, &mut volumes, true));
        }
    }
    let mut containers = Vec::new();
    for i in 0..rng.range(1, 3) {
        let cname = if i == 0 {
            workload
                .rsplit_once('-')
                .map_or(workload, |x| x.0)
                .to_string()
        } else {
            rng.pick(&["sidecar", "metrics", "log-shipper", "proxy", "oauth2-proxy"])
                .to_string()
                + &i.to_string()
        };
        containers.push(container(rng, &cname, &mut volumes, false));
    }
    if !init.is_empty() {
        spec.push(e("initContainers", Y::L(init)));
    }
    spec.push(e("containers", Y::L(containers)));
    if rng.chance(20) {
        spec.push(e(
            "nodeSelector",
            Y::M(vec![e("kubernetes.io/os", s("linux"))]),
        ));
    }
    if rng.chance(15) {
        spec.push(e(
            "tolerations",
            Y::L(vec![Y::M(vec![
                e("key", s("dedicated")),
                e("operator", s("Equal")),
                e("value", s(*rng.pick(WORDS))),
                e("effect", s("NoSchedule")),
            ])]),
        ));
    }
    if rng.chance(30) {
        volumes.push(Y::M(vec![
            e("name", s("config")),
            e(
                "configMap",
                Y::M(vec![e("name", s(format!("{workload}-config")))]),
            ),
        ]));
    }
    if rng.chance(15) {
        volumes.push(Y::M(vec![
            e("name", s("tls")),
            e(
                "secret",
                Y::M(vec![
                    e("secretName", s(format!("{workload}-tls"))),
                    e("defaultMode", raw("0400")),
                ]),
            ),
        ]));
    }
    if !volumes.is_empty() {
        spec.push(e("volumes", Y::L(volumes)));
    }
    (Y::M(spec), exempt)
}

fn container(rng: &mut Rng, cname: &str, volumes: &mut Vec<Y>, init: bool) -> Y {
    let (img, paths) = image(rng);
    let mut c = vec![e("name", s(cname)), e("image", s(img))];
    if rng.chance(40) {
        c.push(e(
            "imagePullPolicy",
            s(*rng.pick(&["IfNotPresent", "Always"])),
        ));
    }
    if init || rng.chance(30) {
        c.push(e(
            "command",
            Y::L(vec![
                s("sh"),
                s("-c"),
                s(format!("echo starting {cname} && exec /app/run")),
            ]),
        ));
    } else if rng.chance(30) {
        c.push(e(
            "args",
            Y::L(vec![
                s(format!("--listen=:{}", rng.range(1024, 9999))),
                s("--log-format=json"),
            ]),
        ));
    }
    if !init && rng.chance(70) {
        c.push(e(
            "ports",
            Y::L(vec![Y::M(vec![
                e("name", s("http")),
                e(
                    "containerPort",
                    int(*rng.pick(&[80, 8080, 3000, 9090, 5432])),
                ),
                e("protocol", s("TCP")),
            ])]),
        ));
    }
    if rng.chance(60) {
        let mut env = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..rng.range(1, 8) {
            let k = *rng.pick(ENV_KEYS);
            if !seen.insert(k) {
                continue;
            }
            if rng.chance(25) {
                env.push(Y::M(vec![
                    e("name", s(k)),
                    e(
                        "valueFrom",
                        Y::M(vec![e(
                            "secretKeyRef",
                            Y::M(vec![
                                e("name", s(format!("{cname}-secrets"))),
                                e("key", s(k.to_ascii_lowercase())),
                            ]),
                        )]),
                    ),
                ]));
            } else {
                env.push(Y::M(vec![
                    e("name", s(k)),
                    e("value", sq(env_value(rng, k))),
                ]));
            }
        }
        c.push(e("env", Y::L(env)));
    }
    if !init && rng.chance(60) {
        c.push(e(
            "resources",
            Y::M(vec![
                e(
                    "requests",
                    Y::M(vec![
                        e("cpu", s(format!("{}m", rng.range(1, 20) * 50))),
                        e("memory", s(format!("{}Mi", rng.range(1, 16) * 64))),
                    ]),
                ),
                e(
                    "limits",
                    Y::M(vec![e("memory", s(format!("{}Mi", rng.range(4, 32) * 64)))]),
                ),
            ]),
        ));
    }
    if !init && rng.chance(40) {
        c.push(e(
            "livenessProbe",
            Y::M(vec![
                e(
                    "httpGet",
                    Y::M(vec![e("path", s("/healthz")), e("port", s("http"))]),
                ),
                e("initialDelaySeconds", int(10)),
                e("periodSeconds", int(10)),
            ]),
        ));
    }
    // The switch.
    let roll = rng.below(100);
    let read_only = roll < 35;
    let mut sc: Vec<E> = Vec::new();
    match roll {
        0..32 => sc.push(e("readOnlyRootFilesystem", boolean(true))),
        32..35 => sc.push(e(
            "readOnlyRootFilesystem",
            raw(rng.pick(&["True", "\"true\"", "yes"])),
        )),
        35..42 => sc.push(e("readOnlyRootFilesystem", boolean(false))),
        _ => {}
    }
    if !sc.is_empty() || rng.chance(35) {
        if rng.chance(60) {
            sc.insert(0, e("allowPrivilegeEscalation", boolean(false)));
        }
        if rng.chance(50) {
            sc.push(e("runAsNonRoot", boolean(true)));
        }
        if rng.chance(40) {
            sc.push(e(
                "capabilities",
                Y::M(vec![e("drop", Y::L(vec![s("ALL")]))]),
            ));
        } else if rng.chance(4) {
            sc.push(e(
                "capabilities",
                Y::M(vec![e("add", Y::L(vec![s("SYS_ADMIN")]))]),
            ));
        }
        if read_only && rng.chance(3) {
            sc.push(e("privileged", boolean(true)));
        }
    }
    let mut mounts: Vec<Y> = Vec::new();
    if read_only || rng.chance(15) {
        for (i, p) in paths.iter().enumerate() {
            if !rng.chance(75) {
                continue;
            }
            let vname = format!("{cname}-scratch-{i}");
            mounts.push(Y::M(vec![e("name", s(&vname)), e("mountPath", s(*p))]));
            let mut ed = Vec::new();
            if rng.chance(30) {
                ed.push(e("medium", s("Memory")));
            }
            if rng.chance(40) {
                ed.push(e("sizeLimit", s(format!("{}Mi", rng.range(1, 16) * 32))));
            }
            volumes.push(Y::M(vec![e("name", s(&vname)), e("emptyDir", Y::M(ed))]));
        }
    }
    if rng.chance(30) {
        mounts.push(Y::M(vec![
            e("name", s("config")),
            e("mountPath", s(format!("/etc/{cname}"))),
            e("readOnly", boolean(true)),
        ]));
        if !volumes.iter().any(|v| matches!(v, Y::M(m) if m.first().is_some_and(|x| matches!(&x.value, Y::S(sc) if sc.yaml == "config")))) {
            volumes.push(Y::M(vec![
                e("name", s("config")),
                e("configMap", Y::M(vec![e("name", s(format!("{cname}-config")))])),
            ]));
        }
    }
    if !mounts.is_empty() {
        c.push(e("volumeMounts", Y::L(mounts)));
    }
    if !sc.is_empty() {
        c.push(e("securityContext", Y::M(sc)));
    }
    Y::M(c)
}

fn other_doc(rng: &mut Rng, n: &str, ns: Option<&str>, target: usize) -> Vec<E> {
    match rng.below(6) {
        0 | 1 => vec![
            e("apiVersion", s("v1")),
            e("kind", s("Service")),
            e("metadata", metadata(rng, n, ns, None)),
            e(
                "spec",
                Y::M(vec![
                    e(
                        "type",
                        s(*rng.pick(&["ClusterIP", "ClusterIP", "NodePort"])),
                    ),
                    e("selector", Y::M(vec![e("app.kubernetes.io/name", s(n))])),
                    e(
                        "ports",
                        Y::L(vec![Y::M(vec![
                            e("name", s("http")),
                            e("port", int(80)),
                            e("targetPort", s("http")),
                        ])]),
                    ),
                ]),
            ),
        ],
        2 => {
            // Big bundles carry big ConfigMaps (dashboards, nginx.conf).
            let blob = if target > 200_000 {
                rng.range(20_000, 120_000)
            } else {
                rng.range(200, 3_000).min(target / 3 + 200)
            };
            vec![
                e("apiVersion", s("v1")),
                e("kind", s("ConfigMap")),
                e("metadata", metadata(rng, &format!("{n}-config"), ns, None)),
                e(
                    "data",
                    Y::M(vec![
                        e("LOG_LEVEL", s("info")),
                        e("config.txt", Y::Block(config_blob(rng, blob))),
                    ]),
                ),
            ]
        }
        3 => vec![
            e("apiVersion", s("v1")),
            e("kind", s("ServiceAccount")),
            e("metadata", metadata(rng, n, ns, None)),
        ],
        4 => vec![
            e("apiVersion", s("networking.k8s.io/v1")),
            e("kind", s("Ingress")),
            e("metadata", metadata(rng, n, ns, None)),
            e(
                "spec",
                Y::M(vec![
                    e("ingressClassName", s("nginx")),
                    e(
                        "rules",
                        Y::L(vec![Y::M(vec![
                            e("host", s(format!("{n}.example.com"))),
                            e(
                                "http",
                                Y::M(vec![e(
                                    "paths",
                                    Y::L(vec![Y::M(vec![
                                        e("path", s("/")),
                                        e("pathType", s("Prefix")),
                                        e(
                                            "backend",
                                            Y::M(vec![e(
                                                "service",
                                                Y::M(vec![
                                                    e("name", s(n)),
                                                    e("port", Y::M(vec![e("number", int(80))])),
                                                ]),
                                            )]),
                                        ),
                                    ])]),
                                )]),
                            ),
                        ])]),
                    ),
                ]),
            ),
        ],
        _ => vec![
            e("apiVersion", s("policy/v1")),
            e("kind", s("PodDisruptionBudget")),
            e("metadata", metadata(rng, n, ns, None)),
            e(
                "spec",
                Y::M(vec![
                    e("minAvailable", int(1)),
                    e(
                        "selector",
                        Y::M(vec![e(
                            "matchLabels",
                            Y::M(vec![e("app.kubernetes.io/name", s(n))]),
                        )]),
                    ),
                ]),
            ),
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// Other YAML.

fn misc_file(rng: &mut Rng, target: usize) -> (String, String) {
    match rng.below(5) {
        0 => {
            let mut out = String::from(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"chart.fullname\" . }}\n  labels:\n    {{- include \"chart.labels\" . | nindent 4 }}\nspec:\n  replicas: {{ .Values.replicaCount }}\n  template:\n    spec:\n      containers:\n        - name: {{ .Chart.Name }}\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n          {{- with .Values.securityContext }}\n          securityContext:\n            {{- toYaml . | nindent 12 }}\n          {{- end }}\n",
            );
            while out.len() < target {
                out.push_str("          {{- if .Values.extraEnv }}\n          env:\n            {{- toYaml .Values.extraEnv | nindent 12 }}\n          {{- end }}\n");
            }
            ("deployment.yaml".into(), out)
        }
        1 => {
            let mut out = String::from(
                "name: ci\non:\n  push:\n    branches: [main]\n  pull_request:\njobs:\n",
            );
            let mut i = 0;
            while out.len() < target {
                let _ = write!(
                    out,
                    "  job{i}:\n    runs-on: ubuntu-latest\n    container:\n      image: rust:1.95\n    steps:\n      - uses: actions/checkout@v4\n      - run: cargo test --locked\n"
                );
                i += 1;
            }
            ("ci.yml".into(), out)
        }
        2 => {
            let mut out = String::from(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
            );
            while out.len() < target.min(4_000) {
                let _ = writeln!(out, "  - {}.yaml", name(rng));
            }
            ("kustomization.yaml".into(), out)
        }
        3 => {
            let mut out = String::from(
                "# Default values for the chart.\nreplicaCount: 1\nimage:\n  repository: nginx\n  tag: \"\"\nsecurityContext: {}\n  # readOnlyRootFilesystem: true\n",
            );
            while out.len() < target {
                let _ = writeln!(
                    out,
                    "{}:\n  enabled: false\n  port: {}",
                    name(rng).replace('-', "_"),
                    rng.range(1024, 9999)
                );
            }
            ("values.yaml".into(), out)
        }
        _ => ("empty.yaml".into(), String::new()),
    }
}
