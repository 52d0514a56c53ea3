//! Scanning a whole repository at one commit: list its tree, render every chart and
//! kustomization deploy root, take each other Compose or Kubernetes file's report from the
//! cache by blob id or fetch and analyse it, then store the snapshot.
//!
//! Rendered reports are not cached: a render reads a whole folder (and the folders a
//! kustomization builds on), so one blob id cannot key it. The files a render stands for
//! are neither fetched nor analysed as plain files, so each unit is counted once.

use super::JobContext;
use super::budget;
use super::memory::Budget as Memory;
use crate::analyze::{self, NOT_RECOGNISED};
use crate::config::{self, Config};
use crate::expiry;
use crate::forge::github::GitHubRepository;
use crate::forge::repository::RepositoryFiles;
use crate::forge::{ObjectId, Tree};
use crate::ids::{CommitSha, Forge, JobId};
use crate::jobs::render::{self, Blobs, Rendered, Workspace, select};
use crate::model::{FileReport, Format};
use crate::owners::{self, CodeOwners, Syntax};
use crate::queue::Outcome;
use crate::queue::job::{ScanJob, scan_key};
use crate::scan::files::{Recording, TreeFiles};
use crate::scan::in_flight::{self, Turn};
use crate::scan::snapshot::Unsettled;
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
/// How long a scan waits for another scan's analysis of a blob it needs, before doing it
/// itself.
const WAIT_FOR_OTHERS: std::time::Duration = std::time::Duration::from_secs(120);

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
    let key = scan_key(&p.repo);
    let result = scan_commit(ctx, forge, (id, &key), repo_id, &commit, scan_id).await;
    if let Err(e) = &result {
        // Best effort: the job's own error is what matters.
        let _ = scans::fail(&ctx.pool, scan_id, &format!("{e:#}")).await;
    }
    result
}

async fn scan_commit<R: RepositoryFiles>(
    ctx: &JobContext,
    forge: &R,
    (job, key): (JobId, &str),
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
    let codeowners = read_owners(forge, &files, &tree, &mut notes).await?;

    let rendered = render_tree(ctx, forge, &tree, &config, &mut notes).await?;
    let (mut candidates, too_big) = candidates(&tree, &config);
    candidates.retain(|(path, _)| !rendered.claimed.contains(path));
    if too_big > 0 {
        notes.push(format!(
            "{too_big} file(s) over {} MiB were not analysed",
            analyze::MAX_FILE_BYTES >> 20
        ));
    }
    let (mut reports, mut misses) = from_cache(ctx, &files, candidates, &config_hash).await?;
    let hits = reports.len();
    metrics::counter!("immutabot_scan_files_total", "cache" => "hit").increment(hits as u64);
    metrics::counter!("immutabot_scan_files_total", "cache" => "miss")
        .increment(misses.len() as u64);
    // What one scan may hold: files past it are named in the note, not fetched.
    let mut memory = Memory::scan();
    let sizes: HashMap<&str, u64> = tree
        .entries
        .iter()
        .filter_map(|e| Some((e.path.as_str(), e.size?)))
        .collect();
    misses.retain(|(path, _)| memory.admit(path, sizes.get(path.as_str()).copied()));
    // Blobs another scan in this process is analysing now are waited for, not done twice.
    let (mine, theirs) = claim(ctx, misses, &config_hash);
    let paths = mine.iter().map(|(path, _, _)| path.clone()).collect();
    let (fresh, files) =
        fetch_and_analyse(ctx, forge, files, paths, &config, &config_hash, &mut memory).await?;
    let mut analysed = fresh.len();
    reports.extend(fresh);
    drop(mine);
    let (waited, still) = after_others(ctx, &files, theirs, &config_hash).await?;
    reports.extend(waited);
    if !still.is_empty() {
        let (fresh, _) =
            fetch_and_analyse(ctx, forge, files, still, &config, &config_hash, &mut memory).await?;
        analysed += fresh.len();
        reports.extend(fresh);
    }
    notes.extend(memory.note());
    let unsettled = unsettled(&reports, &rendered.unrendered, memory.left_out());
    if !unsettled.is_empty() {
        notes.push(format!(
            "{} file(s) or folder(s) were not analysed in time or within the scan's memory budget; their units keep their last state",
            unsettled.len()
        ));
    }
    reports.extend(rendered.reports);
    // YAML that is neither Compose nor Kubernetes (CI files, lock files) is not ours.
    reports.retain(|r| !is_foreign(r));
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    // After the cache: a cached report must not keep an exemption alive past its date.
    let today = crate::today::today();
    reports.iter_mut().for_each(|r| expiry::apply(r, today));

    let (mut rows, counts) = snapshot::units(&reports);
    snapshot::assign_owners(&mut rows, &codeowners);
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    let written = store::write(
        &ctx.pool,
        &Snapshot {
            scan_id,
            repo_id,
            job_id: job.0,
            dedupe_key: key,
            rows: &rows,
            counts,
            note: note.as_deref(),
            unsettled: &unsettled,
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
                analysed, inserted, closed, kept, "scan stored");
            // The scan is stored; the next scan queues a fix pull request this one could not.
            if let Err(e) = super::fix_pull::after_scan(ctx, repo_id, config.fix_pull_request).await
            {
                tracing::warn!(error = %format!("{e:#}"), "could not queue the fix pull request");
            }
            Ok(Outcome::Done)
        }
    }
}

