//! What queues a fix-pull job: a default-branch scan, the report's button and
//! `immutabot fix-pr`. One job is pending per repository at a time.

use super::policy;
use crate::ids::{InstallationId, JobId, ProjectId, ProjectPath, RepoId, RepoName};
use crate::jobs::JobContext;
use crate::queue;
use crate::queue::job::{FixPullJob, FixTrigger, ForgeRepo, Job};
use crate::storage::fix_pulls;

/// The fix-pull job of a repository.
pub fn job(repo: ForgeRepo, trigger: FixTrigger) -> Job {
    Job::FixPullRequest(FixPullJob { repo, trigger })
}

/// Queues the repository's fix-pull job; `None` when one is already pending.
pub async fn enqueue(pool: &sqlx::PgPool, job: &Job) -> sqlx::Result<Option<JobId>> {
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
    if !(r.open || (r.writable > 0 && wanted)) {
        return Ok(());
    }
    let repo = forge_repo(&r.forge, r.forge_id, r.installation_id, &r.owner, &r.name)?;
    enqueue(&ctx.pool, &job(repo, FixTrigger::Scan)).await?;
    Ok(())
}

/// A stored repository as a job names it.
fn forge_repo(
    forge: &str,
    forge_id: i64,
    installation_id: i64,
    owner: &str,
    name: &str,
) -> anyhow::Result<ForgeRepo> {
    let full = format!("{owner}/{name}");
    Ok(match forge {
        "gitlab" => ForgeRepo::GitLab {
            project_id: ProjectId(forge_id),
            path: ProjectPath::parse(&full).map_err(anyhow::Error::msg)?,
        },
        _ => ForgeRepo::GitHub {
            installation: InstallationId(installation_id),
            repo_id: RepoId(forge_id),
            repo: RepoName::parse(&full).map_err(anyhow::Error::msg)?,
        },
    })
}

/// What asking for a repository's fix-all pull request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// Its job was queued; the repository's name as stored.
    Queued(JobId, String),
    /// Its job was already pending.
    AlreadyQueued(String),
    /// No installed repository has that name.
    Unknown,
}

/// Queues the fix-pull job of the installed repository `owner/name`, as a person asked for
/// it. Names compare case-insensitively, as on the forges; on GitLab, `owner` may be a group
/// and `name` a path below it (`acme` and `payments/shop`).
pub async fn request(
    pool: &sqlx::PgPool,
    owner: &str,
    name: &str,
    trigger: FixTrigger,
) -> anyhow::Result<Requested> {
    let (owner, name) = match name.rsplit_once('/') {
        Some((sub, project)) => (format!("{owner}/{sub}"), project),
        None => (owner.to_string(), name),
    };
    let found = crate::storage::repositories::installed_by_name(pool, &owner, Some(name)).await?;
    // A GitHub account and a GitLab group of one name: GitHub's repository first.
    let Some(r) = found
        .iter()
        .find(|r| r.forge == "github")
        .or_else(|| found.first())
    else {
        return Ok(Requested::Unknown);
    };
    let full = format!("{}/{}", r.owner, r.name);
    let repo = forge_repo(&r.forge, r.forge_id, r.installation_id, &r.owner, &r.name)?;
    Ok(match enqueue(pool, &job(repo, trigger)).await? {
        Some(id) => Requested::Queued(id, full),
        None => Requested::AlreadyQueued(full),
    })
}
