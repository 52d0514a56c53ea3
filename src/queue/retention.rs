//! Retention: finished jobs and the deliveries behind them are deleted once they are older
//! than the retention period. Both tables take a row per webhook; kept forever they grow by
//! millions of rows a month in a busy organisation, and every intake and claim pays for it.
//! What the compliance report needs (checks, findings, scans) is never deleted here.

use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

/// Rows deleted per statement, so that no statement holds its locks for long.
const CHUNK: i64 = 5_000;

/// What one round deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Jobs that were done, dead or superseded.
    pub jobs: u64,
    /// Deliveries no live job refers to.
    pub deliveries: u64,
}

/// Deletes finished jobs created more than `keep` ago, then deliveries received more than
/// `keep` ago that no queued or running job still refers to.
pub async fn prune(pool: &PgPool, keep: Duration) -> sqlx::Result<Pruned> {
    // By creation time, not finish time: a job and its delivery are written in one
    // transaction, so every finished job of an expired delivery goes first.
    let jobs = in_chunks(
        pool,
        keep,
        "delete from jobs where id in (
             select id from jobs
              where state in ('done', 'dead', 'superseded')
                and created_at < now() - make_interval(secs => $1)
              limit $2)",
    )
    .await?;
    // Live jobs are few and indexed (the partial indexes of the claim query).
    let deliveries = in_chunks(
        pool,
        keep,
        "delete from deliveries where guid in (
             select guid from deliveries
              where received_at < now() - make_interval(secs => $1)
                and guid not in (select delivery_guid from jobs
                                  where state in ('queued', 'running')
                                    and delivery_guid is not null)
              limit $2)",
    )
    .await?;
    Ok(Pruned { jobs, deliveries })
}

/// Runs a delete taking the age in seconds (`$1`) and a chunk size (`$2`) until a chunk
/// comes back short; returns the rows deleted.
async fn in_chunks(pool: &PgPool, keep: Duration, delete: &'static str) -> sqlx::Result<u64> {
    let mut total = 0;
    loop {
        let done = sqlx::query(delete)
            .bind(keep.as_secs_f64())
            .bind(CHUNK)
            .execute(pool)
            .await?
            .rows_affected();
        total += done;
        if done < CHUNK as u64 {
            return Ok(total);
        }
    }
}

/// Runs [`prune`] every hour until shutdown; `None` keeps everything.
pub async fn run(pool: PgPool, keep: Option<Duration>, mut shutdown: watch::Receiver<bool>) {
    let Some(keep) = keep else {
        info!("retention disabled: deliveries and finished jobs are kept");
        return;
    };
    let mut wait = Duration::from_secs(60);
    while !*shutdown.borrow() {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => continue,
        }
        wait = Duration::from_secs(3600);
        match prune(&pool, keep).await {
            Ok(p) if p != Pruned::default() => {
                info!(
                    jobs = p.jobs,
                    deliveries = p.deliveries,
                    "old deliveries and jobs deleted"
                );
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "retention round failed; retrying in an hour"),
        }
    }
}
