//! Scans in the database: the scan row, and the snapshot written in one transaction (unit
//! states by change, then the scan's counts), so a report never sees half a scan.

use super::snapshot::{self, Counts, CurrentRow, UnitRow};
use anyhow::Context;
use sqlx::PgPool;

/// How writing a snapshot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored: rows inserted and closed, rows left as they were.
    Stored {
        /// New rows.
        inserted: usize,
        /// Rows closed.
        closed: usize,
        /// Rows kept.
        kept: usize,
    },
    /// A scan queued later already finished: this older picture is dropped.
    Stale,
}

/// Whether this commit of the repository has a finished scan.
pub async fn already_scanned(pool: &PgPool, repo_id: i64, commit: &str) -> sqlx::Result<bool> {
    let (done,): (bool,) = sqlx::query_as(
        "select exists(select 1 from scans
                        where repository_id = $1 and commit_sha = $2 and state = 'done')",
    )
    .bind(repo_id)
    .bind(commit)
    .fetch_one(pool)
    .await?;
    Ok(done)
}

/// Remembers the default branch GitHub named (installation events do not say it).
pub async fn remember_default_branch(
    pool: &PgPool,
    repo_id: i64,
    branch: &str,
) -> sqlx::Result<()> {
    sqlx::query("update repositories set default_branch = $2 where id = $1")
        .bind(repo_id)
        .bind(branch)
        .execute(pool)
        .await?;
    Ok(())
}

/// Starts (or, on a retry, restarts) the scan of a commit; returns its id.
pub async fn start(
    pool: &PgPool,
    repo_id: i64,
    commit: &str,
    branch: Option<&str>,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "insert into scans (repository_id, commit_sha, branch) values ($1, $2, $3)
         on conflict (repository_id, commit_sha) do update
             set state = 'running', started_at = now(), error = null,
                 branch = coalesce(excluded.branch, scans.branch)
         returning id",
    )
    .bind(repo_id)
    .bind(commit)
    .bind(branch)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Records why an attempt failed (the job is retried; the row says so meanwhile).
pub async fn fail(pool: &PgPool, scan_id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("update scans set state = 'failed', error = $2 where id = $1 and state <> 'done'")
        .bind(scan_id)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}

/// What a snapshot is written from.
pub struct Snapshot<'a> {
    /// The scan row.
    pub scan_id: i64,
    /// The repository.
    pub repo_id: i64,
    /// The job that made it: jobs of one repository are queued in commit order.
    pub job_id: i64,
    /// The job's dedupe key (`scan:<repo id>`).
    pub dedupe_key: &'a str,
    /// Every unit of the commit.
    pub rows: &'a [UnitRow],
    /// Their counts.
    pub counts: Counts,
    /// A note kept on the scan (an invalid `.immutabot.yml`), if any.
    pub note: Option<&'a str>,
}

/// Writes a snapshot in one transaction. Scans of one repository are serialised, and a scan
/// whose job was queued before one that already finished is dropped: two workers finishing
/// out of order must not put an older commit's picture over a newer one.
pub async fn write(pool: &PgPool, s: &Snapshot<'_>) -> anyhow::Result<Written> {
    let mut tx = pool.begin().await.context("starting the snapshot")?;
    sqlx::query("select pg_advisory_xact_lock(hashtext($1))")
        .bind(s.dedupe_key)
        .execute(&mut *tx)
        .await?;
    let (newer,): (bool,) = sqlx::query_as(
        "select exists(select 1 from jobs where dedupe_key = $1 and id > $2 and state = 'done')",
    )
    .bind(s.dedupe_key)
    .bind(s.job_id)
    .fetch_one(&mut *tx)
    .await?;
    if newer {
        sqlx::query("delete from scans where id = $1 and state <> 'done'")
            .bind(s.scan_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Written::Stale);
    }
    let current: Vec<CurrentRow> = sqlx::query_as(
        "select id, unit_key, line, image, state, rules, fix from unit_states
          where repository_id = $1 and valid_to is null for update",
    )
    .bind(s.repo_id)
    .fetch_all(&mut *tx)
    .await
    .context("reading the current unit states")?;
    let changes = snapshot::changes(&current, s.rows);
    sqlx::query("update unit_states set valid_to = now(), valid_to_scan = $2 where id = any($1)")
        .bind(&changes.close)
        .bind(s.scan_id)
        .execute(&mut *tx)
        .await
        .context("closing unit states")?;
    for row in &changes.insert {
        sqlx::query(
            "insert into unit_states (repository_id, unit_key, path, line, workload, container,
                 image, state, rules, fix, valid_from_scan, valid_from)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())",
        )
        .bind(s.repo_id)
        .bind(&row.unit_key)
        .bind(&row.path)
        .bind(row.line)
        .bind(&row.workload)
        .bind(&row.container)
        .bind(&row.image)
        .bind(row.state)
        .bind(&row.rules)
        .bind(&row.fix)
        .bind(s.scan_id)
        .execute(&mut *tx)
        .await
        .context("inserting unit states")?;
    }
    let c = s.counts;
    sqlx::query(
        "update scans set state = 'done', finished_at = now(), files = $2, units = $3,
                read_only = $4, suppressed = $5, writable = $6, unknown = $7, error = $8
          where id = $1",
    )
    .bind(s.scan_id)
    .bind(c.files)
    .bind(c.units)
    .bind(c.read_only)
    .bind(c.suppressed)
    .bind(c.writable)
    .bind(c.unknown)
    .bind(s.note)
    .execute(&mut *tx)
    .await
    .context("finishing the scan")?;
    tx.commit().await.context("committing the snapshot")?;
    Ok(Written::Stored {
        inserted: changes.insert.len(),
        closed: changes.close.len(),
        kept: changes.kept,
    })
}
