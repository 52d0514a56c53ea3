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
mod trigger;

pub use trigger::{Requested, after_scan, enqueue, job, request};

use super::JobContext;
use crate::config::{self, Config};
use crate::forge::fix_branch::{BranchUpdate, FixBranch, NewFile};
use crate::forge::github::GitHubRepository;
use crate::forge::repository::RepositoryFiles;
use crate::forge::{ObjectId, Tree};
use crate::ids::{CommitSha, InstallationId, PrNumber, RepoId};
use crate::queue::Outcome;
use crate::queue::job::{FixPullJob, FixTrigger};
use crate::scan::files::{Recording, TreeFiles};
use crate::storage::fix_pulls::{self, FixPullRecord, Written};
use anyhow::Context;
use decide::{Action, BranchWrite, Previous, RequestState, Situation};
use patches::PatchSet;
use std::collections::BTreeSet;
use tracing::{Instrument, info};

/// The branch of every fix-all pull request.
pub const BRANCH: &str = "immutabot/read-only-root-fs";

/// Files fetched per job for the plain (not rendered) patches; the rest wait for a later run.
const MAX_FILES: usize = 2000;
/// Files fetched beside them for `extends` and overrides.
const MAX_EXTRA_FILES: usize = 200;

/// Runs a GitHub repository's fix-pull job; errors become retryable failures, a 404 a
/// permanent one.
pub async fn run(ctx: &JobContext, job: &FixPullJob) -> Outcome {
    let span = tracing::info_span!("fix_pull", repo = %job.repo.display_name());
    let Some((installation, repo_id, repo)) = job.repo.github() else {
        return super::unsupported(&job.repo);
    };
    let made = async {
        let gh = ctx.github.installation(installation)?;
        let forge = GitHubRepository::new(gh, repo.clone());
        let at = Place {
            repo_id,
            installation,
        };
        fix_with(ctx, &forge, at, job.trigger).await
    };
    made.instrument(span).await.unwrap_or_else(super::failure)
}

/// Where a fix-pull job's history lives: the repository's row and its installation (a
/// GitLab project's group), which the rate counts by.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// The repository's row id.
    pub repo_id: RepoId,
    /// Its installation's row id.
    pub installation: InstallationId,
}

/// The fix-pull job on any forge: read the default branch, work out the patch set, look at
/// the branch and the change request made last, decide, then write.
pub async fn fix_with<F: FixBranch>(
    ctx: &JobContext,
    forge: &F,
    at: Place,
    trigger: FixTrigger,
) -> anyhow::Result<Outcome> {
    let (base_branch, base_sha) = forge.default_branch_head().await?;
    let tree = forge.tree(&base_sha).await?;
    let config = read_config(forge, &tree).await?;
    let record = fix_pulls::get(&ctx.pool, at.repo_id.0).await?;
    let has_open = record.as_ref().is_some_and(|r| r.state == "open");
    if let Err(why) = policy::allowed(&ctx.fix_pulls, trigger, config.fix_pull_request, has_open) {
        info!(why, "no fix pull request");
        return Ok(Outcome::Done);
    }
    let set = patch_set(ctx, forge, &tree, &config).await?;
    let record = observe(ctx, forge, at.repo_id, record).await?;
    let branch_head = forge.branch_head(BRANCH).await?;
    let branch_is_ours = is_ours(forge, record.as_ref(), branch_head.as_ref()).await?;
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
        forge,
        at,
        base_branch: &base_branch,
        base_sha: &base_sha,
        tree: &tree,
        branch_head: branch_head.as_ref(),
    };
    target.act(action, &set, record.as_ref()).await
}

/// What acting on a decision needs.
struct Target<'a, F> {
    ctx: &'a JobContext,
    forge: &'a F,
    at: Place,
    base_branch: &'a str,
    base_sha: &'a CommitSha,
    tree: &'a Tree,
    /// The branch's head as the decision saw it: the bot's to replace, and nobody else's.
    branch_head: Option<&'a CommitSha>,
}

