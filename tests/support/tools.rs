//! The real `helm` and `kubectl` the tests render with: `IMMUTABOT_HELM` / `IMMUTABOT_KUBECTL`
//! when set (scripts/test sets them), else the pinned binaries scripts/test installs under
//! `target/render-tools/bin`.

#![allow(dead_code)]

use std::path::PathBuf;

fn tool(var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/render-tools/bin")
        .join(name);
    assert!(
        p.is_file(),
        "{name} not found: run scripts/test (it installs the pinned binaries) or set {var}"
    );
    p
}

/// The helm binary.
pub fn helm() -> PathBuf {
    tool("IMMUTABOT_HELM", "helm")
}

/// The kubectl binary.
pub fn kubectl() -> PathBuf {
    tool("IMMUTABOT_KUBECTL", "kubectl")
}

/// A folder of `../shared/` (charts, kustomize setups).
pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel)
}

/// Every file of `../shared/<rel>`, as (`<under>/<path inside rel>`, bytes), in path order.
pub fn shared_files(rel: &str, under: &str) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let root = shared(rel);
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out.into_iter()
        .map(|(p, b)| (format!("{under}/{p}"), b))
        .collect()
}

/// Values a shared chart needs to render at all (a schema-required value, placeholder
/// certificates; see each chart's CHART-SOURCE.md), from `tests/data/render/`.
pub fn required_values(chart: &str) -> Option<PathBuf> {
    let file = match chart {
        "external-dns" => "external-dns-policy.yaml",
        "linkerd-control-plane" => "linkerd-identity.yaml",
        _ => return None,
    };
    Some(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/render")
            .join(file),
    )
}
