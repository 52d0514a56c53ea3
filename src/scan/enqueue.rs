//! Queuing scans: the job, its dedupe key, and the two ways of queuing them without an event
//! (by hand for an owner or a repository, and the periodic rescan of stale repositories).

use crate::ids::{CommitSha, InstallationId, JobId, RepoName};
use crate::queue::{self, NewJob};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use std::time::Duration;

/// The dedupe key of a repository's scans: a newer commit supersedes a pending older scan.
pub fn key(repo_id: i64) -> String {
    format!("scan:{repo_id}")
}

/// The scan of a repository at `commit`, or at its default branch's head when `None`.
pub fn job(
    installation: InstallationId,
    repo_id: i64,
    repo: &RepoName,
    commit: Option<&CommitSha>,
    branch: Option<&str>,
) -> NewJob {
    NewJob {
        kind: queue::kind::SCAN,
        payload: json!({
            "installation": installation.0,
            "repo_id": repo_id,
            "repo": repo.to_string(),
            "commit": commit.map(CommitSha::as_str),
            "branch": branch,
        }),
        dedupe_key: Some(key(repo_id)),
        head_sha: commit.map(|c| c.to_string()),
    }
}

/// A repository the database knows, with the installation that reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Known {
    id: i64,
    installation_id: i64,
    owner: String,
    name: String,
}

/// What was done for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// `owner/name`.
    pub repo: String,
    /// The new job, or `None` when the same scan was already pending.
    pub job: Option<JobId>,
}

/// Only repositories that are still installed are scanned (a literal: sqlx takes only
/// static SQL).
macro_rules! active {
    () => {
        "select r.id, r.installation_id, r.owner, r.name
           from repositories r join installations i on i.id = r.installation_id
          where r.removed_at is null and i.deleted_at is null and i.suspended_at is null"
    };
}

async fn queue_all(pool: &PgPool, repos: Vec<Known>) -> anyhow::Result<Vec<Queued>> {
    let mut tx: Transaction<'_, Postgres> = pool.begin().await?;
    let mut out = Vec::new();
    for r in repos {
        let Ok(name) = RepoName::parse(&format!("{}/{}", r.owner, r.name)) else {
            continue;
        };
        let job = job(InstallationId(r.installation_id), r.id, &name, None, None);
        let id = queue::enqueue(&mut tx, None, &job).await?;
        out.push(Queued {
            repo: name.to_string(),
            job: id,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// Queues a scan of every installed repository of `owner` (or only `owner/name`), at the
/// default branch's head. Names compare case-insensitively, as on GitHub.
pub async fn by_name(
    pool: &PgPool,
    owner: &str,
    name: Option<&str>,
) -> anyhow::Result<Vec<Queued>> {
    let sql = concat!(
        active!(),
        " and lower(r.owner) = lower($1)
          and ($2::text is null or lower(r.name) = lower($2)) order by r.owner, r.name"
    );
    let repos: Vec<Known> = sqlx::query_as(sql)
        .bind(owner)
        .bind(name)
        .fetch_all(pool)
        .await?;
    queue_all(pool, repos).await
}

/// Queues a scan of every installed repository whose last finished scan is older than
/// `older_than` (or that was never scanned) and that has no scan pending: a pending scan of a
/// pushed commit is not replaced by one of the branch head.
pub async fn stale(pool: &PgPool, older_than: Duration) -> anyhow::Result<Vec<Queued>> {
    let sql = concat!(
        active!(),
        " and not exists (select 1 from scans s where s.repository_id = r.id
                   and s.state = 'done' and s.finished_at > now() - make_interval(secs => $1))
           and not exists (select 1 from jobs j where j.dedupe_key = 'scan:' || r.id
                   and j.state in ('queued', 'running'))
          order by r.id"
    );
    let repos: Vec<Known> = sqlx::query_as(sql)
        .bind(older_than.as_secs_f64())
        .fetch_all(pool)
        .await?;
    queue_all(pool, repos).await
}
