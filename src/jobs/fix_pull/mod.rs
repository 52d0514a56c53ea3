//! The fix-all pull request: one branch, one commit made through the API, every patch
//! `check --fix` would make to the default branch, kept up to date without ever
//! overwriting someone else's commits.
//!
//! A job reads the default branch, works out the patch set, looks at the branch and the
//! pull request made last, decides (`decide`), and then writes: a new commit and pull
//! request, the commit made again on a moved base, a comment, or a close.

pub mod body;
pub mod decide;
pub mod patches;
pub mod policy;

use super::JobContext;
use crate::config::{self, Config};
use crate::forge::github::git_writes::NewFile;
use crate::forge::github::{GitHubRepository, Installation};
use crate::forge::repository::RepositoryFiles;
use crate::forge::{ObjectId, Tree};
use crate::ids::{CommitSha, InstallationId, PrNumber, RepoId, RepoName};
use crate::queue::job::{FixPullJob, FixTrigger, ForgeRepo, Job};
use crate::queue::{self, Outcome};
use crate::scan::files::{Recording, TreeFiles};
use crate::storage::fix_pulls::{self, FixPullRecord, Written};
use anyhow::Context;
use decide::{Action, BranchWrite, Previous, PullState, Situation};
use patches::PatchSet;
use std::collections::BTreeSet;
use tracing::{Instrument, info};

/// The branch of every fix-all pull request.
pub const BRANCH: &str = "immutabot/read-only-root-fs";

/// Files fetched per job for the plain (not rendered) patches; the rest wait for a later run.
const MAX_FILES: usize = 2000;
/// Files fetched beside them for `extends` and overrides.
const MAX_EXTRA_FILES: usize = 200;

/// Runs a fix-pull job; errors become retryable failures, a 404 a permanent one.
pub async fn run(ctx: &JobContext, job: &FixPullJob) -> Outcome {
    let span = tracing::info_span!("fix_pull", repo = %job.repo.display_name());
    match fix_pull(ctx, job).instrument(span).await {
        Ok(outcome) => outcome,
        Err(e) => super::failure(e),
    }
}

/// The fix-pull job of a GitHub repository.
pub fn job(
    installation: InstallationId,
    repo_id: RepoId,
    repo: &RepoName,
    trigger: FixTrigger,
) -> Job {
    Job::FixPullRequest(FixPullJob {
        repo: ForgeRepo::GitHub {
            installation,
            repo_id,
            repo: repo.clone(),
        },
        trigger,
    })
}

/// Queues the repository's fix-pull job; `None` when one is already pending.
pub async fn enqueue(pool: &sqlx::PgPool, job: &Job) -> sqlx::Result<Option<crate::ids::JobId>> {
    let mut tx = pool.begin().await?;
    let id = queue::enqueue(&mut tx, None, job).await?;
    tx.commit().await?;
    Ok(id)
}

/// After a default-branch scan: queues the fix-pull job when there is something to fix in an
/// opted-in repository (every repository with `all`), or a fix pull request to keep up to
/// date or close.
pub async fn after_scan(ctx: &JobContext, repo_id: i64, opted_in: bool) -> anyhow::Result<()> {
    let settings = &ctx.fix_pulls;
    if settings.mode == policy::Mode::Off {
        return Ok(());
    }
    let Some(r) = fix_pulls::after_scan(&ctx.pool, repo_id).await? else {
        return Ok(());
    };
    let wanted = opted_in || settings.mode == policy::Mode::All;
    if r.forge != "github" || !(r.open || (r.writable > 0 && wanted)) {
        return Ok(());
    }
    let name = RepoName::parse(&format!("{}/{}", r.owner, r.name)).map_err(anyhow::Error::msg)?;
    let job = job(
        InstallationId(r.installation_id),
        RepoId(repo_id),
        &name,
        FixTrigger::Scan,
    );
    enqueue(&ctx.pool, &job).await?;
    Ok(())
}

