//! The GitLab side of the review and scan jobs: the client, and the project's row in the
//! history, written from what GitLab says of the project (its group included, which a
//! webhook payload does not name by id). Everything after that is the forge-neutral job.

use super::review::{self, Target};
use super::{JobContext, failure, scan, unsupported};
use crate::forge::gitlab::{GitLabClient, GitLabMergeRequest, GitLabProject};
use crate::ids::{JobId, MergeRequestIid, ProjectId, ProjectPath};
use crate::queue::Outcome;
use crate::queue::job::{ForgeRepo, ReviewJob, ScanJob};
use crate::storage::repositories::{self, ProjectRow};
use anyhow::Context;
use tracing::Instrument;

/// Runs a merge request's review.
pub async fn review(ctx: &JobContext, job: &ReviewJob) -> Outcome {
    let (Some(client), ForgeRepo::GitLab { project_id, .. }) = (&ctx.gitlab, &job.repo) else {
        return unsupported(&job.repo);
    };
    let span = tracing::info_span!(
        "review",
        project = %job.repo.display_name(),
        mr = job.number.0,
        head = %job.head_sha
    );
    let reviewed = async {
        let target = Target {
            repo_id: project_row(ctx, client, *project_id).await?,
            number: job.number,
            head: job.head_sha.clone(),
            rerun: job.rerun,
        };
        let iid = MergeRequestIid(job.number.0);
        let request = GitLabMergeRequest::new(client.clone(), *project_id, iid);
        review::review(ctx, &request, &target).await
    };
    reviewed.instrument(span).await.unwrap_or_else(failure)
}

/// Runs a project's full scan.
pub async fn scan(ctx: &JobContext, id: JobId, job: &ScanJob) -> Outcome {
    let (Some(client), ForgeRepo::GitLab { project_id, .. }) = (&ctx.gitlab, &job.repo) else {
        return unsupported(&job.repo);
    };
    let span = tracing::info_span!("scan", project = %job.repo.display_name());
    let scanned = async {
        let repo_id = project_row(ctx, client, *project_id).await?;
        let files = GitLabProject::new(client.clone(), *project_id);
        scan::scan_with(ctx, id, &files, repo_id, job).await
    };
    scanned.instrument(span).await.unwrap_or_else(failure)
}

/// The project's history row, its group's first: GitLab groups are stored like GitHub
/// accounts, each nested group under its full path.
async fn project_row(
    ctx: &JobContext,
    client: &GitLabClient,
    project: ProjectId,
) -> anyhow::Result<i64> {
    let info = client.project(project).await?;
    let path = ProjectPath::parse(&info.path).map_err(anyhow::Error::msg)?;
    let (group_id, group_path) = info
        .namespace
        .with_context(|| format!("GitLab names no group for project {}", info.path))?;
    let group = repositories::upsert_group(&ctx.pool, group_id, &group_path).await?;
    let row = ProjectRow {
        group,
        id: project,
        path: &path,
        default_branch: info.default_branch.as_deref(),
        private: info.private,
    };
    Ok(repositories::upsert_project(&ctx.pool, row).await?)
}
