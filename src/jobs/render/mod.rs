//! Rendering charts and kustomizations inside jobs: which folders to render (those a change
//! touches, or every deploy root of a tree), their files fetched by blob id into a private
//! folder that mirrors the repository, and the renders run off the async runtime, a few at a
//! time across the process, with the CLI's bounds.
//!
//! The renderers themselves are `crate::render`; this module only feeds them through
//! [`render_one`], so that changes to their options stay in one place.

pub mod select;
mod workspace;

use crate::config::Config;
use crate::forge::{ObjectId, Tree};
use crate::model::{FileReport, Finding, Unit};
use crate::render::helm::{self, Chart, HelmOptions};
use crate::render::kustomize::{self, Kustomization, KustomizeOptions};
use crate::render::process::{self, Bounds};
use crate::render::skipped;
use anyhow::Context;
use select::{Kind, RenderUnit};
use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
pub use workspace::Workspace;

/// Files one chart or kustomization (with the folders it builds on) may hold to be rendered.
pub const MAX_UNIT_FILES: usize = 500;
/// Bytes one chart or kustomization (with the folders it builds on) may hold to be rendered.
pub const MAX_UNIT_BYTES: usize = 8 * 1024 * 1024;

/// Where a job's renderers are and how many may run at once in this process.
#[derive(Debug, Clone)]
pub struct Renderers {
    /// The helm binary; `None` when it is not installed.
    pub helm: Option<PathBuf>,
    /// The kubectl binary; `None` when it is not installed.
    pub kubectl: Option<PathBuf>,
    /// Time and output budget of one render (the CLI's defaults).
    pub bounds: Bounds,
    /// Time all of one job's renders may take together; units after it are noted, not
    /// rendered, so that a repository of many slow charts cannot hold a worker for hours.
    pub job_budget: Duration,
    /// Renders running at once, across every job of the process.
    slots: Arc<Semaphore>,
}

/// The default [`Renderers::job_budget`].
pub const JOB_RENDER_BUDGET: Duration = Duration::from_secs(300);

impl Renderers {
    /// These binaries, the default bounds, and one render per available core.
    pub fn new(helm: Option<PathBuf>, kubectl: Option<PathBuf>) -> Renderers {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Renderers {
            helm,
            kubectl,
            bounds: Bounds::default(),
            job_budget: JOB_RENDER_BUDGET,
            slots: Arc::new(Semaphore::new(cores.max(1))),
        }
    }

    /// `IMMUTABOT_HELM` / `IMMUTABOT_KUBECTL`, else `helm` / `kubectl` on `PATH`.
    pub fn from_env() -> Renderers {
        Renderers::new(
            process::find_tool(None, "IMMUTABOT_HELM", "helm"),
            process::find_tool(None, "IMMUTABOT_KUBECTL", "kubectl"),
        )
    }

    /// The same renderers with another budget for all of one job's renders.
    pub fn with_job_budget(mut self, budget: Duration) -> Renderers {
        self.job_budget = budget;
        self
    }

    /// The same renderers with another budget per render.
    pub fn with_bounds(mut self, bounds: Bounds) -> Renderers {
        self.bounds = bounds;
        self
    }
}

/// Where the files of a render come from: blobs by id, as the tree names them.
pub trait Blobs: Sync {
    /// A blob's bytes.
    fn blob(&self, id: &ObjectId) -> impl Future<Output = anyhow::Result<Vec<u8>>> + Send;
}

/// What the renders of one job gave.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Reports on templates, values files, resources and kustomization files, one per path.
    pub reports: Vec<FileReport>,
    /// The text of each report's file at the commit, in the same order (for suggestions).
    pub sources: Vec<String>,
    /// Repository paths a render stands for: their plain reports are dropped.
    pub claimed: HashSet<String>,
    /// Folders of the units left unrendered when the job's render budget was spent.
    pub unrendered: Vec<String>,
}

impl Rendered {
    /// Drops `plain` reports (and their sources) of files a render claims, then adds the
    /// rendered ones.
    pub fn merge_into(self, plain: &mut Vec<FileReport>, sources: Option<&mut Vec<String>>) {
        let keep: Vec<bool> = plain
            .iter()
            .map(|r| !self.claimed.contains(&r.path))
            .collect();
        if let Some(sources) = sources {
            let mut k = keep.iter();
            sources.retain(|_| *k.next().unwrap_or(&true));
            sources.extend(self.sources);
        }
        let mut k = keep.iter();
        plain.retain(|_| *k.next().unwrap_or(&true));
        plain.extend(self.reports);
    }
}

/// Fetches each unit's files into one private folder and renders them, in order.
pub async fn render_units<B: Blobs>(
    blobs: &B,
    tree: &Tree,
    ws: &mut Workspace,
    units: &[RenderUnit],
    renderers: &Renderers,
    config: &Config,
    shipped_values: bool,
) -> anyhow::Result<Rendered> {
    let mut reports = Vec::new();
    let mut claimed = HashSet::new();
    let mut unrendered = Vec::new();
    let deadline = Instant::now() + renderers.job_budget;
    for unit in units {
        if Instant::now() >= deadline {
            let why = format!(
                "not analysed: this job's renders took longer than {} s",
                renderers.job_budget.as_secs()
            );
            reports.push(skipped(&unit.own_file(tree), &why));
            unrendered.push(unit.path.clone());
            continue;
        }
        let files = match ws.materialise(blobs, tree, unit).await? {
            Ok(files) => files,
            Err(too_big) => {
                reports.push(skipped(&unit.own_file(tree), &too_big));
                continue;
            }
        };
        let (r, c) = render_blocking(ws.root(), unit, renderers, config, shipped_values).await?;
        if unit.kind == Kind::Chart {
            // Every file of a chart is covered by its render, rendered or not.
            claimed.extend(files.files);
        } else if r.iter().all(rendered_well) {
            claimed.extend(files.listed);
        }
        reports.extend(r);
        claimed.extend(c);
    }
    let reports = combine(reports);
    let sources = reports.iter().map(|r| ws.text_of(&r.path)).collect();
    Ok(Rendered {
        reports,
        sources,
        claimed,
        unrendered,
    })
}

