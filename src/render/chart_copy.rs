//! A private copy of a chart with every template line marked (the core's
//! `helm_lines::annotate`), so that the render says which template line made each line.
//! The user's files are never written; symbolic links are not followed, so a chart cannot
//! make the render read files outside it.

use immutabot_core::render::helm_lines;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Bytes a chart may hold: a chart is templates and values, not data.
const MAX_CHART_BYTES: u64 = 64 * 1024 * 1024;

/// The marked copy and its table of files (index = the file number in the markers).
pub struct ChartCopy {
    dir: tempfile::TempDir,
    /// Report paths of the chart's files; index 0 is `Chart.yaml`.
    files: Vec<String>,
    /// Chart-relative path → index in `files`.
    index: HashMap<String, u32>,
    /// Whether template lines are marked.
    marked: bool,
}

impl ChartCopy {
    /// Copies the chart at `dir` (reported as `path`), marking its templates.
    pub fn make(dir: &Path, path: &str) -> std::io::Result<ChartCopy> {
        ChartCopy::with_marks(dir, path, true)
    }

    /// Copies the chart as it is: for a chart whose marked copy does not render (a template
    /// construct the marks do not foresee), lines are then known by `# Source:` only.
    pub fn plain(dir: &Path, path: &str) -> std::io::Result<ChartCopy> {
        ChartCopy::with_marks(dir, path, false)
    }

    /// Whether template lines are marked.
    pub fn is_marked(&self) -> bool {
        self.marked
    }

    fn with_marks(dir: &Path, path: &str, marked: bool) -> std::io::Result<ChartCopy> {
        let tmp = tempfile::Builder::new()
            .prefix("immutabot-chart.")
            .tempdir()?;
        let mut copy = ChartCopy {
            dir: tmp,
            files: vec![format!("{path}/Chart.yaml")],
            index: HashMap::from([("Chart.yaml".to_string(), 0)]),
            marked,
        };
        let mut budget = MAX_CHART_BYTES;
        copy.copy_dir(dir, Path::new(""), path, &mut budget)?;
        Ok(copy)
    }

    /// Where the copy lies.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Report paths by file number.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// For each line of a marker-free render: the template its document's `# Source:`
    /// names, at line 1 (for lines no marker reached).
    pub fn fallbacks(&self, text: &str) -> Vec<(u32, usize)> {
        let mut current = (0, 1);
        text.lines()
            .map(|l| {
                if let Some(src) = l.strip_prefix("# Source: ") {
                    // `<chart name>/templates/x.yaml`: the chart's folder name may differ.
                    let rel = src.split_once('/').map_or(src, |(_, r)| r);
                    current = (self.index.get(rel).copied().unwrap_or(0), 1);
                }
                current
            })
            .collect()
    }

    fn copy_dir(
        &mut self,
        from: &Path,
        rel: &Path,
        path: &str,
        budget: &mut u64,
    ) -> std::io::Result<()> {
        let mut files = Vec::new();
        collect(from, rel, budget, &mut files)?;
        // A template that another renders by path (for a checksum) must render as written.
        let included: HashSet<String> = files
            .iter()
            .filter(|(rel, _)| is_marked_template(rel))
            .filter_map(|(rel, bytes)| Some((rel, std::str::from_utf8(bytes).ok()?)))
            .flat_map(|(rel, text)| {
                let base = templates_folder(rel).to_string();
                helm_lines::included_files(text)
                    .into_iter()
                    .map(move |name| format!("{base}{name}"))
            })
            .collect();
        for (rel_str, bytes) in files {
            let to: PathBuf = self.dir.path().join(&rel_str);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let id = *self.index.entry(rel_str.clone()).or_insert_with(|| {
                self.files.push(format!("{path}/{rel_str}"));
                (self.files.len() - 1) as u32
            });
            let marked =
                self.marked && is_marked_template(&rel_str) && !included.contains(&rel_str);
            match std::str::from_utf8(&bytes) {
                Ok(text) if marked => std::fs::write(to, helm_lines::annotate(text, id))?,
                _ => std::fs::write(to, bytes)?,
            }
        }
        Ok(())
    }
}

/// Every regular file under `from` as (chart-relative path, bytes), within `budget`.
fn collect(
    from: &Path,
    rel: &Path,
    budget: &mut u64,
    out: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(from)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name == ".git" {
            continue;
        }
        let meta = std::fs::symlink_metadata(e.path())?;
        let sub = rel.join(&name);
        if meta.is_dir() {
            collect(&e.path(), &sub, budget, out)?;
        } else if meta.is_file() {
            *budget = budget.checked_sub(meta.len()).ok_or_else(|| {
                std::io::Error::other(format!(
                    "the chart holds more than {} MiB",
                    MAX_CHART_BYTES / (1024 * 1024)
                ))
            })?;
            let rel_str = sub.to_string_lossy().replace('\\', "/");
            out.push((rel_str, std::fs::read(e.path())?));
        }
    }
    Ok(())
}

/// `templates/` or `charts/sub/templates/`: the folder a template's includes are relative to.
fn templates_folder(rel: &str) -> &str {
    match rel.rfind("templates/") {
        Some(i) => &rel[..i + "templates/".len()],
        None => "",
    }
}

/// Templates whose lines are marked: under a `templates/` folder (the chart's or a
/// subchart's), YAML or `.tpl`, and not a partial (`_helpers.tpl`): a partial's output is
/// used inside other values, where a comment would change them.
fn is_marked_template(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let in_templates = rel.starts_with("templates/") || rel.contains("/templates/");
    in_templates
        && !name.starts_with('_')
        && (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".tpl"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_and_files_outside_templates_are_not_marked() {
        assert!(is_marked_template("templates/deployment.yaml"));
        assert!(is_marked_template("charts/sub/templates/x.yml"));
        assert!(!is_marked_template("templates/_helpers.tpl"));
        assert!(!is_marked_template("values.yaml"));
        assert!(!is_marked_template("templates/NOTES.txt"));
    }
}
