//! The durable job queue in Postgres.
//!
//! A webhook's delivery row and its job are written in one transaction, so an acknowledged
//! delivery always has its work recorded. Workers claim jobs with `FOR UPDATE SKIP LOCKED`
//! and a lease: any number of workers and replicas share one database, and a job whose
//! worker died is taken again once its lease runs out.

pub mod backoff;
pub mod retention;
pub mod worker;

use crate::ids::JobId;
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use std::time::Duration;

/// The kinds of work the service does.
pub mod kind {
    /// Review one head commit of a pull request.
    pub const REVIEW: &str = "review_pull_request";
    /// Scan a whole repository at one commit.
    pub const SCAN: &str = "scan_repository";
}

/// A job to add to the queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// One of [`kind`].
    pub kind: &'static str,
    /// What the job needs, as JSON (our own shape, never a forge payload).
    pub payload: Value,
    /// Jobs with the same key supersede older pending ones (e.g. `pr:<repo id>#<number>`).
    pub dedupe_key: Option<String>,
    /// The commit the job is about, when it is about one.
    pub head_sha: Option<String>,
}

/// A job a worker holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// One of [`kind`].
    pub kind: String,
    /// Its payload.
    pub payload: Value,
    /// The webhook delivery that created it, if any.
    pub delivery_guid: Option<String>,
    /// This attempt's number, from 1.
    pub attempts: i32,
    /// Attempts allowed before the job is marked dead.
    pub max_attempts: i32,
    /// Seconds between the job's creation and this claim.
    pub waited_secs: f64,
}

impl Job {
    /// The job's id as a typed id.
    pub fn job_id(&self) -> JobId {
        JobId(self.id)
    }
}

/// Adds a job inside the caller's transaction. A pending job with the same key and head is
/// already the same work: nothing is added. Pending jobs with the same key for another head
/// are marked superseded. Returns the new job's id, if one was added.
pub async fn enqueue(
    tx: &mut Transaction<'_, Postgres>,
    delivery_guid: Option<&str>,
    job: &NewJob,
) -> sqlx::Result<Option<JobId>> {
    if let Some(key) = &job.dedupe_key {
        // Serialise enqueues of one key, so two deliveries for one pull request cannot both
        // decide that no pending job exists.
        sqlx::query("select pg_advisory_xact_lock(hashtext($1))")
            .bind(key)
            .execute(&mut **tx)
            .await?;
        let same: Option<(i64,)> = sqlx::query_as(
            "select id from jobs where dedupe_key = $1 and state = 'queued'
               and head_sha is not distinct from $2 limit 1",
        )
        .bind(key)
        .bind(&job.head_sha)
        .fetch_optional(&mut **tx)
        .await?;
        if same.is_some() {
            return Ok(None);
        }
        sqlx::query(
            "update jobs set state = 'superseded', finished_at = now(),
                    last_error = 'superseded by a newer commit'
              where dedupe_key = $1 and state = 'queued'
                and head_sha is distinct from $2",
        )
        .bind(key)
        .bind(&job.head_sha)
        .execute(&mut **tx)
        .await?;
    }
    let (id,): (i64,) = sqlx::query_as(
        "insert into jobs (kind, delivery_guid, payload, dedupe_key, head_sha)
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(job.kind)
    .bind(delivery_guid)
    .bind(&job.payload)
    .bind(&job.dedupe_key)
    .bind(&job.head_sha)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some(JobId(id)))
}

/// Marks every pending job with this key superseded (a pull request was closed).
pub async fn cancel_pending(
    tx: &mut Transaction<'_, Postgres>,
    dedupe_key: &str,
    why: &str,
) -> sqlx::Result<u64> {
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

/// Claims the next runnable job for `worker`, leasing it for `lease`: a queued job whose time
/// has come, or a running job whose lease ran out (its worker died).
pub async fn claim(pool: &PgPool, worker: &str, lease: Duration) -> sqlx::Result<Option<Job>> {
    sqlx::query_as(
        "update jobs j
            set state = 'running', attempts = j.attempts + 1, locked_by = $1,
                locked_until = now() + make_interval(secs => $2),
                started_at = coalesce(j.started_at, now())
           from (select id from jobs
                  where (state = 'queued' and run_after <= now())
                     or (state = 'running' and locked_until < now())
                  order by run_after, id
                  limit 1
                  for update skip locked) next
          where j.id = next.id
      returning j.id, j.kind, j.payload, j.delivery_guid, j.attempts, j.max_attempts,
                extract(epoch from (now() - j.created_at))::float8 as waited_secs",
    )
    .bind(worker)
    .bind(lease.as_secs_f64())
    .fetch_optional(pool)
    .await
}

/// Extends a held lease; `false` when the job is no longer ours (another worker took it).
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

/// How a job attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished.
    Done,
    /// No longer needed (a newer commit, a closed pull request).
    Superseded(String),
    /// Failed; retried later unless attempts ran out.
    Failed(String),
}

/// Records an attempt's outcome, if the job is still ours. Failures are retried with
/// exponential backoff; after the last attempt the job is marked dead with its error and kept.
/// Returns the job's new state.
pub async fn finish(
    pool: &PgPool,
    job: &Job,
    worker: &str,
    outcome: &Outcome,
) -> sqlx::Result<Option<String>> {
    let (state, error, delay) = match outcome {
        Outcome::Done => ("done", None, 0.0),
        Outcome::Superseded(why) => ("superseded", Some(why.as_str()), 0.0),
        Outcome::Failed(e) if job.attempts >= job.max_attempts => ("dead", Some(e.as_str()), 0.0),
        Outcome::Failed(e) => (
            "queued",
            Some(e.as_str()),
            backoff::delay(job.attempts as u32).as_secs_f64(),
        ),
    };
    let row: Option<(String,)> = sqlx::query_as(
        "update jobs
            set state = $3, last_error = coalesce($4, last_error),
                run_after = now() + make_interval(secs => $5),
                locked_by = null, locked_until = null,
                finished_at = case when $3 = 'queued' then null else now() end
          where id = $1 and locked_by = $2
      returning state",
    )
    .bind(job.id)
    .bind(worker)
    .bind(state)
    .bind(error)
    .bind(delay)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(s,)| s))
}

/// Jobs waiting to run (for `/metrics`).
pub async fn depth(pool: &PgPool) -> sqlx::Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("select count(*) from jobs where state in ('queued', 'running')")
            .fetch_one(pool)
            .await?;
    Ok(n)
}
