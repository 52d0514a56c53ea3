//! The GitLab side of the review, scan and fix-pull jobs: the client, and the project's row in the
//! history, written from what GitLab says of the project (its group included, which a
//! webhook payload does not name by id). Everything after that is the forge-neutral job.

use super::fix_pull::{self, Place};
use super::review::{self, Target};
use super::{JobContext, failure, scan, unsupported};
use crate::forge::gitlab::{GitLabClient, GitLabMergeRequest, GitLabProject};
use crate::ids::{InstallationId, JobId, MergeRequestIid, ProjectId, ProjectPath, RepoId};
use crate::queue::Outcome;
use crate::queue::job::{FixPullJob, ForgeRepo, ReviewJob, ScanJob};
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
            repo_id: project_row(ctx, client, *project_id).await?.repo_id.0,
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
        let repo_id = project_row(ctx, client, *project_id).await?.repo_id.0;
        let files = GitLabProject::new(client.clone(), *project_id);
        scan::scan_with(ctx, id, &files, repo_id, job).await
    };
    scanned.instrument(span).await.unwrap_or_else(failure)
}

/// Runs a project's fix-all merge request.
pub async fn fix_merge_request(ctx: &JobContext, job: &FixPullJob) -> Outcome {
    let (Some(client), ForgeRepo::GitLab { project_id, .. }) = (&ctx.gitlab, &job.repo) else {
        return unsupported(&job.repo);
    };
    let span = tracing::info_span!("fix_pull", project = %job.repo.display_name());
    let made = async {
        let at = project_row(ctx, client, *project_id).await?;
        let project = GitLabProject::new(client.clone(), *project_id);
        fix_pull::fix_with(ctx, &project, at, job.trigger).await
    };
    made.instrument(span).await.unwrap_or_else(failure)
}

/// The project's history row, its group's first: GitLab groups are stored like GitHub
/// accounts, each nested group under its full path.
async fn project_row(
    ctx: &JobContext,
    client: &GitLabClient,
    project: ProjectId,
) -> anyhow::Result<Place> {
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
    let repo_id = repositories::upsert_project(&ctx.pool, row).await?;
    Ok(Place {
        repo_id: RepoId(repo_id),
        installation: InstallationId(group),
    })
}
