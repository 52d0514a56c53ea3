//! Which charts and kustomizations of a commit's tree to render: those holding a changed
//! file (reviews), or every deploy root (scans). Read from the tree's paths alone, except
//! which kustomizations are bases, which needs their text (materialised first).

use crate::forge::{EntryKind, Tree, TreeEntry};
use crate::render::discover;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// What a folder is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A Helm chart (`Chart.yaml`).
    Chart,
    /// A kustomization (`kustomization.yaml`, `.yml`, `Kustomization`).
    Kustomization,
}

/// One folder to render.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RenderUnit {
    /// Chart or kustomization.
    pub kind: Kind,
    /// The folder's repository path (`charts/web`; empty for the root).
    pub path: String,
}

impl RenderUnit {
    /// `name` inside the folder, as a repository path.
    pub fn join(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.path)
        }
    }

    /// The file that makes the folder what it is (`Chart.yaml`, its kustomization file).
    pub fn own_file(&self, tree: &Tree) -> String {
        match self.kind {
            Kind::Chart => self.join("Chart.yaml"),
            Kind::Kustomization => discover::KUSTOMIZATION_FILES
                .iter()
                .map(|n| self.join(n))
                .find(|p| tree.entries.iter().any(|e| &e.path == p))
                .unwrap_or_else(|| self.join("kustomization.yaml")),
        }
    }
}

/// Whether a changed path can be part of a chart or kustomization at all: the tree is only
/// listed for requests that change such a file.
pub fn may_render(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    discover::is_kustomization_file(name)
        || [".yaml", ".yml", ".tpl", ".txt", ".json", ".env"]
            .iter()
            .any(|ext| name.ends_with(ext))
        || name == ".helmignore"
}

/// Charts (subcharts render with their parent) and kustomizations holding a changed path.
pub fn touched(tree: &Tree, changed: &[String]) -> Vec<RenderUnit> {
    let charts = chart_dirs(tree);
    let kustomizations: HashSet<String> = tree
        .entries
        .iter()
        .filter(|e| e.is_file() && discover::is_kustomization_file(name_of(&e.path)))
        .map(|e| parent_of(&e.path).to_string())
        .collect();
    let mut out = BTreeSet::new();
    for path in changed {
        let nearest = |set: &dyn Fn(&str) -> bool| ancestors(path).find(|a| set(a));
        if let Some(dir) = nearest(&|a| charts.contains(a)) {
            out.insert(RenderUnit {
                kind: Kind::Chart,
                path: dir.to_string(),
            });
        }
        if let Some(dir) = nearest(&|a| kustomizations.contains(a)) {
            out.insert(RenderUnit {
                kind: Kind::Kustomization,
                path: dir.to_string(),
            });
        }
    }
    out.into_iter().collect()
}

/// Every chart and every kustomization no other one builds on, of a tree whose
/// kustomization files are materialised under `root`.
pub fn deploy_roots(tree: &Tree, root: &Path) -> Vec<RenderUnit> {
    let files: Vec<PathBuf> = tree
        .entries
        .iter()
        .filter(|e| e.is_file() && is_marker(name_of(&e.path)))
        .map(|e| root.join(&e.path))
        .collect();
    let found = discover::find(&files);
    let unit = |kind: Kind| {
        move |dir: &PathBuf| {
            let rel = dir.strip_prefix(root).unwrap_or(dir);
            RenderUnit {
                kind,
                path: rel.to_string_lossy().replace('\\', "/"),
            }
        }
    };
    let mut out: Vec<RenderUnit> = found.charts.iter().map(unit(Kind::Chart)).collect();
    out.extend(found.kustomizations.iter().map(unit(Kind::Kustomization)));
    out
}

