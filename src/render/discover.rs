//! Which folders are charts and kustomizations, and which of them deploy on their own.
//!
//! A folder with `Chart.yaml` is a chart, unless it lies in another chart's `charts/` (a
//! subchart renders with its parent). A folder with `kustomization.yaml`, `.yml` or
//! `Kustomization` is a kustomization; one that another kustomization of the same tree lists
//! as a resource, base or component is a base: it deploys through that overlay, so only the
//! overlay is rendered and counted.

use crate::yaml::{Limits, Stream};
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// The file names that make a folder a kustomization, in kustomize's order of preference.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What a tree holds to render.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Renderables {
    /// Chart folders (holding `Chart.yaml`), subcharts excluded.
    pub charts: Vec<PathBuf>,
    /// Kustomization folders that no other kustomization of the tree builds on.
    pub kustomizations: Vec<PathBuf>,
    /// Kustomization folders that another one builds on (rendered only through it).
    pub bases: Vec<PathBuf>,
}

/// Whether `name` (a file name) marks a kustomization folder.
pub fn is_kustomization_file(name: &str) -> bool {
    KUSTOMIZATION_FILES.contains(&name)
}

/// Finds the charts and kustomizations among `files` (paths of every file walked).
pub fn find(files: &[PathBuf]) -> Renderables {
    let mut charts = BTreeSet::new();
    let mut kustomizations = BTreeSet::new();
    for f in files {
        let (Some(dir), Some(name)) = (f.parent(), f.file_name().and_then(|n| n.to_str())) else {
            continue;
        };
        if name == "Chart.yaml" {
            charts.insert(dir.to_path_buf());
        } else if is_kustomization_file(name) {
            kustomizations.insert(dir.to_path_buf());
        }
    }
    let charts: Vec<PathBuf> = charts
        .iter()
        .filter(|c| !is_subchart(c, &charts))
        .cloned()
        .collect();
    let (kustomizations, bases) = split_bases(&kustomizations);
    Renderables {
        charts,
        kustomizations,
        bases,
    }
}

/// A chart inside `<other chart>/charts/`.
fn is_subchart(dir: &Path, charts: &BTreeSet<PathBuf>) -> bool {
    let mut cur = dir.parent();
    while let Some(p) = cur {
        if p.file_name().is_some_and(|n| n == "charts")
            && p.parent().is_some_and(|pp| charts.contains(pp))
        {
            return true;
        }
        cur = p.parent();
    }
    false
}

fn split_bases(all: &BTreeSet<PathBuf>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut used = BTreeSet::new();
    for dir in all {
        let Some(text) = kustomization_text(dir) else {
            continue;
        };
        if is_component(&text) {
            used.insert(lexical(dir));
        }
        for r in local_references(&text) {
            used.insert(lexical(&dir.join(r)));
        }
    }
    all.iter()
        .cloned()
        .partition(|d| !used.contains(&lexical(d)))
}

/// The text of the kustomization file in `dir`.
pub fn kustomization_text(dir: &Path) -> Option<String> {
    KUSTOMIZATION_FILES
        .iter()
        .find_map(|n| std::fs::read_to_string(dir.join(n)).ok())
}

/// The kustomization file's path in `dir`.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// A `kind: Component` is only ever built into another kustomization.
fn is_component(text: &str) -> bool {
    let s = Stream::parse(text, Limits::default());
    s.docs
        .first()
        .copied()
        .flatten()
        .and_then(|root| s.get_str(root, "kind"))
        == Some("Component")
}

/// The local entries of `resources`, `bases` and `components` (remote URLs are not local).
pub fn local_references(text: &str) -> Vec<String> {
    let s = Stream::parse(text, Limits::default());
    let Some(root) = s.docs.first().copied().flatten() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["resources", "bases", "components"] {
        let Some((_, seq)) = s.get(root, key) else {
            continue;
        };
        for item in s.items(seq) {
            if let Some(v) = s.scalar(*item)
                && !immutabot_core::render::kustomize::is_remote(v)
            {
                out.push(v.to_string());
            }
        }
    }
    out
}

/// The patch files a kustomization lists (`patches[].path`, `patchesStrategicMerge`,
/// `patchesJson6902[].path`): parts of its render, not resources of their own.
pub fn patch_files(text: &str) -> Vec<String> {
    let s = Stream::parse(text, Limits::default());
    let Some(root) = s.docs.first().copied().flatten() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
        let Some((_, seq)) = s.get(root, key) else {
            continue;
        };
        for &item in s.items(seq) {
            let path = if s.is_map(item) {
                s.get_str(item, "path")
            } else {
                s.scalar(item).filter(|v| !v.contains('\n'))
            };
            out.extend(path.map(str::to_string));
        }
    }
    out
}

/// The kustomization folders a render of `dir` reads: itself and, recursively, the local
/// folders it lists that hold a kustomization file.
pub fn reached_folders(dir: &Path) -> Vec<PathBuf> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut todo = vec![lexical(dir)];
    while let Some(d) = todo.pop() {
        if seen.contains(&d) || seen.len() > 256 {
            continue;
        }
        let Some(text) = kustomization_text(&d) else {
            continue;
        };
        for r in local_references(&text) {
            let sub = lexical(&d.join(r));
            if sub.is_dir() {
                todo.push(sub);
            }
        }
        seen.push(d);
    }
    seen
}

/// `path` as seen from `base` (both absolute): `a/b.yaml`, or `../x/b.yaml` beside it.
pub fn relative_to(path: &Path, base: &Path) -> String {
    let base = std::fs::canonicalize(base).unwrap_or_else(|_| lexical(base));
    let (p, b): (Vec<_>, Vec<_>) = (path.components().collect(), base.components().collect());
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common <= 1 {
        return path.to_string_lossy().into_owned();
    }
    let mut out: Vec<String> = vec!["..".to_string(); b.len() - common];
    out.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    out.join("/")
}

/// Folds `.` and `..` without touching the file system.
pub fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcharts_are_not_charts_of_their_own() {
        let files: Vec<PathBuf> = [
            "a/Chart.yaml",
            "a/charts/sub/Chart.yaml",
            "b/Chart.yaml",
            "a/templates/x.yaml",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let r = find(&files);
        assert_eq!(r.charts, vec![PathBuf::from("a"), PathBuf::from("b")]);
    }

    #[test]
    fn local_references_leave_remote_ones_out() {
        let text = "resources:\n- ../base\n- deploy.yaml\n- https://github.com/x/y//z?ref=v1\n- github.com/a/b\nbases: [../../legacy]\ncomponents:\n- ../comp\n";
        assert_eq!(
            local_references(text),
            vec!["../base", "deploy.yaml", "../../legacy", "../comp"]
        );
    }
}
