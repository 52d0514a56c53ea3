//! Scanning a whole repository at one commit: list its tree, render every chart and
//! kustomization deploy root, take each other Compose or Kubernetes file's report from the
//! cache by blob id or fetch and analyse it, then store the snapshot.
//!
//! Rendered reports are not cached: a render reads a whole folder (and the folders a
//! kustomization builds on), so one blob id cannot key it. The files a render stands for
//! are neither fetched nor analysed as plain files, so each unit is counted once.

use super::JobContext;
use super::budget;
use super::memory::Budget;
use crate::analyze::{self, NOT_RECOGNISED};
use crate::config::{self, Config};
use crate::forge::github::GitHubRepository;
use crate::forge::repository::RepositoryFiles;
use crate::forge::{ObjectId, Tree};
use crate::ids::{CommitSha, Forge, JobId};
use crate::jobs::render::{self, Blobs, Rendered, Workspace, select};
use crate::model::{FileReport, Format};
use crate::queue::Outcome;
use crate::queue::job::{ScanJob, scan_key_for};
use crate::scan::files::{Recording, TreeFiles};
use crate::scan::store::{self, Snapshot, Written};
use crate::scan::{cache, snapshot};
use crate::storage::{repositories, scans};
use std::collections::{BTreeSet, HashMap};
use tracing::{Instrument, info};

/// Files read for `extends` and override lookups, beyond the scanned files, per scan.
const MAX_EXTRA_FILES: usize = 200;
/// Analysis passes: each one may ask for files the previous one did not have (an `extends`
/// chain reaches one file further per pass).
const ROUNDS: usize = 4;
/// Charts and kustomizations rendered per scan; the rest are named in the scan's note.
const MAX_RENDERS: usize = 100;
/// Kustomization files read per scan to tell deploy roots from bases.
const MAX_KUSTOMIZATION_FILES: usize = 500;

/// One file's fresh report and what it read: `None` when a file it asked for was not
/// fetched, so the report must not be cached.
struct Analysed {
    path: String,
    report: FileReport,
    deps: Option<Vec<(String, Option<ObjectId>)>>,
}

/// Runs a scan job; errors become retryable failures, a 404 a permanent one.
pub async fn run(ctx: &JobContext, id: JobId, job: &ScanJob) -> Outcome {
    let span = tracing::info_span!(
        "scan",
        repo = %job.repo.display_name(),
        commit = job.commit.as_ref().map_or("", CommitSha::as_str)
    );
    match scan(ctx, id, job).instrument(span).await {
        Ok(outcome) => outcome,
        Err(e) => super::failure(e),
    }
}

async fn scan(ctx: &JobContext, id: JobId, p: &ScanJob) -> anyhow::Result<Outcome> {
    let Some((installation, repo_id, repo)) = p.repo.github() else {
        return Ok(super::unsupported(&p.repo));
    };
    let installation = ctx.github.installation(installation)?;
    let forge = GitHubRepository::new(installation, repo.clone());
    scan_with(ctx, id, &forge, repo_id.0, p).await
}

/// Scans `p`'s commit (the default branch's head when it names none) of the repository
/// whose history row is `repo_id`: the same for every forge.
pub async fn scan_with<R: RepositoryFiles>(
    ctx: &JobContext,
    id: JobId,
    forge: &R,
    repo_id: i64,
    p: &ScanJob,
) -> anyhow::Result<Outcome> {
    let (branch, commit) = match &p.commit {
        Some(c) => (p.branch.clone(), c.clone()),
        None => {
            let (branch, head) = forge.default_branch_head().await?;
            repositories::set_default_branch(&ctx.pool, repo_id, &branch).await?;
            (Some(branch), head)
        }
    };
    if scans::already_scanned(&ctx.pool, repo_id, commit.as_str()).await? {
        info!(%commit, "commit already scanned");
        return Ok(Outcome::Done);
    }
    let scan_id = scans::start(&ctx.pool, repo_id, commit.as_str(), branch.as_deref()).await?;
    let result = scan_commit(ctx, forge, id, repo_id, &commit, scan_id).await;
    if let Err(e) = &result {
        // Best effort: the job's own error is what matters.
        let _ = scans::fail(&ctx.pool, scan_id, &format!("{e:#}")).await;
    }
    result
}

