//! A private folder mirroring the repository's paths, filled with only the files a render
//! needs: a chart's folder, or a kustomization's folder and the local folders it builds on,
//! recursively. Files come by blob id; each is written once per job.

use super::select::{self, Kind, RenderUnit};
use super::{Blobs, MAX_UNIT_BYTES, MAX_UNIT_FILES};
use crate::forge::{Tree, TreeEntry};
use crate::render::discover;
use anyhow::Context;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::{Component, Path, PathBuf};

/// The private folder of one job's renders.
pub struct Workspace {
    _dir: tempfile::TempDir,
    /// The folder, canonical: renderers report canonical paths, mapped back by prefix.
    root: PathBuf,
    /// Repository paths written, with their sizes.
    written: HashMap<String, usize>,
}

/// The files of one unit, as repository paths.
#[derive(Debug, Default)]
pub struct Materialised {
    /// Every file written for it.
    pub files: Vec<String>,
    /// Files its kustomizations list (resources, patches) and the kustomization files: what
    /// a successful render deploys or applies, so not counted again as plain files.
    pub listed: Vec<String>,
}

/// How much one unit fetched so far.
#[derive(Default)]
struct Budget {
    files: usize,
    bytes: usize,
}

impl Workspace {
    /// A new empty folder.
    pub fn new() -> anyhow::Result<Workspace> {
        let dir = tempfile::Builder::new()
            .prefix("immutabot-render.")
            .tempdir()
            .context("cannot make a folder for rendering")?;
        let root = std::fs::canonicalize(dir.path()).context("cannot resolve the folder")?;
        Ok(Workspace {
            _dir: dir,
            root,
            written: HashMap::new(),
        })
    }

    /// Where the repository's paths start.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The text of a written file (empty when it was not written).
    pub fn text_of(&self, path: &str) -> String {
        std::fs::read(self.root.join(path))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Fetches and writes one tree entry (once); returns its size.
    pub async fn fetch<B: Blobs>(&mut self, blobs: &B, entry: &TreeEntry) -> anyhow::Result<usize> {
        if let Some(n) = self.written.get(&entry.path) {
            return Ok(*n);
        }
        let dest = self
            .dest(&entry.path)
            .with_context(|| format!("`{}` is not a safe path to write", entry.path))?;
        let bytes = blobs.blob(&entry.sha).await?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot make {}", parent.display()))?;
        }
        std::fs::write(&dest, &bytes)
            .with_context(|| format!("cannot write {}", dest.display()))?;
        self.written.insert(entry.path.clone(), bytes.len());
        Ok(bytes.len())
    }

    /// Writes every file a unit's render reads; returns their repository paths, or why the
    /// unit is too large to render.
    pub async fn materialise<B: Blobs>(
        &mut self,
        blobs: &B,
        tree: &Tree,
        unit: &RenderUnit,
    ) -> anyhow::Result<Result<Materialised, String>> {
        let mut budget = Budget::default();
        let mut out = Materialised::default();
        let mut seen = BTreeSet::from([unit.path.clone()]);
        let mut folders = VecDeque::from([unit.path.clone()]);
        while let Some(folder) = folders.pop_front() {
            for entry in select::folder_files(tree, &folder) {
                if let Err(why) = self.take(blobs, entry, &mut budget).await? {
                    return Ok(Err(format!("{} not rendered: {why}", unit.path_shown())));
                }
                out.files.push(entry.path.clone());
            }
            if unit.kind == Kind::Chart {
                continue;
            }
            out.listed.extend(self.listed_files(tree, &folder));
            for dir in self.referenced_folders(tree, &folder) {
                if seen.insert(dir.clone()) {
                    folders.push_back(dir);
                }
            }
        }
        Ok(Ok(out))
    }

    /// Fetches one file within the unit's budget.
    async fn take<B: Blobs>(
        &mut self,
        blobs: &B,
        entry: &TreeEntry,
        budget: &mut Budget,
    ) -> anyhow::Result<Result<(), String>> {
        budget.files += 1;
        if budget.files > MAX_UNIT_FILES {
            return Ok(Err(format!("it holds more than {MAX_UNIT_FILES} files")));
        }
        let over = |n: usize| n > MAX_UNIT_BYTES;
        if entry.size.is_some_and(|n| over(budget.bytes + n as usize)) {
            return Ok(Err(too_many_bytes()));
        }
        budget.bytes += self.fetch(blobs, entry).await?;
        Ok(if over(budget.bytes) {
            Err(too_many_bytes())
        } else {
            Ok(())
        })
    }

    /// The local folders a written kustomization lists (`resources`, `bases`, `components`)
    /// that the tree has; files it lists lie in its own folder, already written.
    fn referenced_folders(&self, tree: &Tree, folder: &str) -> Vec<String> {
        let Some(text) = discover::kustomization_text(&self.root.join(folder)) else {
            return Vec::new();
        };
        discover::local_references(&text)
            .into_iter()
            .filter_map(|r| {
                let p = discover::lexical(&Path::new(folder).join(r));
                let p = p.to_string_lossy().replace('\\', "/");
                (!p.starts_with("..") && select::is_folder(tree, &p)).then_some(p)
            })
            .collect()
    }

    /// The kustomization file of a written folder and the tree's files it lists.
    fn listed_files(&self, tree: &Tree, folder: &str) -> Vec<String> {
        let dir = self.root.join(folder);
        let Some(own) = discover::kustomization_file(&dir) else {
            return Vec::new();
        };
        let text = std::fs::read_to_string(&own).unwrap_or_default();
        let mut out: Vec<String> = listed(&text)
            .into_iter()
            .map(|f| discover::lexical(&Path::new(folder).join(f)))
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .filter(|p| tree.entries.iter().any(|e| e.is_file() && &e.path == p))
            .collect();
        if let Ok(rel) = own.strip_prefix(&self.root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
        out
    }

    /// Where a repository path is written: plain names below the root only.
    fn dest(&self, path: &str) -> Option<PathBuf> {
        let p = Path::new(path);
        let plain = p.components().all(|c| matches!(c, Component::Normal(_)));
        (plain && !path.is_empty()).then(|| self.root.join(p))
    }
}

/// The local files a kustomization names as resources or patches (folders and remote
/// references are left to the caller).
fn listed(text: &str) -> Vec<String> {
    use crate::yaml::{Limits, Stream};
    let mut out = discover::local_references(text);
    let s = Stream::parse(text, Limits::default());
    let Some(root) = s.docs.first().copied().flatten() else {
        return out;
    };
    for key in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
        let Some((_, seq)) = s.get(root, key) else {
            continue;
        };
        for item in s.items(seq) {
            let path = if s.is_map(*item) {
                s.get_str(*item, "path")
            } else {
                s.scalar(*item)
            };
            out.extend(path.map(str::to_string));
        }
    }
    out
}

fn too_many_bytes() -> String {
    format!("it holds more than {} MiB", MAX_UNIT_BYTES >> 20)
}

impl RenderUnit {
    /// The folder as a note names it.
    pub fn path_shown(&self) -> String {
        let what = match self.kind {
            Kind::Chart => "Helm chart",
            Kind::Kustomization => "kustomization",
        };
        let path = if self.path.is_empty() {
            "."
        } else {
            &self.path
        };
        format!("{what} `{path}`")
    }
}
