//! Retention: finished jobs and the deliveries behind them are deleted once they are older
//! than the retention period. Both tables take a row per webhook; kept forever they grow by
//! millions of rows a month in a busy organisation, and every intake and claim pays for it.
//! What the compliance report needs (checks, findings, scans) is never deleted here.

use crate::storage;
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
    let jobs = in_chunks(|| storage::jobs::prune_finished(pool, keep, CHUNK)).await?;
    let deliveries = in_chunks(|| storage::deliveries::prune(pool, keep, CHUNK)).await?;
    Ok(Pruned { jobs, deliveries })
}

/// Runs a chunked delete until a chunk comes back short; returns the rows deleted.
async fn in_chunks<F, Fut>(delete: F) -> sqlx::Result<u64>
where
    F: Fn() -> Fut,
    Fut: Future<Output = sqlx::Result<u64>>,
{
    let mut total = 0;
    loop {
        let done = delete().await?;
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
