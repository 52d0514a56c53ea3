//! The knowledge base of writable paths per image (`data/images.yaml`, sourced).
//!
//! Docker makes an image's `VOLUME` directories writable even under `read_only: true`;
//! Kubernetes ignores them, so the two targets need different scratch mounts.

use crate::inventory::{Target, UnitFacts};
use serde::Deserialize;
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/images.yaml");

/// One image family and the paths it writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Repository names (no registry, no `library/`, no tag).
    pub names: Vec<String>,
    /// Paths that must be writable under Docker and Kubernetes.
    #[serde(default)]
    pub paths: Vec<String>,
    /// The image's `VOLUME`s: writable under Docker, need a mount under Kubernetes.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// The uid the main process runs as, for tmpfs ownership.
    #[serde(default)]
    pub user: Option<u32>,
    /// One sentence shown to users.
    #[serde(default)]
    pub note: String,
    /// Where the facts come from.
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Base {
    images: Vec<Entry>,
}

/// All entries, parsed once.
pub fn entries() -> &'static [Entry] {
    static KB: OnceLock<Vec<Entry>> = OnceLock::new();
    KB.get_or_init(|| {
        serde_saphyr::from_str::<Base>(DATA)
            .map(|b| b.images)
            // The data file is compiled in and tested; an error here is a build defect.
            .unwrap_or_default()
    })
}

/// Splits an image reference into repository (without registry and `library/`) and tag.
pub fn repository(image: &str) -> (String, String) {
    let image = image.split('@').next().unwrap_or(image);
    let (name, tag) = match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => (&image[..i], &image[i + 1..]),
        _ => (image, ""),
    };
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        parts.remove(0);
    }
    if parts.len() > 1 && parts[0] == "library" {
        parts.remove(0);
    }
    (parts.join("/").to_ascii_lowercase(), tag.to_string())
}

/// The knowledge-base entry for an image reference.
pub fn lookup(image: &str) -> Option<&'static Entry> {
    if image.contains('$') {
        return None;
    }
    let (repo, _) = repository(image);
    entries().iter().find(|e| e.names.contains(&repo))
}

/// Paths the unit's image needs writable on its target, Alpine's `/run` applied.
pub fn needs(u: &UnitFacts) -> Vec<String> {
    let Some(image) = u.unit.image.as_deref() else {
        return Vec::new();
    };
    let Some(entry) = lookup(image) else {
        return Vec::new();
    };
    let alpine = repository(image).1.contains("alpine");
    let mut out: Vec<String> = entry.paths.clone();
    if u.target == Target::Kubernetes {
        out.extend(entry.volumes.iter().cloned());
    }
    if alpine {
        // Alpine links /var/run to /run; a mount on the link target is what works.
        for p in &mut out {
            if let Some(rest) = p.strip_prefix("/var/run") {
                *p = format!("/run{rest}");
            }
        }
    }
    out.dedup();
    out
}

fn canonical(p: &str) -> &str {
    let p = p.trim_end_matches('/');
    p.strip_prefix("/var/run").map_or(p, |_| &p[4..])
}

/// Whether `path` is inside one of `mounts` (`/var/run` and `/run` are the same place).
pub fn covered(path: &str, mounts: &[String]) -> bool {
    let path = canonical(path);
    mounts.iter().any(|m| {
        let m = canonical(m);
        path == m
            || (path.starts_with(m) && path.as_bytes().get(m.len()) == Some(&b'/'))
            || m.is_empty()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_parses() {
        assert!(serde_saphyr::from_str::<Base>(DATA).is_ok());
        assert!(!entries().is_empty());
    }

    #[test]
    fn image_names() {
        assert_eq!(repository("nginx:1.27"), ("nginx".into(), "1.27".into()));
        assert_eq!(
            repository("docker.io/library/nginx:1.27-alpine"),
            ("nginx".into(), "1.27-alpine".into())
        );
        assert_eq!(repository("localhost:5000/app"), ("app".into(), "".into()));
        assert_eq!(
            repository("bitnami/redis@sha256:ab"),
            ("bitnami/redis".into(), "".into())
        );
    }

    #[test]
    fn run_and_var_run_are_one_place() {
        assert!(covered("/var/run", &["/run".to_string()]));
        assert!(covered("/var/cache/nginx", &["/var/cache".to_string()]));
        assert!(!covered("/var/cache/nginx", &["/var/cache/ng".to_string()]));
    }
}