async fn fix_pull(ctx: &JobContext, job: &FixPullJob) -> anyhow::Result<Outcome> {
    let Some((installation, repo_id, repo)) = job.repo.github() else {
        return Ok(super::unsupported(&job.repo));
    };
    let gh = ctx.github.installation(installation)?;
    let forge = GitHubRepository::new(gh.clone(), repo.clone());
    let (base_branch, base_sha) = gh.default_branch_head(repo).await?;
    let tree = forge.tree(&base_sha).await?;
    let config = read_config(&forge, &tree).await?;
    let record = fix_pulls::get(&ctx.pool, repo_id.0).await?;
    let has_open = record.as_ref().is_some_and(|r| r.state == "open");
    if let Err(why) = policy::allowed(
        &ctx.fix_pulls,
        job.trigger,
        config.fix_pull_request,
        has_open,
    ) {
        info!(why, "no fix pull request");
        return Ok(Outcome::Done);
    }
    let set = patch_set(ctx, &forge, &tree, &config).await?;
    let record = observe(ctx, &gh, repo, repo_id, record).await?;
    let branch_head = gh.branch_head(repo, BRANCH).await?;
    let branch_is_ours = is_ours(&gh, repo, record.as_ref(), branch_head.as_ref()).await?;
    let fingerprint = (!set.is_empty()).then(|| set.fingerprint());
    let action = decide::decide(&Situation {
        fixes: fingerprint.as_deref(),
        base_sha: base_sha.as_str(),
        previous: record.as_ref().map(previous),
        branch_head: branch_head.as_ref().map(CommitSha::as_str),
        branch_is_ours,
    });
    info!(
        ?action,
        units = set.units.len(),
        files = set.files.len(),
        "fix pull request decided"
    );
    let target = Target {
        ctx,
        gh: &gh,
        repo,
        installation,
        repo_id,
        base_branch: &base_branch,
        base_sha: &base_sha,
        tree: &tree,
    };
    target.act(action, &set, record.as_ref()).await
}

/// What acting on a decision needs.
struct Target<'a> {
    ctx: &'a JobContext,
    gh: &'a Installation,
    repo: &'a RepoName,
    installation: InstallationId,
    repo_id: RepoId,
    base_branch: &'a str,
    base_sha: &'a CommitSha,
    tree: &'a Tree,
}

impl Target<'_> {
    async fn act(
        &self,
        action: Action,
        set: &PatchSet,
        record: Option<&FixPullRecord>,
    ) -> anyhow::Result<Outcome> {
        match action {
            Action::Nothing(why) => {
                info!(why, "fix pull request left as it is");
                Ok(Outcome::Done)
            }
            Action::Open(write) => self.open(set, write).await,
            Action::Update => {
                let number = PrNumber(record.context("an update without a pull request")?.number);
                self.update(set, number).await
            }
            Action::Comment { head } => {
                let number = PrNumber(record.context("a comment without a pull request")?.number);
                self.comment(number, &head).await
            }
            Action::Close => {
                let number = PrNumber(record.context("a close without a pull request")?.number);
                self.close(number).await
            }
        }
    }

    /// A new commit on the base, the branch created or moved to it, a new pull request.
    async fn open(&self, set: &PatchSet, write: BranchWrite) -> anyhow::Result<Outcome> {
        if let Some(limited) = self.rate_limited().await? {
            return Ok(limited);
        }
        let commit = self.commit(set).await?;
        match write {
            BranchWrite::Create => self.gh.create_branch(self.repo, BRANCH, &commit).await?,
            BranchWrite::Force => {
                self.gh
                    .move_branch(self.repo, BRANCH, &commit, true)
                    .await?
            }
        }
        let text = body::body(set, self.base_branch, self.base_sha.as_str());
        let pull = self
            .gh
            .open_pull(self.repo, BRANCH, self.base_branch, body::TITLE, &text)
            .await?;
        self.remember(set, &commit, pull.number, &pull.url).await?;
        info!(number = pull.number.0, %commit, "fix pull request opened");
        Ok(Outcome::Done)
    }

    /// The commit made again on the new base; the branch (still ours) forced to it.
    async fn update(&self, set: &PatchSet, number: PrNumber) -> anyhow::Result<Outcome> {
        if let Some(limited) = self.rate_limited().await? {
            return Ok(limited);
        }
        let commit = self.commit(set).await?;
        self.gh
            .move_branch(self.repo, BRANCH, &commit, true)
            .await?;
        let text = body::body(set, self.base_branch, self.base_sha.as_str());
        self.gh
            .edit_pull(self.repo, number, body::TITLE, &text)
            .await?;
        let url = self.gh.bot_pull(self.repo, number).await?.url;
        self.remember(set, &commit, number, &url).await?;
        info!(number = number.0, %commit, "fix pull request updated");
        Ok(Outcome::Done)
    }

    async fn comment(&self, number: PrNumber, head: &str) -> anyhow::Result<Outcome> {
        let (text, key) = body::foreign_push(head, BRANCH, self.base_branch);
        self.gh.comment_once(self.repo, number, &text, &key).await?;
        fix_pulls::record_comment(&self.ctx.pool, self.repo_id.0, head).await?;
        info!(
            number = number.0,
            head, "someone else pushed to the fix branch; commented"
        );
        Ok(Outcome::Done)
    }

    async fn close(&self, number: PrNumber) -> anyhow::Result<Outcome> {
        let (text, key) = body::closed(self.base_branch);
        self.gh.comment_once(self.repo, number, &text, key).await?;
        self.gh.close_pull(self.repo, number).await?;
        fix_pulls::record_closed(
            &self.ctx.pool,
            self.repo_id.0,
            PullState::Closed.as_str(),
            true,
        )
        .await?;
        info!(
            number = number.0,
            "nothing left to fix; fix pull request closed"
        );
        Ok(Outcome::Done)
    }

    /// A failure to retry later when the installation had its share of new commits this
    /// hour.
    async fn rate_limited(&self) -> anyhow::Result<Option<Outcome>> {
        let settings = &self.ctx.fix_pulls;
        let written = fix_pulls::written_since(
            &self.ctx.pool,
            self.installation.0,
            self.repo_id.0,
            policy::WINDOW,
        )
        .await?;
        if policy::within_rate(settings, written) {
            return Ok(None);
        }
        Ok(Some(Outcome::Failed(format!(
            "rate limited: {written} repositories of installation {} got a fix pull request commit in the last hour (IMMUTABOT_FIX_PULL_REQUESTS_PER_HOUR={})",
            self.installation.0, settings.per_hour
        ))))
    }

    /// The one commit, on the base, with every patched file.
    async fn commit(&self, set: &PatchSet) -> anyhow::Result<CommitSha> {
        let files: Vec<NewFile<'_>> = set
            .files
            .iter()
            .map(|f| NewFile {
                path: &f.path,
                mode: mode_of(self.tree, &f.path),
                text: &f.after,
            })
            .collect();
        let message = body::commit_message(set);
        Ok(self
            .gh
            .commit_files(self.repo, self.base_sha, &message, &files)
            .await?)
    }

    async fn remember(
        &self,
        set: &PatchSet,
        commit: &CommitSha,
        number: PrNumber,
        url: &str,
    ) -> anyhow::Result<()> {
        let fingerprint = set.fingerprint();
        fix_pulls::record_write(
            &self.ctx.pool,
            &Written {
                repo_id: self.repo_id.0,
                installation_id: self.installation.0,
                number: number.0,
                url,
                branch: BRANCH,
                base_sha: self.base_sha.as_str(),
                head_sha: commit.as_str(),
                fingerprint: &fingerprint,
            },
        )
        .await?;
        Ok(())
    }
}

