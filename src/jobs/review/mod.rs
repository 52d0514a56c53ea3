//! Reviewing one head commit of a pull or merge request, in named steps:
//! fetch → analyse → render charts and kustomizations → compare with the base → plan →
//! publish → remember.
//!
//! Written once for every forge, against [`ChangeRequest`]; the forge's adapter is all that
//! differs between a GitHub pull request and a GitLab merge request.

mod analyse;
mod baseline;
mod charts;
mod fetch;
mod prefetched;
mod publish;
mod remember;

use super::JobContext;
use crate::forge::github::GitHubPullRequest;
use crate::forge::review::ChangeRequest;
use crate::ids::{CommitSha, PrNumber};
use crate::queue::Outcome;
use crate::queue::job::ReviewJob;
use crate::review::MAX_COMMENTS;
use crate::review::plan;
use crate::review::pointers::Pointers;
use tracing::{Instrument, info};

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

/// Runs a GitHub review job; errors become retryable failures, a 404 a permanent one.
pub async fn run(ctx: &JobContext, job: &ReviewJob) -> Outcome {
    let span = tracing::info_span!(
        "review",
        repo = %job.repo.display_name(),
        pr = job.number.0,
        head = %job.head_sha
    );
    let Some((installation, repo_id, repo)) = job.repo.github() else {
        return super::unsupported(&job.repo);
    };
    let reviewed = async {
        let target = Target {
            repo_id: repo_id.0,
            number: job.number,
            head: job.head_sha.clone(),
            rerun: job.rerun,
        };
        let installation = ctx.github.installation(installation)?;
        let request = GitHubPullRequest::new(installation, repo.clone(), target.number);
        review(ctx, &request, &target).await
    };
    match reviewed.instrument(span).await {
        Ok(outcome) => outcome,
        Err(e) => super::failure(e),
    }
}

/// Reviews `target` on `forge`: the same steps for every forge.
pub async fn review<F: ChangeRequest>(
    ctx: &JobContext,
    forge: &F,
    target: &Target,
) -> anyhow::Result<Outcome> {
    let pool = &ctx.pool;
    let request = match fetch::current(forge, &target.head).await? {
        Ok(request) => request,
        Err(stale) => return Ok(Outcome::Superseded(stale)),
    };
    let check = remember::start(pool, forge, target).await?;
    let mut input = fetch::inputs(forge, &request, &target.head).await?;
    let mut analysed = analyse::run(forge, &target.head, &mut input).await?;
    charts::render(
        forge,
        &target.head,
        &ctx.renderers,
        &mut input,
        &mut analysed,
    )
    .await?;
    let today = crate::today::today();
    analysed.expire(today);
    let renderers = &ctx.renderers;
    let base = baseline::read(
        forge,
        &request.base_sha,
        renderers,
        &input,
        &analysed,
        today,
    )
    .await?;
    let pointers = pointers(ctx, target.repo_id).await?;
    let files = analysed.review_files(&input.diffs);
    let threads = fetch::our_threads(forge).await?;
    let against = plan::Against {
        baseline: &base,
        pointers: &pointers,
    };
    let mut plan = plan::plan_against(
        &files,
        &input.config,
        &threads.open(),
        MAX_COMMENTS,
        against,
    );

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

/// Where a finding the base branch already had points: the repository's open fix-all pull
/// request, and its report page when `IMMUTABOT_PUBLIC_URL` says where the report is.
pub async fn pointers(ctx: &JobContext, repo_id: i64) -> anyhow::Result<Pointers> {
    let fix_pull_request = crate::storage::fix_pulls::open_for(&ctx.pool, repo_id)
        .await?
        .map(|p| (p.number as u64, p.url));
    let public = ctx.public_url.as_deref().filter(|u| !u.trim().is_empty());
    let report_page = match public {
        Some(root) => crate::storage::repositories::name_of(&ctx.pool, repo_id)
            .await?
            .map(|(owner, name)| crate::report::links::report_page(root, &owner, &name)),
        None => None,
    };
    Ok(Pointers {
        fix_pull_request,
        report_page,
    })
}
