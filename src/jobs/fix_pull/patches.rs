//! The patch set of a fix-all pull request: every patch `immutabot check --fix` would make
//! to the files of one commit, and what each patched unit got and why. Pure: the files and
//! the renders' reports come in, text goes out.

use crate::analyze;
use crate::cli::fix;
use crate::config::Config;
use crate::knowledge;
use crate::model::{FileReport, Fix};
use crate::scan::files::{Recording, TreeFiles};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One file as the fix-all commit changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFix {
    /// Its path.
    pub path: String,
    /// Its text at the base commit.
    pub before: String,
    /// Its text in the fix-all commit.
    pub after: String,
}

/// One unit the commit makes read-only, for the pull request's body.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitFix {
    /// The file the patch is in.
    pub path: String,
    /// The workload, and the container when it has one.
    pub unit: String,
    /// What the patch does (the switch, and the scratch mounts it adds).
    pub description: String,
    /// The image, when known.
    pub image: Option<String>,
    /// Why the image needs those mounts: the knowledge base's note.
    pub why: Option<String>,
    /// Where the knowledge base has it from.
    pub sources: Vec<String>,
}

/// Everything the fix-all commit changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchSet {
    /// Changed files, by path.
    pub files: Vec<FileFix>,
    /// Patched units, by path and unit.
    pub units: Vec<UnitFix>,
}

impl PatchSet {
    /// Whether there is nothing to fix.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Names the findings the set fixes (file, unit and patch, never line numbers or the
    /// rest of the files): a default branch that moves elsewhere keeps it.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for u in &self.units {
            h.update(format!("{}\0{}\0{}\n", u.path, u.unit, u.description));
        }
        for f in &self.files {
            h.update(format!("{}\n", f.path));
        }
        hex::encode(h.finalize())
    }

    /// Adds a changed file and its units, keeping both sorted.
    pub fn add(&mut self, file: FileFix, units: Vec<UnitFix>) {
        self.files.push(file);
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.units.extend(units);
        self.units.sort();
        self.units.dedup();
    }
}

/// Fixes one plain Compose or Kubernetes file as `check --fix` does, round after round;
/// `None` when nothing changes. `files` answers what the analysis reads beside it.
pub fn fix_plain(
    path: &str,
    bytes: &[u8],
    config: &Config,
    files: &TreeFiles,
) -> Option<(FileFix, Vec<UnitFix>)> {
    let fixed = fix::fix_bytes(bytes.to_vec(), |b| {
        analyze::analyze(path, b, config, &Recording::new(files))
    });
    if fixed.applied == 0 || fixed.bytes == bytes {
        return None;
    }
    let before = String::from_utf8(bytes.to_vec()).ok()?;
    let after = String::from_utf8(fixed.bytes).ok()?;
    let units = units_of(&fixed.original);
    Some((
        FileFix {
            path: path.to_string(),
            before,
            after,
        },
        units,
    ))
}

/// Applies the fixes that charts' and kustomizations' renders placed (in values files,
/// templates and resources) to their sources, as `check --fix` does: one round per file.
/// `sources[i]` is the text of `reports[i]`'s file.
pub fn fix_rendered(reports: &[FileReport], sources: &[String]) -> Vec<(FileFix, Vec<UnitFix>)> {
    let mut by_path: BTreeMap<&str, (&str, Vec<&Fix>, Vec<UnitFix>)> = BTreeMap::new();
    for (r, text) in reports.iter().zip(sources) {
        let entry = by_path
            .entry(r.path.as_str())
            .or_insert_with(|| (text.as_str(), Vec::new(), Vec::new()));
        for f in r.findings.iter().filter(|f| f.suppressed.is_none()) {
            // Two overlays of one base, or two values files, can ask for the same patch.
            if let Some(fix) = &f.fix
                && !entry.1.contains(&fix)
            {
                entry.1.push(fix);
            }
        }
        entry.2.extend(units_of(r));
    }
    by_path
        .into_iter()
        .filter_map(|(path, (before, fixes, units))| {
            let (bom, body) = fix::split_bom(before);
            let (after, applied) = crate::patch::apply_all(body, fixes.iter().copied());
            let after = format!("{bom}{after}");
            (applied > 0 && after != before).then(|| {
                let file = FileFix {
                    path: path.to_string(),
                    before: before.to_string(),
                    after,
                };
                (file, units)
            })
        })
        .collect()
}

/// The units of a report whose findings carry a patch, with the knowledge base's reason.
fn units_of(report: &FileReport) -> Vec<UnitFix> {
    report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .filter_map(|f| {
            let fix = f.fix.as_ref()?;
            let image = report
                .units
                .iter()
                .find(|u| Some(&u.workload) == f.workload.as_ref() && u.container == f.container)
                .and_then(|u| u.image.clone());
            let entry = image.as_deref().and_then(knowledge::lookup);
            let unit = match (&f.workload, &f.container) {
                (Some(w), Some(c)) => format!("{w} / {c}"),
                (Some(w), None) => w.clone(),
                (None, _) => "(file)".to_string(),
            };
            Some(UnitFix {
                path: report.path.clone(),
                unit,
                description: fix.description.clone(),
                image,
                why: entry.map(|e| e.note.clone()).filter(|n| !n.is_empty()),
                sources: entry.map(|e| e.sources.clone()).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::Tree;

    const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
";

    #[test]
    fn a_writable_deployment_gets_the_switch_and_its_mounts_with_their_source() {
        let files = TreeFiles::new(&Tree::default());
        let (file, units) =
            fix_plain("k8s/web.yaml", WEB.as_bytes(), &Config::default(), &files).unwrap();
        assert!(file.after.contains("readOnlyRootFilesystem: true"));
        assert!(file.after.starts_with(WEB.trim_end()));
        assert_eq!(units.len(), 1);
        assert_eq!(units[0].unit, "Deployment/web / nginx");
        assert!(units[0].description.contains("/var/cache/nginx"));
        assert!(!units[0].sources.is_empty());
    }

    #[test]
    fn a_read_only_file_is_not_patched_and_the_fingerprint_ignores_lines() {
        let files = TreeFiles::new(&Tree::default());
        let ok = "services:\n  app:\n    image: ghcr.io/acme/app:1\n    read_only: true\n";
        assert!(fix_plain("compose.yaml", ok.as_bytes(), &Config::default(), &files).is_none());
        let mut a = PatchSet::default();
        let (file, units) =
            fix_plain("k8s/web.yaml", WEB.as_bytes(), &Config::default(), &files).unwrap();
        a.add(file, units);
        let moved = format!("# a comment\n{WEB}");
        let mut b = PatchSet::default();
        let (file, units) =
            fix_plain("k8s/web.yaml", moved.as_bytes(), &Config::default(), &files).unwrap();
        b.add(file, units);
        assert_eq!(a.fingerprint(), b.fingerprint());
    }
}
