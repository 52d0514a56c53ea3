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