/// What to render for the kustomizations a change touches: a base is rendered through
/// every deploy root of the tree that builds on it, as it deploys; a root stays itself.
/// Needs the tree's kustomization files materialised under `root`.
pub fn through_roots(touched: Vec<RenderUnit>, tree: &Tree, root: &Path) -> Vec<RenderUnit> {
    let roots: Vec<(RenderUnit, Vec<PathBuf>)> = deploy_roots(tree, root)
        .into_iter()
        .filter(|u| u.kind == Kind::Kustomization)
        .map(|u| {
            let reached = discover::reached_folders(&root.join(&u.path));
            (u, reached)
        })
        .collect();
    let mut out = BTreeSet::new();
    for u in touched {
        if u.kind != Kind::Kustomization {
            out.insert(u);
            continue;
        }
        let dir = discover::lexical(&root.join(&u.path));
        let via: Vec<&RenderUnit> = roots
            .iter()
            .filter(|(r, reached)| r != &u && reached.contains(&dir))
            .map(|(r, _)| r)
            .collect();
        if via.is_empty() {
            out.insert(u);
        } else {
            out.extend(via.into_iter().cloned());
        }
    }
    out.into_iter().collect()
}

/// The kustomization files of a tree (what [`deploy_roots`] needs materialised).
pub fn kustomization_files(tree: &Tree) -> impl Iterator<Item = &TreeEntry> {
    tree.entries
        .iter()
        .filter(|e| e.is_file() && discover::is_kustomization_file(name_of(&e.path)))
}

/// Chart folders, subcharts left out (from the paths of `Chart.yaml` files alone).
pub fn chart_dirs(tree: &Tree) -> HashSet<String> {
    let files: Vec<PathBuf> = tree
        .entries
        .iter()
        .filter(|e| e.is_file() && name_of(&e.path) == "Chart.yaml")
        .map(|e| PathBuf::from(&e.path))
        .collect();
    discover::find(&files)
        .charts
        .iter()
        .map(|d| d.to_string_lossy().replace('\\', "/"))
        .collect()
}

/// Regular files under `dir` (the whole tree for the root), at any depth.
pub fn folder_files<'t>(tree: &'t Tree, dir: &str) -> impl Iterator<Item = &'t TreeEntry> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    tree.entries
        .iter()
        .filter(move |e| e.is_file() && e.path.starts_with(&prefix))
}

/// Whether `path` is a folder of the tree.
pub fn is_folder(tree: &Tree, path: &str) -> bool {
    path.is_empty()
        || tree
            .entries
            .iter()
            .any(|e| e.kind == EntryKind::Tree && e.path == path)
}

/// The folders holding `path`, nearest first, the root (empty) last.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut cur = Some(path);
    std::iter::from_fn(move || {
        let p = cur?;
        let parent = parent_of(p);
        cur = (!p.is_empty()).then_some(parent);
        cur
    })
}

fn is_marker(name: &str) -> bool {
    name == "Chart.yaml" || discover::is_kustomization_file(name)
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::ObjectId;

    fn tree(paths: &[&str]) -> Tree {
        let sha = ObjectId::parse("0123456789012345678901234567890123456789").unwrap();
        let mut entries = Vec::new();
        for p in paths {
            entries.push(TreeEntry {
                path: p.to_string(),
                mode: "100644".into(),
                kind: EntryKind::Blob,
                sha: sha.clone(),
                size: Some(1),
            });
        }
        Tree {
            entries,
            truncated: false,
        }
    }

    #[test]
    fn a_changed_file_selects_its_nearest_chart_and_kustomization() {
        let t = tree(&[
            "charts/web/Chart.yaml",
            "charts/web/values.yaml",
            "charts/web/charts/sub/Chart.yaml",
            "k/base/kustomization.yaml",
            "k/base/deploy.yaml",
            "README.md",
        ]);
        let changed = [
            "charts/web/charts/sub/values.yaml".to_string(),
            "k/base/deploy.yaml".to_string(),
            "README.md".to_string(),
        ];
        assert_eq!(
            touched(&t, &changed),
            [
                RenderUnit {
                    kind: Kind::Chart,
                    path: "charts/web".into()
                },
                RenderUnit {
                    kind: Kind::Kustomization,
                    path: "k/base".into()
                },
            ]
        );
    }

    #[test]
    fn ancestors_end_at_the_root() {
        assert_eq!(
            ancestors("a/b/c.yaml").collect::<Vec<_>>(),
            ["a/b", "a", ""]
        );
        assert_eq!(ancestors("c.yaml").collect::<Vec<_>>(), [""]);
    }
}