/// The file's mode in the tree (an executable stays executable).
fn mode_of<'a>(tree: &'a Tree, path: &str) -> &'a str {
    tree.entries
        .iter()
        .find(|e| e.path == path)
        .map_or("100644", |e| e.mode.as_str())
}

/// The stored record with the pull request's state as GitHub shows it now: a pull request
/// a person closed or merged is recorded so.
async fn observe(
    ctx: &JobContext,
    gh: &Installation,
    repo: &RepoName,
    repo_id: RepoId,
    record: Option<FixPullRecord>,
) -> anyhow::Result<Option<FixPullRecord>> {
    let Some(mut record) = record else {
        return Ok(None);
    };
    if record.state != "open" {
        return Ok(Some(record));
    }
    let live = gh.bot_pull(repo, PrNumber(record.number)).await?;
    let state = match (live.state.as_str(), live.merged) {
        (_, true) => PullState::Merged,
        ("open", _) => PullState::Open,
        _ => PullState::Closed,
    };
    if state != PullState::Open {
        fix_pulls::record_closed(&ctx.pool, repo_id.0, state.as_str(), false).await?;
        record.state = state.as_str().to_string();
        record.closed_by_us = false;
    }
    Ok(Some(record))
}

fn previous(r: &FixPullRecord) -> Previous<'_> {
    let state = match r.state.as_str() {
        "open" => PullState::Open,
        "merged" => PullState::Merged,
        _ => PullState::Closed,
    };
    Previous {
        state,
        closed_by_us: r.closed_by_us,
        base_sha: &r.base_sha,
        head_sha: &r.head_sha,
        fingerprint: &r.fingerprint,
        commented_head: r.commented_head.as_deref(),
    }
}

/// Whether the branch's head is the bot's own last commit. Without a record (its row was
/// lost after the commit was made), a head commit by a bot with our title counts as ours.
async fn is_ours(
    gh: &Installation,
    repo: &RepoName,
    record: Option<&FixPullRecord>,
    head: Option<&CommitSha>,
) -> anyhow::Result<bool> {
    let Some(head) = head else {
        return Ok(false);
    };
    if let Some(r) = record {
        return Ok(r.head_sha == head.as_str());
    }
    let commit = gh.git_commit(repo, head).await?;
    Ok(commit.author.ends_with("[bot]")
        && commit.committer.ends_with("[bot]")
        && commit.message.starts_with(body::TITLE))
}

