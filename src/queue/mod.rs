//! The durable job queue in Postgres.
//!
//! A webhook's delivery row and its job are written in one transaction, so an acknowledged
//! delivery always has its work recorded. Workers claim jobs with `FOR UPDATE SKIP LOCKED`
//! and a lease: any number of workers and replicas share one database, and a job whose
//! worker died is taken again once its lease runs out. The SQL is in
//! [`crate::storage::jobs`].

pub mod backoff;
pub mod job;
pub mod retention;
pub mod worker;

pub use crate::storage::jobs::Claimed;
pub use job::Job;

use crate::ids::JobId;
use crate::storage::{Tx, jobs};
use sqlx::PgPool;
use std::time::Duration;

/// Adds a job inside the caller's transaction. A pending job with the same key and head is
/// already the same work: nothing is added. Pending jobs with the same key for another head
/// are marked superseded. Returns the new job's id, if one was added.
pub async fn enqueue(
    tx: &mut Tx<'_>,
    delivery_guid: Option<&str>,
    job: &Job,
) -> sqlx::Result<Option<JobId>> {
    let ids = enqueue_all(tx, delivery_guid, std::slice::from_ref(job)).await?;
    Ok(ids.into_iter().next().flatten())
}

/// Adds jobs in order, as [`enqueue`] one by one would, in one statement.
pub async fn enqueue_all(
    tx: &mut Tx<'_>,
    delivery_guid: Option<&str>,
    jobs: &[Job],
) -> sqlx::Result<Vec<Option<JobId>>> {
    let rows: Vec<_> = jobs.iter().map(row_of).collect();
    jobs::enqueue(tx, delivery_guid, &rows).await
}

/// A job's stored form.
pub fn row_of(job: &Job) -> jobs::NewRow<'static> {
    jobs::NewRow {
        kind: job.kind(),
        payload: job.to_payload(),
        dedupe_key: Some(job.dedupe_key()),
        head_sha: job.head_sha().map(|s| s.to_string()),
    }
}

/// Marks every pending job with this key superseded (a pull request was closed).
pub async fn cancel_pending(tx: &mut Tx<'_>, dedupe_key: &str, why: &str) -> sqlx::Result<u64> {
    jobs::cancel_pending(tx, dedupe_key, why).await
}

/// Claims the next runnable job for `worker`, leasing it for `lease`: a queued job whose time
/// has come, or a running job whose lease ran out (its worker died).
pub async fn claim(pool: &PgPool, worker: &str, lease: Duration) -> sqlx::Result<Option<Claimed>> {
    jobs::claim(pool, worker, lease).await
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
    /// Failed for good (an undecodable job, a repository or pull request that is gone):
    /// dead at once, never retried.
    Permanent(String),
}

/// Records an attempt's outcome, if the job is still ours. Failures are retried with
/// exponential backoff; after the last attempt, or at once for a permanent failure, the job
/// is marked dead with its error and kept. Returns the job's new state.
pub async fn finish(
    pool: &PgPool,
    job: &Claimed,
    worker: &str,
    outcome: &Outcome,
) -> sqlx::Result<Option<String>> {
    let end = |state, error| jobs::Finish {
        state,
        error,
        delay: Duration::ZERO,
    };
    let f = match outcome {
        Outcome::Done => end("done", None),
        Outcome::Superseded(why) => end("superseded", Some(why.as_str())),
        Outcome::Permanent(e) => end("dead", Some(e.as_str())),
        Outcome::Failed(e) if job.attempts >= job.max_attempts => end("dead", Some(e.as_str())),
        Outcome::Failed(e) => jobs::Finish {
            state: "queued",
            error: Some(e.as_str()),
            delay: backoff::delay(job.attempts as u32),
        },
    };
    jobs::finish(pool, job.job_id(), worker, f).await
}

/// Jobs waiting to run (for `/metrics`).
pub async fn depth(pool: &PgPool) -> sqlx::Result<i64> {
    jobs::depth(pool).await
}
