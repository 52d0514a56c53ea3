//! Queuing scans: the job, and the two ways of queuing them without an event (by hand for an
//! owner or a repository, and the periodic rescan of stale repositories).

use crate::ids::{CommitSha, InstallationId, JobId, ProjectId, ProjectPath, RepoId, RepoName};
use crate::queue::job::{ForgeRepo, Job, ScanJob};
use crate::queue::{self};
use crate::storage::repositories::{self, Installed};
use sqlx::PgPool;
use std::time::Duration;

/// The scan of a GitHub repository at `commit`, or at its default branch's head when `None`.
pub fn job(
    installation: InstallationId,
    repo_id: i64,
    repo: &RepoName,
    commit: Option<&CommitSha>,
    branch: Option<&str>,
) -> Job {
    Job::ScanRepository(ScanJob {
        repo: ForgeRepo::GitHub {
            installation,
            repo_id: RepoId(repo_id),
            repo: repo.clone(),
        },
        commit: commit.cloned(),
        branch: branch.map(str::to_string),
    })
}

/// What was done for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// `owner/name`.
    pub repo: String,
    /// The new job, or `None` when the same scan was already pending.
    pub job: Option<JobId>,
}

async fn queue_all(pool: &PgPool, repos: Vec<Installed>) -> anyhow::Result<Vec<Queued>> {
    let named: Vec<(String, Job)> = repos.into_iter().filter_map(job_of).collect();
    let jobs: Vec<Job> = named.iter().map(|(_, j)| j.clone()).collect();
    let mut tx = pool.begin().await?;
    let ids = queue::enqueue_all(&mut tx, None, &jobs).await?;
    tx.commit().await?;
    Ok(named
        .into_iter()
        .zip(ids)
        .map(|((repo, _), job)| Queued { repo, job })
        .collect())
}

/// The default-branch scan of a stored repository, named for the caller; `None` for a row
/// whose name no forge allows (never written by us).
fn job_of(r: Installed) -> Option<(String, Job)> {
    let full = format!("{}/{}", r.owner, r.name);
    let repo = match r.forge.as_str() {
        "gitlab" => ForgeRepo::GitLab {
            project_id: ProjectId(r.forge_id),
            path: ProjectPath::parse(&full).ok()?,
        },
        _ => {
            let name = RepoName::parse(&full).ok()?;
            return Some((
                full,
                job(InstallationId(r.installation_id), r.id, &name, None, None),
            ));
        }
    };
    let scan = ScanJob {
        repo,
        commit: None,
        branch: None,
    };
    Some((full, Job::ScanRepository(scan)))
}

/// Queues a scan of every installed repository of `owner` (or only `owner/name`), at the
/// default branch's head; a GitLab group's subgroups too. Names compare case-insensitively,
/// as on GitHub.
pub async fn by_name(
    pool: &PgPool,
    owner: &str,
    name: Option<&str>,
) -> anyhow::Result<Vec<Queued>> {
    let repos = repositories::installed_by_name(pool, owner, name).await?;
    queue_all(pool, repos).await
}

/// Queues a scan of every installed repository whose last finished scan is older than
/// `older_than` (or that was never scanned) and that has no scan pending: a pending scan of a
/// pushed commit is not replaced by one of the branch head.
pub async fn stale(pool: &PgPool, older_than: Duration) -> anyhow::Result<Vec<Queued>> {
    let repos = repositories::installed_stale(pool, older_than).await?;
    queue_all(pool, repos).await
}
