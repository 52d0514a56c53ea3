//! Reviewing one head commit of a pull or merge request, in named steps:
//! fetch → analyse → plan → publish → remember.
//!
//! Written once for every forge, against [`ChangeRequest`]; the forge's adapter is all that
//! differs between a GitHub pull request and a GitLab merge request.

mod analyse;
mod fetch;
mod prefetched;
mod publish;
mod remember;

use super::JobContext;
use crate::forge::github::GitHubPullRequest;
use crate::forge::review::ChangeRequest;
use crate::ids::{CommitSha, InstallationId, PrNumber, RepoName};
use crate::queue::{Job, Outcome};
use crate::review::MAX_COMMENTS;
use crate::review::plan;
use anyhow::Context;
use serde::Deserialize;
use sqlx::PgPool;
use tracing::{Instrument, info};

/// The job's payload (written by the webhook intake).
#[derive(Debug, Deserialize)]
struct Payload {
    installation: i64,
    repo_id: i64,
    repo: String,
    number: i64,
    head_sha: String,
    /// Asked for by "Re-run" on our check: a new check run even if this head has one.
    #[serde(default)]
    rerun: bool,
}

/// What one review is of: a head commit of a request, and where its history goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The repository's id in our database.
    pub repo_id: i64,
    /// The request's number (GitHub) or iid (GitLab).
    pub number: PrNumber,
    /// The head commit to review.
    pub head: CommitSha,
    /// A new status even if this head already has one.
    pub rerun: bool,
}

/// Runs a GitHub review job; every error becomes a retryable failure.
pub async fn run(ctx: &JobContext, job: &Job) -> Outcome {
    let p = &job.payload;
    let span = tracing::info_span!(
        "review",
        repo = p["repo"].as_str().unwrap_or(""),
        pr = p["number"].as_i64().unwrap_or(0),
        head = p["head_sha"].as_str().unwrap_or("")
    );
    let reviewed = async {
        let p: Payload = serde_json::from_value(job.payload.clone()).context("bad job payload")?;
        let repo = RepoName::parse(&p.repo).map_err(anyhow::Error::msg)?;
        let target = Target {
            repo_id: p.repo_id,
            number: PrNumber(p.number),
            head: CommitSha::parse(&p.head_sha).map_err(anyhow::Error::msg)?,
            rerun: p.rerun,
        };
        let installation = ctx.github.installation(InstallationId(p.installation))?;
        let request = GitHubPullRequest::new(installation, repo, target.number);
        review(&ctx.pool, &request, &target).await
    };
    match reviewed.instrument(span).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed(format!("{e:#}")),
    }
}

/// Reviews `target` on `forge`: the same steps for every forge.
pub async fn review<F: ChangeRequest>(
    pool: &PgPool,
    forge: &F,
    target: &Target,
) -> anyhow::Result<Outcome> {
    let request = match fetch::current(forge, &target.head).await? {
        Ok(request) => request,
        Err(stale) => return Ok(Outcome::Superseded(stale)),
    };
    let check = remember::start(pool, forge, target).await?;
    let mut input = fetch::inputs(forge, &request, &target.head).await?;
    let analysed = analyse::run(forge, &target.head, &mut input).await?;
    let files = analysed.review_files(&input.diffs);
    let threads = fetch::our_threads(forge).await?;
    let mut plan = plan::plan(&files, &input.config, &threads.open(), MAX_COMMENTS);

    if fetch::current(forge, &target.head).await?.is_err() {
        // A push while we worked makes all of this stale: the newer job posts instead.
        publish::cancel(forge, target, &check, &plan, &files).await?;
        remember::cancelled(pool, &check).await?;
        return Ok(Outcome::Superseded("head moved on before posting".into()));
    }
    let posted =
        publish::comments(forge, &target.head, &mut plan, &files, &mut input.notes).await?;
    let resolved = publish::resolve_fixed(forge, &threads, &plan).await?;
    publish::finish(forge, target, &check, &plan, &files, &input.notes).await?;
    let fixed = remember::finish(
        pool,
        &check,
        &plan,
        &analysed.reports,
        &threads.open(),
        posted,
    )
    .await?;
    info!(
        comments = posted,
        annotations = plan.annotations.len(),
        resolved,
        fixed,
        conclusion = plan.conclusion.as_str(),
        "review done"
    );
    Ok(Outcome::Done)
}