/// The base commit's `.immutabot.yml`; an invalid one counts as the defaults (not opted in).
async fn read_config<R: RepositoryFiles>(forge: &R, tree: &Tree) -> anyhow::Result<Config> {
    let Some(entry) = tree
        .entries
        .iter()
        .find(|e| e.is_file() && e.path == config::FILE_NAME)
    else {
        return Ok(Config::default());
    };
    let bytes = forge.blob(&entry.sha).await?;
    Ok(Config::parse(&String::from_utf8_lossy(&bytes)).unwrap_or_default())
}

/// Every patch `check --fix` would make at the base commit: charts and kustomizations
/// through their renders, then each other Compose or Kubernetes file.
async fn patch_set<R: RepositoryFiles>(
    ctx: &JobContext,
    forge: &R,
    tree: &Tree,
    config: &Config,
) -> anyhow::Result<PatchSet> {
    let mut notes = Vec::new();
    let rendered = super::scan::render_tree(ctx, forge, tree, config, &mut notes).await?;
    let mut set = PatchSet::default();
    for (file, units) in patches::fix_rendered(&rendered.reports, &rendered.sources) {
        set.add(file, units);
    }
    let done: BTreeSet<String> = set.files.iter().map(|f| f.path.clone()).collect();
    let paths: Vec<(String, ObjectId)> = tree
        .entries
        .iter()
        .filter(|e| e.is_file() && crate::analyze::is_candidate(&e.path))
        .filter(|e| !config.is_ignored(&e.path) && !rendered.claimed.contains(&e.path))
        .filter(|e| !done.contains(&e.path))
        .filter(|e| {
            e.size
                .is_none_or(|n| n <= crate::analyze::MAX_FILE_BYTES as u64)
        })
        .take(MAX_FILES)
        .map(|e| (e.path.clone(), e.sha.clone()))
        .collect();
    let mut files = TreeFiles::new(tree);
    for (path, id) in &paths {
        files.insert(path.clone(), forge.blob(id).await?);
    }
    fetch_beside(forge, &mut files, &paths, config).await?;
    for (path, _) in &paths {
        let Some(bytes) = files.get(path) else {
            continue;
        };
        if let Some((file, units)) = patches::fix_plain(path, bytes, config, &files) {
            set.add(file, units);
        }
    }
    for note in notes {
        info!(note, "while rendering for the fix pull request");
    }
    Ok(set)
}

/// Fetches what the analyses read beside their files (`extends`, overrides), once.
async fn fetch_beside<R: RepositoryFiles>(
    forge: &R,
    files: &mut TreeFiles,
    paths: &[(String, ObjectId)],
    config: &Config,
) -> anyhow::Result<()> {
    let mut wanted = BTreeSet::new();
    for (path, _) in paths {
        let Some(bytes) = files.get(path) else {
            continue;
        };
        let resolver = Recording::new(files);
        crate::analyze::analyze(path, bytes, config, &resolver);
        wanted.extend(
            resolver
                .asked()
                .into_iter()
                .filter(|p| files.needs_fetch(p)),
        );
    }
    for path in wanted.into_iter().take(MAX_EXTRA_FILES) {
        if let Some(id) = files.id_of(&path).cloned() {
            let bytes = forge.blob(&id).await?;
            files.insert(path, bytes);
        }
    }
    Ok(())
}

/// What asking for a repository's fix-all pull request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// Its job was queued; the repository's name as stored.
    Queued(crate::ids::JobId, String),
    /// Its job was already pending.
    AlreadyQueued(String),
    /// No installed GitHub repository has that name.
    Unknown,
}

/// Queues the fix-pull job of the installed GitHub repository `owner/name` (names compare
/// case-insensitively, as on GitHub), as a person asked for it.
pub async fn request(
    pool: &sqlx::PgPool,
    owner: &str,
    name: &str,
    trigger: FixTrigger,
) -> anyhow::Result<Requested> {
    let found = crate::storage::repositories::installed_by_name(pool, owner, Some(name)).await?;
    let Some(r) = found.into_iter().find(|r| r.forge == "github") else {
        return Ok(Requested::Unknown);
    };
    let full = format!("{}/{}", r.owner, r.name);
    let name = RepoName::parse(&full).map_err(anyhow::Error::msg)?;
    let job = job(
        InstallationId(r.installation_id),
        RepoId(r.id),
        &name,
        trigger,
    );
    Ok(match enqueue(pool, &job).await? {
        Some(id) => Requested::Queued(id, full),
        None => Requested::AlreadyQueued(full),
    })
}
