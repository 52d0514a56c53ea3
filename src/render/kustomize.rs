//! Checking a kustomization as it deploys: render it with `kubectl kustomize` through a
//! wrapper that asks for origin annotations, analyse the output with the core, and carry
//! each unit to the resource file it originates from (and its line there).

use crate::analyze::{NoFiles, analyze};
use crate::config::Config;
use crate::model::{FileReport, Format, RenderTool, Rendered, Unit};
use crate::render::discover;
use crate::render::process::{self, Bounds};
use crate::render::{kustomize_fix, skipped};
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
        Ok((out, wrap_dir)) => reports_of(&out, &wrap_dir, k, &own, opts, config),
        Err(msg) => Checked {
            reports: vec![failed(k, &own, config, msg)],
            claimed: Vec::new(),
        },
    }
}

/// `kubectl kustomize` of a wrapper that lists the kustomization and asks for origins; the
/// output and the wrapper's folder, which origin paths are relative to.
fn render(kubectl: &Path, dir: &Path, bounds: Bounds) -> Result<(String, PathBuf), String> {
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
    // `kubectl kustomize DIR` and `kustomize build DIR` are the same engine.
    let verb = match kubectl.file_name().and_then(|n| n.to_str()) {
        Some(n) if n.starts_with("kustomize") => "build",
        _ => "kustomize",
    };
    let args: Vec<OsString> = vec![verb.into(), wrap_dir.clone().into()];
    let out = process::run(kubectl, &args, &wrap_dir, bounds)
        .map_err(|e| format!("`kubectl kustomize`: {e}"))?;
    let out = String::from_utf8(out)
        .map_err(|_| "`kubectl kustomize` printed text that is not UTF-8".to_string())?;
    Ok((out, wrap_dir))
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

/// One rendered object's origin file: its number in the file table and its own units.
struct OriginFile {
    id: u32,
    path: Option<PathBuf>,
    report: Option<FileReport>,
}

/// Analyses the render and moves each unit and finding to its origin file.
fn reports_of(
    out: &str,
    wrap_dir: &Path,
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
    let origins: Vec<OriginFile> = objects
        .iter()
        .map(|o| origin_file(o, wrap_dir, opts.cwd, config, &mut files, &mut ids))
        .collect();
    let mut lines: HashMap<usize, (u32, usize)> = HashMap::new();
    for u in &report.units {
        let doc = docs.get(u.line - 1).copied().unwrap_or(0);
        let Some(o) = origins.get(doc) else { continue };
        let units = o.report.as_ref().map_or(&[][..], |r| &r.units[..]);
        let line = matching(u, units, objects.get(doc)).map_or(1, |m| m.line);
        lines.insert(u.line, (o.id, line));
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
            origins.get(doc).map_or((0, 1), |o| (o.id, 1))
        })
    };
    let mut reports = relocate::relocate(&report, &files, origin, &rendered);
    let fixing = Fixing {
        report: &report,
        text: &text,
        docs: &docs,
        objects: &objects,
        origins: &origins,
        own,
        dir: k.dir,
        wrap_dir,
        cwd: opts.cwd,
    };
    kustomize_fix::place(&mut reports, &fixing);
    reports.retain(|r| !r.units.is_empty() || !r.findings.is_empty());
    Checked {
        reports,
        claimed: claimed(k.dir, &origins),
    }
}

/// What placing the fixes of one render needs.
pub struct Fixing<'a> {
    /// The core's report on the render (fixes of the rendered text included).
    pub report: &'a FileReport,
    /// The render, without our annotations.
    pub text: &'a str,
    /// The document of each line of `text`.
    pub docs: &'a [usize],
    /// The rendered objects, in document order.
    pub objects: &'a [RenderedObject],
    origins: &'a [OriginFile],
    /// The checked kustomization file, as reported.
    pub own: &'a str,
    /// The checked kustomization folder.
    pub dir: &'a Path,
    /// The wrapper's folder: kustomize's paths are relative to it.
    pub wrap_dir: &'a Path,
    /// Reported paths are relative to this folder.
    pub cwd: &'a Path,
}

impl Fixing<'_> {
    /// The origin file of document `doc`: where it lies and the core's plain report on it.
    pub fn origin(&self, doc: usize) -> Option<(&Path, &FileReport)> {
        let o = self.origins.get(doc)?;
        Some((o.path.as_deref()?, o.report.as_ref()?))
    }
}

fn origin_file(
    o: &RenderedObject,
    wrap_dir: &Path,
    cwd: &Path,
    config: &Config,
    files: &mut Vec<String>,
    ids: &mut HashMap<String, u32>,
) -> OriginFile {
    let local = o.origin.as_ref().filter(|g| g.repo.is_none());
    let Some(rel) = local.and_then(|g| g.path.as_deref()) else {
        return OriginFile {
            id: 0,
            path: None,
            report: None,
        };
    };
    let path = discover::lexical(&wrap_dir.join(rel));
    let shown = discover::relative_to(&path, cwd);
    let id = *ids.entry(shown.clone()).or_insert_with(|| {
        files.push(shown.clone());
        (files.len() - 1) as u32
    });
    let report = std::fs::read(&path)
        .ok()
        .map(|b| analyze(&shown, &b, config, &NoFiles));
    OriginFile {
        id,
        path: Some(path),
        report,
    }
}

/// The files a render stands for: the kustomization files and patches of every folder it
/// reads, and every resource file an object came from.
fn claimed(dir: &Path, origins: &[OriginFile]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = origins.iter().filter_map(|o| o.path.clone()).collect();
    for d in discover::reached_folders(dir) {
        out.extend(discover::kustomization_file(&d));
        if let Some(text) = discover::kustomization_text(&d) {
            out.extend(discover::patch_files(&text).into_iter().map(|p| d.join(p)));
        }
    }
    out
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
            relative_from(Path::new("/tmp/x"), Path::new("/srv/a/b")),
            "../../srv/a/b"
        );
    }

    #[test]
    fn documents_are_counted_by_their_separators() {
        let text = "a: 1\n---\nb: 2\nc: 3\n---\nd: 4\n";
        assert_eq!(doc_of_lines(text), vec![0, 1, 1, 1, 2, 2]);
    }
}