async fn scan_commit<R: RepositoryFiles>(
    ctx: &JobContext,
    forge: &R,
    job: JobId,
    repo_id: i64,
    commit: &CommitSha,
    scan_id: i64,
) -> anyhow::Result<Outcome> {
    let tree = forge.tree(commit).await?;
    let mut files = TreeFiles::new(&tree);
    let mut notes = Vec::new();
    if tree.truncated {
        notes.push("the tree could not be listed in full; some files were not scanned".into());
    }
    let (config, config_blob) = read_config(forge, &mut files, &mut notes).await?;
    let config_hash = cache::config_hash(config_blob.as_ref());

    let rendered = render_tree(ctx, forge, &tree, &config, &mut notes).await?;
    let (mut candidates, too_big) = candidates(&tree, &config);
    candidates.retain(|(path, _)| !rendered.claimed.contains(path));
    if too_big > 0 {
        notes.push(format!(
            "{too_big} file(s) over {} MiB were not analysed",
            analyze::MAX_FILE_BYTES >> 20
        ));
    }
    let mut reports = Vec::new();
    let mut misses = Vec::new();
    for (path, id) in candidates {
        let id_of = |p: &str| files.id_of(p).cloned();
        match cache::lookup(&ctx.pool, &id, &path, &config_hash, id_of).await? {
            Some(report) => reports.push(report),
            None => misses.push((path, id)),
        }
    }
    let hits = reports.len();
    metrics::counter!("immutabot_scan_files_total", "cache" => "hit").increment(hits as u64);
    metrics::counter!("immutabot_scan_files_total", "cache" => "miss")
        .increment(misses.len() as u64);
    let mut budget = Budget::scan();
    let sizes: HashMap<&str, u64> = tree
        .entries
        .iter()
        .filter_map(|e| Some((e.path.as_str(), e.size?)))
        .collect();
    misses.retain(|(path, _)| budget.admit(path, sizes.get(path.as_str()).copied()));
    for (path, id) in &misses {
        let bytes = forge.blob(id).await?;
        budget.hold(bytes.len());
        files.insert(path.clone(), bytes);
    }
    let paths = misses.iter().map(|(p, _)| p.clone()).collect();
    let (analysed, files) = analyse(forge, files, paths, &config, &mut budget).await?;
    notes.extend(budget.note());
    for a in analysed {
        if let (Some(deps), Some(id)) = (&a.deps, files.id_of(&a.path)) {
            cache::store(&ctx.pool, id, &a.path, &config_hash, deps, &a.report).await?;
        }
        reports.push(a.report);
    }
    reports.extend(rendered.reports);
    // YAML that is neither Compose nor Kubernetes (CI files, lock files) is not ours.
    reports.retain(|r| !is_foreign(r));
    reports.sort_by(|a, b| a.path.cmp(&b.path));

    let (rows, counts) = snapshot::units(&reports);
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    let key = scan_key_for(Forge::GitHub, repo_id);
    let written = store::write(
        &ctx.pool,
        &Snapshot {
            scan_id,
            repo_id,
            job_id: job.0,
            dedupe_key: &key,
            rows: &rows,
            counts,
            note: note.as_deref(),
        },
    )
    .await?;
    match written {
        Written::Stale => Ok(Outcome::Superseded(
            "a scan queued later finished first".into(),
        )),
        Written::Stored {
            inserted,
            closed,
            kept,
        } => {
            info!(%commit, files = counts.files, units = counts.units, cache_hits = hits,
                analysed = misses.len(), inserted, closed, kept, "scan stored");
            Ok(Outcome::Done)
        }
    }
}

/// The commit's `.immutabot.yml` and its blob id; an invalid file is noted on the scan and
/// the defaults are used (keyed as the defaults in the cache).
async fn read_config<R: RepositoryFiles>(
    forge: &R,
    files: &mut TreeFiles,
    notes: &mut Vec<String>,
) -> anyhow::Result<(Config, Option<ObjectId>)> {
    let Some(id) = files.id_of(config::FILE_NAME).cloned() else {
        return Ok((Config::default(), None));
    };
    let bytes = forge.blob(&id).await?;
    let parsed = Config::parse(&String::from_utf8_lossy(&bytes));
    files.insert(config::FILE_NAME.to_string(), bytes);
    match parsed {
        Ok(c) => Ok((c, Some(id))),
        Err(e) => {
            notes.push(format!("{}:{e}; the defaults were used", config::FILE_NAME));
            Ok((Config::default(), None))
        }
    }
}

/// Renders every chart and kustomization deploy root of the tree (charts with their
/// default values: what deploys), from their folders' blobs.
async fn render_tree<R: RepositoryFiles>(
    ctx: &JobContext,
    forge: &R,
    tree: &Tree,
    config: &Config,
    notes: &mut Vec<String>,
) -> anyhow::Result<Rendered> {
    let blobs = FromRepository(forge);
    let mut ws = match Workspace::new() {
        Ok(ws) => ws,
        Err(e) => {
            // The server's /tmp is not writable: the plain files are still scanned.
            notes.push(format!(
                "charts and kustomizations were not rendered: {e:#}"
            ));
            return Ok(Rendered::default());
        }
    };
    // Which kustomizations are bases is in their text.
    for entry in select::kustomization_files(tree).take(MAX_KUSTOMIZATION_FILES) {
        ws.fetch(&blobs, entry).await?;
    }
    let mut units = select::deploy_roots(tree, ws.root());
    units.retain(|u| !config.is_ignored(&u.own_file(tree)));
    if units.len() > MAX_RENDERS {
        notes.push(format!(
            "{} charts and kustomizations: the first {MAX_RENDERS} were rendered",
            units.len()
        ));
        units.truncate(MAX_RENDERS);
    }
    let renderers = &ctx.renderers;
    render::render_units(&blobs, tree, &mut ws, &units, renderers, config, false).await
}

