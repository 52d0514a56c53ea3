//! Checking a kustomization as it deploys: render it with `kubectl kustomize` through a
//! wrapper that asks for origin annotations, analyse the output with the core, and carry
//! each unit to the resource file it originates from (and its line there).

use crate::analyze::{NoFiles, analyze};
use crate::config::Config;
use crate::model::{FileReport, Format, RenderTool, Rendered, Unit};
use crate::render::discover;
use crate::render::process::{self, Bounds};
use crate::render::skipped;
use immutabot_core::render::kustomize::{self as rendered, RenderedObject};
use immutabot_core::render::{relocate, render_failed};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// A kustomization to check.
#[derive(Debug, Clone)]
pub struct Kustomization<'a> {
    /// Its folder on disk.
    pub dir: &'a Path,
    /// The folder as reported.
    pub path: &'a str,
}

/// How to render.
#[derive(Debug, Clone)]
pub struct KustomizeOptions<'a> {
    /// The kubectl binary, when one was found.
    pub kubectl: Option<&'a Path>,
    /// Time and output budget of one render.
    pub bounds: Bounds,
    /// Reported paths are relative to this folder.
    pub cwd: &'a Path,
}

/// What checking one kustomization gave.
#[derive(Debug, Default)]
pub struct Checked {
    /// One report per resource file with units or findings, or on the kustomization file.
    pub reports: Vec<FileReport>,
    /// Files the render stands for: the resources it read and the kustomization files.
    pub claimed: Vec<PathBuf>,
}

/// Renders and checks one kustomization.
pub fn check(k: &Kustomization<'_>, opts: &KustomizeOptions<'_>, config: &Config) -> Checked {
    let file = discover::kustomization_file(k.dir)
        .and_then(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "kustomization.yaml".into());
    let own = format!("{}/{file}", k.path);
    let Some(kubectl) = opts.kubectl else {
        return Checked {
            reports: vec![skipped(
                &own,
                "kustomization not rendered: kubectl was not found (install it, https://kubernetes.io/docs/tasks/tools/, or pass --kubectl PATH; --no-render checks its files as they are)",
            )],
            claimed: Vec::new(),
        };
    };
    let text = discover::kustomization_text(k.dir).unwrap_or_default();
    let remote = rendered::remote_references(&text);
    if !remote.is_empty() {
        let msg = format!(
            "not rendered: it builds on a remote base ({}), and rendering is offline",
            remote.join(", ")
        );
        return Checked {
            reports: vec![failed(k, &own, config, msg)],
            claimed: Vec::new(),
        };
    }
    match render(kubectl, k.dir, opts.bounds) {
        Ok(out) => reports_of(&out, k, &own, opts, config),
        Err(msg) => Checked {
            reports: vec![failed(k, &own, config, msg)],
            claimed: Vec::new(),
        },
    }
}

/// `kubectl kustomize` of a wrapper that lists the kustomization and asks for origins.
fn render(kubectl: &Path, dir: &Path, bounds: Bounds) -> Result<String, String> {
    let target = std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let wrap = tempfile::Builder::new()
        .prefix("immutabot-kustomize.")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let wrap_dir = std::fs::canonicalize(wrap.path()).map_err(|e| e.to_string())?;
    // Kustomize refuses absolute resource paths: climb from the wrapper to `/`.
    let rel = relative_from(&wrap_dir, &target);
    std::fs::write(wrap_dir.join("kustomization.yaml"), rendered::wrapper(&rel))
        .map_err(|e| format!("cannot write the wrapper: {e}"))?;
    let args: Vec<OsString> = vec!["kustomize".into(), wrap_dir.clone().into()];
    let out = process::run(kubectl, &args, &wrap_dir, bounds)
        .map_err(|e| format!("`kubectl kustomize`: {e}"))?;
    let out =
        String::from_utf8(out).map_err(|_| "`kubectl kustomize` printed text that is not UTF-8")?;
    // Origins are relative to the wrapper: make them absolute while it still exists.
    Ok(absolute_origins(&out, &wrap_dir))
}

/// `../../a/b` from `/x/y` to `/a/b`.
fn relative_from(from: &Path, to: &Path) -> String {
    let ups = from
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    let down = to
        .strip_prefix("/")
        .unwrap_or(to)
        .to_string_lossy()
        .into_owned();
    format!("{}{down}", "../".repeat(ups))
}

/// Rewrites `path: ../../x` origin lines to absolute paths.
fn absolute_origins(out: &str, wrap_dir: &Path) -> String {
    let mut s = String::with_capacity(out.len());
    for line in out.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(p) = trimmed.strip_prefix("path: ")
            && p.trim_end().starts_with("../")
        {
            let indent = &line[..line.len() - trimmed.len()];
            let abs = discover::lexical(&wrap_dir.join(p.trim_end()));
            s.push_str(&format!("{indent}path: {}\n", abs.display()));
        } else {
            s.push_str(line);
        }
    }
    s
}