/// What this scan could not look at: files out of time or past the memory budget, units
/// past the render budget.
fn unsettled(plain: &[FileReport], unrendered: &[String], left_out: &[String]) -> Unsettled {
    let mut out = Unsettled::default();
    for path in left_out {
        out.file(path);
    }
    for r in plain.iter().filter(|r| budget::is_out_of_time(r)) {
        out.file(&r.path);
    }
    for folder in unrendered {
        out.folder(folder);
    }
    out
}

/// Reports found in the cache, and the files that must be fetched and analysed.
async fn from_cache(
    ctx: &JobContext,
    files: &TreeFiles,
    candidates: Vec<(String, ObjectId)>,
    config_hash: &str,
) -> anyhow::Result<(Vec<FileReport>, Vec<(String, ObjectId)>)> {
    let mut reports = Vec::new();
    let mut misses = Vec::new();
    for (path, id) in candidates {
        let id_of = |p: &str| files.id_of(p).cloned();
        match cache::lookup(&ctx.pool, &id, &path, config_hash, id_of).await? {
            Some(report) => reports.push(report),
            None => misses.push((path, id)),
        }
    }
    Ok((reports, misses))
}

type Claimed = Vec<(String, ObjectId, in_flight::Claim)>;
type Waiting = Vec<(String, ObjectId, in_flight::Wait)>;

/// Splits the misses into those this scan analyses and those another scan is analysing.
fn claim(
    ctx: &JobContext,
    misses: Vec<(String, ObjectId)>,
    config_hash: &str,
) -> (Claimed, Waiting) {
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    for (path, id) in misses {
        let key = in_flight::key(id.as_str(), &path, config_hash);
        match ctx.in_flight.claim(key) {
            Turn::Mine(c) => mine.push((path, id, c)),
            Turn::Theirs(w) => theirs.push((path, id, w)),
        }
    }
    if !theirs.is_empty() {
        metrics::counter!("immutabot_scan_files_total", "cache" => "shared")
            .increment(theirs.len() as u64);
    }
    (mine, theirs)
}

/// Waits (within [`WAIT_FOR_OTHERS`]) for the other scans' analyses, then reads the cache
/// again: their reports, and the paths that must still be analysed here (the other scan
/// gave up, or its report could not be cached).
async fn after_others(
    ctx: &JobContext,
    files: &TreeFiles,
    theirs: Waiting,
    config_hash: &str,
) -> anyhow::Result<(Vec<FileReport>, Vec<String>)> {
    let mut candidates = Vec::with_capacity(theirs.len());
    let deadline = tokio::time::Instant::now() + WAIT_FOR_OTHERS;
    for (path, id, wait) in theirs {
        let _ = tokio::time::timeout_at(deadline, wait.done()).await;
        candidates.push((path, id));
    }
    let (reports, misses) = from_cache(ctx, files, candidates, config_hash).await?;
    Ok((reports, misses.into_iter().map(|(path, _)| path).collect()))
}

