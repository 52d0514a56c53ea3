//! The `jobs` table: adding (through `immutabot_enqueue`, the one implementation of dedupe
//! and supersede), claiming, leasing, finishing and pruning.

use super::Tx;
use crate::ids::JobId;
use sqlx::PgPool;
use std::time::Duration;

/// A job to add, in its stored form.
#[derive(Debug, Clone)]
pub struct NewRow<'a> {
    /// `jobs.kind`.
    pub kind: &'a str,
    /// The serialised job.
    pub payload: serde_json::Value,
    /// Jobs with the same key supersede older pending ones.
    pub dedupe_key: Option<String>,
    /// The commit the job is about, when it names one.
    pub head_sha: Option<String>,
}

/// Adds jobs in order, as if one by one (see the migration defining `immutabot_enqueue`).
/// Returns each new job's id, or `None` where the same work was already pending.
pub async fn enqueue(
    tx: &mut Tx<'_>,
    delivery_guid: Option<&str>,
    rows: &[NewRow<'_>],
) -> sqlx::Result<Vec<Option<JobId>>> {
    let (ids,): (Vec<Option<i64>>,) =
        sqlx::query_as("select immutabot_enqueue($1, $2, $3, $4, $5)")
            .bind(rows.iter().map(|r| r.kind).collect::<Vec<_>>())
            .bind(vec![delivery_guid; rows.len()])
            .bind(rows.iter().map(|r| r.payload.clone()).collect::<Vec<_>>())
            .bind(
                rows.iter()
                    .map(|r| r.dedupe_key.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(rows.iter().map(|r| r.head_sha.clone()).collect::<Vec<_>>())
            .fetch_one(&mut **tx)
            .await?;
    Ok(ids.into_iter().map(|id| id.map(JobId)).collect())
}

/// Marks every pending job with this key superseded; returns how many.
pub async fn cancel_pending(tx: &mut Tx<'_>, dedupe_key: &str, why: &str) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "update jobs set state = 'superseded', finished_at = now(), last_error = $2
          where dedupe_key = $1 and state = 'queued'",
    )
    .bind(dedupe_key)
    .bind(why)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// A claimed job's row, its payload not yet decoded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    /// Its id.
    pub id: i64,
    /// `jobs.kind`.
    pub kind: String,
    /// The stored job.
    pub payload: serde_json::Value,
    /// The webhook delivery that created it, if any.
    pub delivery_guid: Option<String>,
    /// This attempt's number, from 1.
    pub attempts: i32,
    /// Attempts allowed before the job is marked dead.
    pub max_attempts: i32,
    /// Seconds between the job's creation and this claim.
    pub waited_secs: f64,
}

impl Claimed {
    /// The job's id as a typed id.
    pub fn job_id(&self) -> JobId {
        JobId(self.id)
    }
}

/// Claims the next job: a job whose lease ran out (its worker died) first, else the oldest
/// ready one. Each is one ordered probe of its partial index, which stops at the first row
/// it can lock. Written as one `or` over both states, the plan was a bitmap scan that read
/// and sorted every queued job on every claim: 43 ms per claim with 12,000 queued, so a
/// backlog made claims slower, which grew the backlog (the soak of issue 13).
pub const CLAIM: &str = "update jobs j
    set state = 'running', attempts = j.attempts + 1, locked_by = $1,
        locked_until = now() + make_interval(secs => $2),
        started_at = coalesce(j.started_at, now())
   from (select coalesce(
           (select id from jobs
             where state = 'running' and locked_until < now()
             order by locked_until
             limit 1
             for update skip locked),
           (select id from jobs
             where state = 'queued' and run_after <= now()
             order by run_after, id
             limit 1
             for update skip locked)) as id) next
  where j.id = next.id
returning j.id, j.kind, j.payload, j.delivery_guid, j.attempts, j.max_attempts,
          extract(epoch from (now() - j.created_at))::float8 as waited_secs";

/// Claims the next runnable job for `worker`, leasing it for `lease`: a queued job whose time
/// has come, or a running job whose lease ran out (its worker died).
pub async fn claim(pool: &PgPool, worker: &str, lease: Duration) -> sqlx::Result<Option<Claimed>> {
    sqlx::query_as(CLAIM)
        .bind(worker)
        .bind(lease.as_secs_f64())
        .fetch_optional(pool)
        .await
}

/// Extends a held lease; `false` when the job is no longer ours.
pub async fn extend(
    pool: &PgPool,
    job: JobId,
    worker: &str,
    lease: Duration,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update jobs set locked_until = now() + make_interval(secs => $3)
          where id = $1 and locked_by = $2 and state = 'running'",
    )
    .bind(job.0)
    .bind(worker)
    .bind(lease.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The state an attempt leaves its job in.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    /// `queued` (a retry), `done`, `dead` or `superseded`.
    pub state: &'a str,
    /// Kept in `last_error` (the previous one stays when `None`).
    pub error: Option<&'a str>,
    /// Before a retry may run.
    pub delay: Duration,
}

/// Records an attempt's end, if the job is still `worker`'s; returns the new state.
pub async fn finish(
    pool: &PgPool,
    job: JobId,
    worker: &str,
    f: Finish<'_>,
) -> sqlx::Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as(
        "update jobs
            set state = $3, last_error = coalesce($4, last_error),
                run_after = now() + make_interval(secs => $5),
                locked_by = null, locked_until = null,
                finished_at = case when $3 = 'queued' then null else now() end
          where id = $1 and locked_by = $2
      returning state",
    )
    .bind(job.0)
    .bind(worker)
    .bind(f.state)
    .bind(f.error)
    .bind(f.delay.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(s,)| s))
}

/// Jobs waiting to run or running.
pub async fn depth(pool: &PgPool) -> sqlx::Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("select count(*) from jobs where state in ('queued', 'running')")
            .fetch_one(pool)
            .await?;
    Ok(n)
}

/// Deletes up to `limit` finished jobs created more than `keep` ago; returns how many.
pub async fn prune_finished(pool: &PgPool, keep: Duration, limit: i64) -> sqlx::Result<u64> {
    let delete = "delete from jobs where id in (
             select id from jobs
              where state in ('done', 'dead', 'superseded')
                and created_at < now() - make_interval(secs => $1)
              limit $2)";
    super::delete_older(pool, delete, keep, limit).await
}

/// Whether a job of this key newer than `job` has finished.
pub async fn newer_done(tx: &mut Tx<'_>, dedupe_key: &str, job: JobId) -> sqlx::Result<bool> {
    let (newer,): (bool,) = sqlx::query_as(
        "select exists(select 1 from jobs where dedupe_key = $1 and id > $2 and state = 'done')",
    )
    .bind(dedupe_key)
    .bind(job.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(newer)
}