impl<F: FixBranch> Target<'_, F> {
    async fn act(
        &self,
        action: Action,
        set: &PatchSet,
        record: Option<&FixPullRecord>,
    ) -> anyhow::Result<Outcome> {
        let number = || {
            record
                .map(|r| PrNumber(r.number))
                .context("no fix pull request is recorded to act on")
        };
        match action {
            Action::Nothing(why) => {
                info!(why, "fix pull request left as it is");
                Ok(Outcome::Done)
            }
            Action::Open(write) => self.open(set, write).await,
            Action::Update => {
                let r = record.context("no fix pull request is recorded to update")?;
                self.update(set, PrNumber(r.number), &r.url).await
            }
            Action::Comment { head } => self.comment(number()?, &head).await,
            Action::Close => self.close(number()?).await,
        }
    }

    /// A new commit on the base, the branch created or moved to it, a new change request.
    async fn open(&self, set: &PatchSet, write: BranchWrite) -> anyhow::Result<Outcome> {
        if let Some(limited) = self.rate_limited().await? {
            return Ok(limited);
        }
        let commit = self.commit(set, write).await?;
        let request = self
            .forge
            .open_request(BRANCH, self.base_branch, body::TITLE, &self.body(set))
            .await?;
        self.remember(set, &commit, request.number, &request.url)
            .await?;
        info!(number = request.number.0, %commit, "fix pull request opened");
        Ok(Outcome::Done)
    }

    /// The commit made again on the new base; the branch (still ours) forced to it. The
    /// request keeps its number and address (`url`, as recorded).
    async fn update(&self, set: &PatchSet, number: PrNumber, url: &str) -> anyhow::Result<Outcome> {
        if let Some(limited) = self.rate_limited().await? {
            return Ok(limited);
        }
        let commit = self.commit(set, BranchWrite::Force).await?;
        self.forge
            .edit_request(number, body::TITLE, &self.body(set))
            .await?;
        self.remember(set, &commit, number, url).await?;
        info!(number = number.0, %commit, "fix pull request updated");
        Ok(Outcome::Done)
    }

    async fn comment(&self, number: PrNumber, head: &str) -> anyhow::Result<Outcome> {
        let noun = self.forge.request_noun();
        let (text, key) = body::foreign_push(head, BRANCH, self.base_branch, noun);
        self.forge.comment_once(number, &text, &key).await?;
        fix_pulls::record_comment(&self.ctx.pool, self.at.repo_id.0, head).await?;
        info!(
            number = number.0,
            head, "someone else pushed to the fix branch; commented"
        );
        Ok(Outcome::Done)
    }

    async fn close(&self, number: PrNumber) -> anyhow::Result<Outcome> {
        let (text, key) = body::closed(self.base_branch, self.forge.request_noun());
        self.forge.comment_once(number, &text, key).await?;
        self.forge.close_request(number).await?;
        let closed = RequestState::Closed.as_str();
        fix_pulls::record_closed(&self.ctx.pool, self.at.repo_id.0, closed, true).await?;
        info!(
            number = number.0,
            "nothing left to fix; fix pull request closed"
        );
        Ok(Outcome::Done)
    }

    fn body(&self, set: &PatchSet) -> String {
        let noun = self.forge.request_noun();
        body::body(set, self.base_branch, self.base_sha.as_str(), noun)
    }

    /// A failure to retry later when the installation had its share of new commits this
    /// hour.
    async fn rate_limited(&self) -> anyhow::Result<Option<Outcome>> {
        let settings = &self.ctx.fix_pulls;
        let (installation, repo) = (self.at.installation.0, self.at.repo_id.0);
        let written =
            fix_pulls::written_since(&self.ctx.pool, installation, repo, policy::WINDOW).await?;
        if policy::within_rate(settings, written) {
            return Ok(None);
        }
        Ok(Some(Outcome::Failed(format!(
            "rate limited: {written} repositories of installation {installation} got a fix pull request commit in the last hour (IMMUTABOT_FIX_PULL_REQUESTS_PER_HOUR={})",
            settings.per_hour
        ))))
    }

    /// The one commit, on the base, with every patched file; the branch pointed at it, but
    /// replaced only while it still holds the head the decision saw.
    async fn commit(&self, set: &PatchSet, write: BranchWrite) -> anyhow::Result<CommitSha> {
        let update = match (write, self.branch_head) {
            (BranchWrite::Create, _) => BranchUpdate::Create,
            (BranchWrite::Force, Some(head)) => BranchUpdate::Replace(head),
            (BranchWrite::Force, None) => anyhow::bail!("no branch head to replace"),
        };
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
        self.forge
            .commit_to_branch(BRANCH, self.base_sha, &message, &files, update)
            .await
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
                repo_id: self.at.repo_id.0,
                installation_id: self.at.installation.0,
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

/// The stored record with the change request's state as the forge shows it now: one a
/// person closed or merged is recorded so.
async fn observe<F: FixBranch>(
    ctx: &JobContext,
    forge: &F,
    repo_id: RepoId,
    record: Option<FixPullRecord>,
) -> anyhow::Result<Option<FixPullRecord>> {
    let Some(mut record) = record else {
        return Ok(None);
    };
    if record.state != "open" {
        return Ok(Some(record));
    }
    let state = forge.request(PrNumber(record.number)).await?.state;
    if state != RequestState::Open {
        fix_pulls::record_closed(&ctx.pool, repo_id.0, state.as_str(), false).await?;
        record.state = state.as_str().to_string();
        record.closed_by_us = false;
    }
    Ok(Some(record))
}

fn previous(r: &FixPullRecord) -> Previous<'_> {
    Previous {
        state: RequestState::parse(&r.state),
        closed_by_us: r.closed_by_us,
        base_sha: &r.base_sha,
        head_sha: &r.head_sha,
        fingerprint: &r.fingerprint,
        commented_head: r.commented_head.as_deref(),
    }
}

/// Whether the branch's head is the bot's own last commit. Without a record (its row was
/// lost after the commit was made), a head commit the bot made with our title counts as ours.
async fn is_ours<F: FixBranch>(
    forge: &F,
    record: Option<&FixPullRecord>,
    head: Option<&CommitSha>,
) -> anyhow::Result<bool> {
    let Some(head) = head else {
        return Ok(false);
    };
    if let Some(r) = record {
        return Ok(r.head_sha == head.as_str());
    }
    forge.made_by_us(head, body::TITLE).await
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