/// Analyses the render and moves each unit and finding to its origin file.
fn reports_of(
    out: &str,
    k: &Kustomization<'_>,
    own: &str,
    opts: &KustomizeOptions<'_>,
    config: &Config,
) -> Checked {
    let objects = rendered::objects(out);
    let text = rendered::strip_annotations(out);
    let report = analyze(
        &format!("{}/(kustomize)", k.path),
        text.as_bytes(),
        config,
        &NoFiles,
    );
    let docs = doc_of_lines(&text);
    let mut files = vec![own.to_string()];
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut claimed: Vec<PathBuf> = vec![k.dir.join("kustomization.yaml")];
    // Each object's origin file, as reported, with its own units (for lines).
    let mut origin_of_doc: Vec<(u32, Vec<Unit>)> = Vec::new();
    for o in &objects {
        let Some(path) = o.origin.as_ref().map(|g| PathBuf::from(&g.path)) else {
            origin_of_doc.push((0, Vec::new()));
            continue;
        };
        let shown = crate::cli::walk::report_path(&path, opts.cwd);
        let id = *ids.entry(shown.clone()).or_insert_with(|| {
            files.push(shown.clone());
            (files.len() - 1) as u32
        });
        claimed.push(path.clone());
        let units = std::fs::read(&path)
            .map(|b| analyze(&shown, &b, config, &NoFiles).units)
            .unwrap_or_default();
        origin_of_doc.push((id, units));
    }
    let mut lines: HashMap<usize, (u32, usize)> = HashMap::new();
    for u in &report.units {
        let doc = docs.get(u.line - 1).copied().unwrap_or(0);
        let Some((id, units)) = origin_of_doc.get(doc) else {
            continue;
        };
        let line = matching(u, units, objects.get(doc)).map_or(1, |m| m.line);
        lines.insert(u.line, (*id, line));
    }
    for f in &report.findings {
        let unit = report
            .units
            .iter()
            .find(|u| Some(&u.workload) == f.workload.as_ref() && u.container == f.container);
        if let Some(to) = unit.and_then(|u| lines.get(&u.line)).copied() {
            lines.insert(f.line, to);
        }
    }
    let rendered = Rendered {
        tool: RenderTool::Kustomize,
        root: k.path.to_string(),
        values: Vec::new(),
    };
    let origin = |line: usize| {
        lines.get(&line).copied().unwrap_or_else(|| {
            let doc = docs.get(line.wrapping_sub(1)).copied().unwrap_or(0);
            origin_of_doc.get(doc).map_or((0, 1), |(id, _)| (*id, 1))
        })
    };
    let mut reports = relocate::relocate(&report, &files, origin, &rendered);
    reports.retain(|r| !r.units.is_empty() || !r.findings.is_empty());
    for o in &objects {
        if let Some(g) = &o.origin {
            claimed.extend(g.transformations.iter().map(PathBuf::from));
        }
    }
    Checked { reports, claimed }
}

/// The unit of the origin file that a rendered unit is: same kind, container and role, and
/// the name the overlay started from (a prefix or suffix may have been added).
fn matching<'u>(u: &Unit, units: &'u [Unit], object: Option<&RenderedObject>) -> Option<&'u Unit> {
    let kind = u.workload.split('/').next().unwrap_or("");
    let rendered_name = object.map_or("", |o| o.name.as_str());
    let same = |v: &&Unit| {
        v.workload.split('/').next() == Some(kind) && v.container == u.container && v.role == u.role
    };
    units
        .iter()
        .filter(same)
        .find(|v| rendered_name.contains(v.workload.split_once('/').map_or("", |(_, n)| n)))
        .or_else(|| units.iter().find(same))
}

/// For each line of a stream, the index of its document (`---` starts a new one).
fn doc_of_lines(text: &str) -> Vec<usize> {
    let mut doc = 0;
    let mut seen_content = false;
    text.lines()
        .map(|l| {
            if l.starts_with("---") {
                if seen_content {
                    doc += 1;
                }
                seen_content = false;
            } else if !l.trim().is_empty() && !l.starts_with('#') {
                seen_content = true;
            }
            doc
        })
        .collect()
}

fn failed(k: &Kustomization<'_>, own: &str, config: &Config, msg: String) -> FileReport {
    FileReport {
        path: own.to_string(),
        format: Format::Kubernetes,
        skipped_reason: None,
        units: Vec::new(),
        findings: vec![render_failed(config, 1, msg)],
        rendered: Some(Rendered {
            tool: RenderTool::Kustomize,
            root: k.path.to_string(),
            values: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_reaches_the_target_by_climbing_to_the_root() {
        assert_eq!(
            relative_from(Path::new("/tmp/x"), Path::new("/work/a/b")),
            "../../work/a/b"
        );
    }

    #[test]
    fn documents_are_counted_by_their_separators() {
        let text = "a: 1\n---\nb: 2\nc: 3\n---\nd: 4\n";
        assert_eq!(doc_of_lines(text), vec![0, 0, 1, 1, 1, 2]);
    }
}