/// Neither skipped nor failed: what the render stands for was checked through it.
fn rendered_well(r: &FileReport) -> bool {
    r.format != crate::model::Format::Skipped
        && !r
            .findings
            .iter()
            .any(|f| f.rule == crate::rules::RuleId::RenderFailed.as_str())
}

/// Runs one render on the blocking pool once a slot is free.
async fn render_blocking(
    root: &Path,
    unit: &RenderUnit,
    renderers: &Renderers,
    config: &Config,
    shipped_values: bool,
) -> anyhow::Result<(Vec<FileReport>, Vec<String>)> {
    let permit = renderers
        .slots
        .clone()
        .acquire_owned()
        .await
        .context("the render slots are closed")?;
    let (root, unit, renderers, config) = (
        root.to_path_buf(),
        unit.clone(),
        renderers.clone(),
        config.clone(),
    );
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        render_one(&root, &unit, &renderers, &config, shipped_values)
    })
    .await
    .context("a render panicked")
}

/// Renders one chart or kustomization materialised under `root` (the repository's root):
/// its reports, with repository paths, and the repository paths it claims.
pub fn render_one(
    root: &Path,
    unit: &RenderUnit,
    renderers: &Renderers,
    config: &Config,
    shipped_values: bool,
) -> (Vec<FileReport>, Vec<String>) {
    let dir = root.join(&unit.path);
    let shown = if unit.path.is_empty() {
        "."
    } else {
        &unit.path
    };
    let (mut reports, claimed) = match unit.kind {
        Kind::Chart => {
            let Some(helm) = installed(renderers.helm.as_deref()) else {
                return (vec![skipped(&unit.join("Chart.yaml"), NO_HELM)], Vec::new());
            };
            let opts = HelmOptions {
                helm: Some(helm),
                extra_values: &[],
                bounds: renderers.bounds,
                shipped_values,
            };
            let chart = Chart {
                dir: &dir,
                path: shown,
            };
            (helm::check(&chart, &opts, config), Vec::new())
        }
        Kind::Kustomization => {
            let own = unit.join(&kustomization_name(&dir));
            let Some(kubectl) = installed(renderers.kubectl.as_deref()) else {
                return (vec![skipped(&own, NO_KUBECTL)], Vec::new());
            };
            let opts = KustomizeOptions {
                kubectl: Some(kubectl),
                bounds: renderers.bounds,
                cwd: root,
            };
            let k = Kustomization {
                dir: &dir,
                path: shown,
            };
            let checked = kustomize::check(&k, &opts, config);
            let claimed = checked
                .claimed
                .iter()
                .filter_map(|p| repository_path(root, p))
                .collect();
            (checked.reports, claimed)
        }
    };
    for r in &mut reports {
        r.path = strip_dot(&r.path);
    }
    (reports, claimed)
}

const NO_HELM: &str = "Helm chart not rendered: helm is not installed on the immutabot server (its operator can set IMMUTABOT_HELM or put helm on PATH); its templates were not checked";
const NO_KUBECTL: &str = "kustomization not rendered: kubectl is not installed on the immutabot server (its operator can set IMMUTABOT_KUBECTL or put kubectl on PATH); what it deploys was not checked";

/// The binary when it is there: a configured path to a missing file counts as not installed.
fn installed(p: Option<&Path>) -> Option<&Path> {
    p.filter(|p| p.is_file())
}

fn kustomization_name(dir: &Path) -> String {
    crate::render::discover::kustomization_file(dir)
        .and_then(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "kustomization.yaml".into())
}

/// A path under `root` (as the renderer gave it) as a repository path.
fn repository_path(root: &Path, p: &Path) -> Option<String> {
    let p = crate::render::discover::lexical(p);
    let rel = if p.is_absolute() {
        p.strip_prefix(root).ok()?.to_path_buf()
    } else {
        p
    };
    Some(rel.to_string_lossy().replace('\\', "/"))
}

fn strip_dot(p: &str) -> String {
    p.strip_prefix("./").unwrap_or(p).to_string()
}

/// One report per path: two overlays of one base both report on the base's files, each
/// with its own (renamed) workloads, which are all kept; the same unit or finding once.
fn combine(reports: Vec<FileReport>) -> Vec<FileReport> {
    let mut by_path: BTreeMap<String, FileReport> = BTreeMap::new();
    for r in reports {
        let Some(into) = by_path.get_mut(&r.path) else {
            by_path.insert(r.path.clone(), r);
            continue;
        };
        let same_unit = |a: &Unit, b: &Unit| {
            (&a.workload, &a.container, a.role, a.line)
                == (&b.workload, &b.container, b.role, b.line)
        };
        for u in r.units {
            if !into.units.iter().any(|v| same_unit(v, &u)) {
                into.units.push(u);
            }
        }
        let same_finding = |a: &Finding, b: &Finding| {
            (&a.rule, a.line, &a.workload, &a.container)
                == (&b.rule, b.line, &b.workload, &b.container)
        };
        for f in r.findings {
            if !into.findings.iter().any(|g| same_finding(g, &f)) {
                into.findings.push(f);
            }
        }
    }
    by_path.into_values().collect()
}
