//! `immutabot check` on charts and kustomizations: find them among the walked files, render
//! each (in parallel, bounded), and say which walked files their renders stand for, so that
//! a template or a patched base is not also checked as a file of its own.

use crate::cli::CheckArgs;
use crate::cli::walk::{Target, report_path};
use crate::config::Config;
use crate::model::FileReport;
use crate::render::discover::{self, Renderables};
use crate::render::helm::{self, Chart, HelmOptions};
use crate::render::kustomize::{self, Kustomization, KustomizeOptions};
use crate::render::process::{self, Bounds};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What the renders found, and the walked files they stand for.
#[derive(Debug, Default)]
pub struct Rendering {
    /// Reports on templates, values files, resources and kustomization files.
    pub reports: Vec<FileReport>,
    /// Walked files covered by a render (canonical paths).
    pub claimed: HashSet<PathBuf>,
}

impl Rendering {
    /// Whether a walked file is covered by a render.
    pub fn claims(&self, t: &Target) -> bool {
        !self.claimed.is_empty()
            && std::fs::canonicalize(&t.fs_path).is_ok_and(|p| self.claimed.contains(&p))
    }
}

/// The renderers to use: `--helm` / `--kubectl`, else `IMMUTABOT_HELM` / `IMMUTABOT_KUBECTL`,
/// else `helm` / `kubectl` on `PATH`.
pub fn tools(args: &CheckArgs) -> (Option<PathBuf>, Option<PathBuf>) {
    (
        process::find_tool(args.helm.as_deref(), "IMMUTABOT_HELM", "helm"),
        process::find_tool(args.kubectl.as_deref(), "IMMUTABOT_KUBECTL", "kubectl"),
    )
}

/// Renders every chart and kustomization among `targets`.
pub fn render_all(targets: &[Target], args: &CheckArgs, config: &Config, cwd: &Path) -> Rendering {
    let files: Vec<PathBuf> = targets.iter().map(|t| t.fs_path.clone()).collect();
    let found = discover::find(&files);
    let (helm_bin, kubectl_bin) = tools(args);
    let bounds = Bounds {
        timeout: std::time::Duration::from_secs(args.render_timeout),
        ..Bounds::default()
    };
    let mut rendering = Rendering::default();
    claim_charts(&found, targets, &mut rendering);
    // helm runs in the chart's private copy: a relative `--values` must not depend on that.
    let values: Vec<PathBuf> = args.values.iter().map(|v| cwd.join(v)).collect();
    let helm_opts = HelmOptions {
        helm: helm_bin.as_deref(),
        extra_values: &values,
        bounds,
        shipped_values: true,
    };
    let charts: Vec<Vec<FileReport>> = found
        .charts
        .par_iter()
        .map(|dir| {
            let path = report_path(dir, cwd);
            helm::check(&Chart { dir, path: &path }, &helm_opts, config)
        })
        .collect();
    rendering.reports.extend(charts.into_iter().flatten());
    let k_opts = KustomizeOptions {
        kubectl: kubectl_bin.as_deref(),
        bounds,
        cwd,
    };
    let overlays: Vec<kustomize::Checked> = found
        .kustomizations
        .par_iter()
        .map(|dir| {
            let path = report_path(dir, cwd);
            kustomize::check(&Kustomization { dir, path: &path }, &k_opts, config)
        })
        .collect();
    for o in overlays {
        rendering.reports.extend(o.reports);
        rendering.claimed.extend(
            o.claimed
                .iter()
                .filter_map(|p| std::fs::canonicalize(p).ok()),
        );
    }
    rendering
}

/// Every walked file inside a chart folder is covered by the chart's render.
fn claim_charts(found: &Renderables, targets: &[Target], rendering: &mut Rendering) {
    let charts: Vec<PathBuf> = found
        .charts
        .iter()
        .filter_map(|c| std::fs::canonicalize(c).ok())
        .collect();
    for t in targets {
        let Ok(p) = std::fs::canonicalize(&t.fs_path) else {
            continue;
        };
        if charts.iter().any(|c| p.starts_with(c)) {
            rendering.claimed.insert(p);
        }
    }
}

/// One source file patched by the renders' fixes.
#[derive(Debug)]
pub struct PatchedFile {
    /// The file before and after, when the patches changed it.
    pub change: Option<crate::output::diff::Change>,
    /// How many patches were applied.
    pub applied: usize,
    /// Why the file could not be read or written.
    pub error: Option<String>,
}

/// Applies the renders' fixes to the files they name (templates, values files,
/// kustomizations, resources), once each, and writes them when `write` is set.
pub fn patch_sources(reports: &[FileReport], cwd: &Path, write: bool) -> Vec<PatchedFile> {
    let mut by_path: std::collections::BTreeMap<&str, Vec<&crate::model::Fix>> =
        std::collections::BTreeMap::new();
    for r in reports {
        for f in r.findings.iter().filter(|f| f.suppressed.is_none()) {
            if let Some(fix) = &f.fix {
                let fixes = by_path.entry(r.path.as_str()).or_default();
                // Two overlays of one base, or two values files, can ask for the same patch.
                if !fixes.contains(&fix) {
                    fixes.push(fix);
                }
            }
        }
    }
    by_path
        .into_iter()
        .map(|(path, fixes)| patch_one(path, &fixes, cwd, write))
        .collect()
}

fn patch_one(path: &str, fixes: &[&crate::model::Fix], cwd: &Path, write: bool) -> PatchedFile {
    let fs_path = cwd.join(path);
    let failed = |e: String| PatchedFile {
        change: None,
        applied: 0,
        error: Some(e),
    };
    let before = match std::fs::read_to_string(&fs_path) {
        Ok(t) => t,
        Err(e) => return failed(format!("{path}: {e}")),
    };
    let (bom, body) = crate::cli::fix::split_bom(&before);
    let (after, applied) = crate::patch::apply_all(body, fixes.iter().copied());
    let after = format!("{bom}{after}");
    if after == before {
        return PatchedFile {
            change: None,
            applied: 0,
            error: None,
        };
    }
    if write && let Err(e) = std::fs::write(&fs_path, &after) {
        return failed(format!("{path}: cannot write the fixed file: {e}"));
    }
    PatchedFile {
        change: Some(crate::output::diff::Change {
            path: path.to_string(),
            before,
            after,
        }),
        applied,
        error: None,
    }
}
