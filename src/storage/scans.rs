//! The `scans` and `unit_states` tables: one row per scanned commit, and unit states kept by
//! change.

use super::Tx;
use crate::scan::snapshot::{Counts, CurrentRow, UnitRow};
use sqlx::PgPool;

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

/// Deletes an unfinished scan whose picture is stale.
pub async fn drop_unfinished(tx: &mut Tx<'_>, scan_id: i64) -> sqlx::Result<()> {
    sqlx::query("delete from scans where id = $1 and state <> 'done'")
        .bind(scan_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The repository's current unit states, locked until the transaction ends.
pub async fn current_units(tx: &mut Tx<'_>, repo_id: i64) -> sqlx::Result<Vec<CurrentRow>> {
    sqlx::query_as(
        "select id, unit_key, line, image, state, rules, fix, owners, severity,
                exempt_kind, exempt_reason, exempt_expires
           from unit_states
          where repository_id = $1 and valid_to is null for update",
    )
    .bind(repo_id)
    .fetch_all(&mut **tx)
    .await
}

/// Ends the given unit states at this scan.
pub async fn close_units(tx: &mut Tx<'_>, ids: &[i64], scan_id: i64) -> sqlx::Result<()> {
    sqlx::query("update unit_states set valid_to = now(), valid_to_scan = $2 where id = any($1)")
        .bind(ids)
        .bind(scan_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds a unit state, valid from this scan.
pub async fn insert_unit(
    tx: &mut Tx<'_>,
    repo_id: i64,
    scan_id: i64,
    row: &UnitRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into unit_states (repository_id, unit_key, path, line, workload, container,
             image, state, rules, fix, valid_from_scan, valid_from, owners, severity)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), $12, $13)",
    )
    .bind(repo_id)
    .bind(&row.unit_key)
    .bind(&row.path)
    .bind(row.line)
    .bind(&row.workload)
    .bind(&row.container)
    .bind(&row.image)
    .bind(row.state)
    .bind(&row.rules)
    .bind(&row.fix)
    .bind(scan_id)
    .bind(&row.owners)
    .bind(row.severity)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks a scan done with its counts and note.
pub async fn finish(
    tx: &mut Tx<'_>,
    scan_id: i64,
    c: Counts,
    note: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update scans set state = 'done', finished_at = now(), files = $2, units = $3,
                read_only = $4, suppressed = $5, writable = $6, unknown = $7, error = $8
          where id = $1",
    )
    .bind(scan_id)
    .bind(c.files)
    .bind(c.units)
    .bind(c.read_only)
    .bind(c.suppressed)
    .bind(c.writable)
    .bind(c.unknown)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