/// Fetches `paths`, analyses them and caches what may be cached.
async fn fetch_and_analyse<R: RepositoryFiles>(
    ctx: &JobContext,
    forge: &R,
    mut files: TreeFiles,
    paths: Vec<String>,
    config: &Config,
    config_hash: &str,
    memory: &mut Memory,
) -> anyhow::Result<(Vec<FileReport>, TreeFiles)> {
    for path in &paths {
        if let Some(id) = files.id_of(path).cloned() {
            let bytes = forge.blob(&id).await?;
            memory.hold(bytes.len());
            files.insert(path.clone(), bytes);
        }
    }
    let (analysed, files) = analyse(forge, files, paths, config, memory).await?;
    let mut reports = Vec::with_capacity(analysed.len());
    for a in analysed {
        if let (Some(deps), Some(id)) = (&a.deps, files.id_of(&a.path)) {
            cache::store(&ctx.pool, id, &a.path, config_hash, deps, &a.report).await?;
        }
        reports.push(a.report);
    }
    Ok((reports, files))
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

/// CODEOWNERS lines named in a scan's note; the rest are counted.
const MAX_OWNER_ERRORS: usize = 5;

/// The commit's CODEOWNERS, found where its forge looks; lines it could not read are noted
/// on the scan (and ignored, as the forge ignores them). None, or one too large: no owners.
async fn read_owners<R: RepositoryFiles>(
    forge: &R,
    files: &TreeFiles,
    tree: &Tree,
    notes: &mut Vec<String>,
) -> anyhow::Result<CodeOwners> {
    let syntax = match forge.forge() {
        Forge::GitHub => Syntax::GitHub,
        Forge::GitLab => Syntax::GitLab,
    };
    let Some((path, id)) = syntax
        .locate(|p| files.id_of(p).is_some())
        .and_then(|p| Some((p, files.id_of(p)?.clone())))
    else {
        return Ok(CodeOwners::default());
    };
    let size = tree
        .entries
        .iter()
        .find(|e| e.path == path)
        .and_then(|e| e.size);
    if size.is_some_and(|n| n > owners::MAX_BYTES as u64) {
        notes.push(format!(
            "{path} is over 3 MB and was not read; units have no owner"
        ));
        return Ok(CodeOwners::default());
    }
    let bytes = forge.blob(&id).await?;
    let parsed = CodeOwners::parse(&String::from_utf8_lossy(&bytes), syntax);
    let errors = parsed.errors();
    for e in errors.iter().take(MAX_OWNER_ERRORS) {
        notes.push(format!("{path} {e}: the line was ignored"));
    }
    if errors.len() > MAX_OWNER_ERRORS {
        let more = errors.len() - MAX_OWNER_ERRORS;
        notes.push(format!("{path}: {more} more line(s) were ignored"));
    }
    Ok(parsed)
}

/// Renders every chart and kustomization deploy root of the tree (charts with their
/// default values: what deploys), from their folders' blobs.
pub(crate) async fn render_tree<R: RepositoryFiles>(
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
    memory: &mut Memory,
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
                if !memory.has_room() || !memory.admit(&path, None) {
                    break;
                }
                let bytes = forge.blob(&id).await?;
                memory.hold(bytes.len());
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
    for (path, ran) in budget::each(&shared, paths, budget::Budget::default(), one).await? {
        match ran {
            Ok(Some((report, asked))) => results.push((path, report, asked)),
            Ok(None) => {}
            Err(why) => {
                let report = budget::out_of_time(&path, why);
                results.push((path, report, Vec::new()));
            }
        }
    }
    Ok((results, std::sync::Arc::unwrap_or_clone(shared).0))
}