/// The repository's blobs, for the renders.
struct FromRepository<'a, R>(&'a R);

impl<R: RepositoryFiles> Blobs for FromRepository<'_, R> {
    async fn blob(&self, id: &ObjectId) -> anyhow::Result<Vec<u8>> {
        self.0.blob(id).await
    }
}

/// Files worth a look, by name and settings; and how many were too large to analyse.
fn candidates(tree: &Tree, config: &Config) -> (Vec<(String, ObjectId)>, usize) {
    let mut too_big = 0;
    let picked = tree
        .entries
        .iter()
        .filter(|e| e.is_file() && analyze::is_candidate(&e.path) && !config.is_ignored(&e.path))
        .filter(|e| {
            let big = e.size.is_some_and(|n| n > analyze::MAX_FILE_BYTES as u64);
            too_big += usize::from(big);
            !big
        })
        .map(|e| (e.path.clone(), e.sha.clone()))
        .collect();
    (picked, too_big)
}

fn is_foreign(r: &FileReport) -> bool {
    r.format == Format::Skipped && r.skipped_reason.as_deref() == Some(NOT_RECOGNISED)
}

/// Runs the core over fetched files, fetching what it asks for (overrides, `extends`) and
/// running it again, until nothing is missing or the budget is spent.
async fn analyse<R: RepositoryFiles>(
    forge: &R,
    mut files: TreeFiles,
    paths: Vec<String>,
    config: &Config,
    budget: &mut Budget,
) -> anyhow::Result<(Vec<Analysed>, TreeFiles)> {
    let mut pending = paths;
    let mut done = Vec::new();
    let mut extra = 0;
    for round in 0..ROUNDS {
        let (results, back) = run_core(pending, files, config.clone()).await?;
        files = back;
        let mut again = Vec::new();
        let mut wanted = BTreeSet::new();
        for (path, report, asked) in results {
            let missing: Vec<&String> = asked.iter().filter(|p| files.needs_fetch(p)).collect();
            if budget::is_out_of_time(&report) {
                // Out of time: final, and never cached (another scan may have more time).
                done.push(Analysed {
                    path,
                    report,
                    deps: None,
                });
            } else if missing.is_empty() {
                let deps = asked
                    .iter()
                    .map(|p| (p.clone(), files.id_of(p).cloned()))
                    .collect();
                done.push(Analysed {
                    path,
                    report,
                    deps: Some(deps),
                });
            } else if round + 1 == ROUNDS || extra >= MAX_EXTRA_FILES {
                done.push(Analysed {
                    path,
                    report,
                    deps: None,
                });
            } else {
                wanted.extend(missing.into_iter().cloned());
                again.push(path);
            }
        }
        if again.is_empty() {
            break;
        }
        for path in wanted {
            if extra >= MAX_EXTRA_FILES {
                break;
            }
            if let Some(id) = files.id_of(&path).cloned() {
                if !budget.has_room() || !budget.admit(&path, None) {
                    break;
                }
                let bytes = forge.blob(&id).await?;
                budget.hold(bytes.len());
                files.insert(path, bytes);
                extra += 1;
            }
        }
        pending = again;
    }
    Ok((done, files))
}

type CoreResult = (String, FileReport, Vec<String>);

/// Each file within the per-file budget: a file that takes longer is stored as not
/// analysed (and never cached), and the scan goes on.
async fn run_core(
    paths: Vec<String>,
    files: TreeFiles,
    config: Config,
) -> anyhow::Result<(Vec<CoreResult>, TreeFiles)> {
    let shared = std::sync::Arc::new((files, config));
    let one = std::sync::Arc::new(|(files, config): &(TreeFiles, Config), path: &str| {
        let bytes = files.get(path)?;
        let resolver = Recording::new(files);
        let report = analyze::analyze(path, bytes, config, &resolver);
        Some((report, resolver.asked()))
    });
    let mut results = Vec::new();
    for (path, ran) in budget::each(&shared, paths, budget::FILE_BUDGET, one).await? {
        match ran {
            Some(Some((report, asked))) => results.push((path, report, asked)),
            Some(None) => {}
            None => {
                let report = budget::out_of_time(&path, budget::FILE_BUDGET);
                results.push((path, report, Vec::new()));
            }
        }
    }
    Ok((results, std::sync::Arc::unwrap_or_clone(shared).0))
}
