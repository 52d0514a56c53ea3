//! Scanning a whole repository at one commit: list its tree, take each Compose or Kubernetes
//! file's report from the cache by blob id or fetch and analyse it, then store the snapshot.

use super::JobContext;
use crate::analyze::{self, NOT_RECOGNISED};
use crate::config::{self, Config};
use crate::forge::github::GitHubRepository;
use crate::forge::repository::RepositoryFiles;
use crate::forge::{ObjectId, Tree};
use crate::ids::{CommitSha, InstallationId, RepoName};
use crate::model::{FileReport, Format};
use crate::queue::{Job, Outcome};
use crate::scan::files::{Recording, TreeFiles};
use crate::scan::store::{self, Snapshot, Written};
use crate::scan::{cache, enqueue, snapshot};
use anyhow::Context;
use serde::Deserialize;
use std::collections::BTreeSet;
use tracing::{Instrument, info};

/// Files read for `extends` and override lookups, beyond the scanned files, per scan.
const MAX_EXTRA_FILES: usize = 200;
/// Analysis passes: each one may ask for files the previous one did not have (an `extends`
/// chain reaches one file further per pass).
const ROUNDS: usize = 4;

/// The job's payload (written by the webhook intake, the CLI and the periodic rescan).
#[derive(Debug, Deserialize)]
struct Payload {
    installation: i64,
    repo_id: i64,
    repo: String,
    /// The commit to scan; the default branch's head when absent.
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    branch: Option<String>,
}

/// One file's fresh report and what it read: `None` when a file it asked for was not
/// fetched, so the report must not be cached.
struct Analysed {
    path: String,
    report: FileReport,
    deps: Option<Vec<(String, Option<ObjectId>)>>,
}

/// Runs a scan job; every error becomes a retryable failure.
pub async fn run(ctx: &JobContext, job: &Job) -> Outcome {
    let p = &job.payload;
    let span = tracing::info_span!(
        "scan",
        repo = p["repo"].as_str().unwrap_or(""),
        commit = p["commit"].as_str().unwrap_or("")
    );
    match scan(ctx, job).instrument(span).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed(format!("{e:#}")),
    }
}

async fn scan(ctx: &JobContext, job: &Job) -> anyhow::Result<Outcome> {
    let p: Payload = serde_json::from_value(job.payload.clone()).context("bad job payload")?;
    let repo = RepoName::parse(&p.repo).map_err(anyhow::Error::msg)?;
    let installation = ctx.github.installation(InstallationId(p.installation))?;
    let forge = GitHubRepository::new(installation, repo.clone());
    let (branch, commit) = match &p.commit {
        Some(c) => (
            p.branch.clone(),
            CommitSha::parse(c).map_err(anyhow::Error::msg)?,
        ),
        None => {
            let (branch, head) = forge.default_branch_head().await?;
            store::remember_default_branch(&ctx.pool, p.repo_id, &branch).await?;
            (Some(branch), head)
        }
    };
    if store::already_scanned(&ctx.pool, p.repo_id, commit.as_str()).await? {
        info!(%commit, "commit already scanned");
        return Ok(Outcome::Done);
    }
    let scan_id = store::start(&ctx.pool, p.repo_id, commit.as_str(), branch.as_deref()).await?;
    let result = scan_commit(ctx, &forge, job, p.repo_id, &commit, scan_id).await;
    if let Err(e) = &result {
        // Best effort: the job's own error is what matters.
        let _ = store::fail(&ctx.pool, scan_id, &format!("{e:#}")).await;
    }
    result
}

async fn scan_commit<R: RepositoryFiles>(
    ctx: &JobContext,
    forge: &R,
    job: &Job,
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

    let (candidates, too_big) = candidates(&tree, &config);
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
    for (path, id) in &misses {
        let bytes = forge.blob(id).await?;
        files.insert(path.clone(), bytes);
    }
    let paths = misses.iter().map(|(p, _)| p.clone()).collect();
    let (analysed, files) = analyse(forge, files, paths, &config).await?;
    for a in analysed {
        if let (Some(deps), Some(id)) = (&a.deps, files.id_of(&a.path)) {
            cache::store(&ctx.pool, id, &a.path, &config_hash, deps, &a.report).await?;
        }
        reports.push(a.report);
    }
    // YAML that is neither Compose nor Kubernetes (CI files, lock files) is not ours.
    reports.retain(|r| !is_foreign(r));
    reports.sort_by(|a, b| a.path.cmp(&b.path));

    let (rows, counts) = snapshot::units(&reports);
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    let key = enqueue::key(repo_id);
    let written = store::write(
        &ctx.pool,
        &Snapshot {
            scan_id,
            repo_id,
            job_id: job.id,
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
            if missing.is_empty() {
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
                let bytes = forge.blob(&id).await?;
                files.insert(path, bytes);
                extra += 1;
            }
        }
        pending = again;
    }
    Ok((done, files))
}

type CoreResult = (String, FileReport, Vec<String>);

async fn run_core(
    paths: Vec<String>,
    files: TreeFiles,
    config: Config,
) -> anyhow::Result<(Vec<CoreResult>, TreeFiles)> {
    tokio::task::spawn_blocking(move || {
        let results = paths
            .into_iter()
            .filter_map(|path| {
                let bytes = files.get(&path)?;
                let resolver = Recording::new(&files);
                let report = analyze::analyze(&path, bytes, &config, &resolver);
                Some((path, report, resolver.asked()))
            })
            .collect();
        (results, files)
    })
    .await
    .context("the analysis panicked")
}
