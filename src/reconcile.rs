//! GitHub never redelivers a failed webhook by itself. When a delivery could not be stored
//! (the database was down, the process was restarting), we ask for it again: list the App's
//! recent failed deliveries and request a redelivery of each one we do not have.

use crate::forge::github::GitHubApp;
use crate::setup::live::LiveApp;
use crate::storage::deliveries;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

/// GitHub keeps deliveries for three days; older ones cannot be redelivered.
const WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(3);

/// Asks GitHub again for every failed delivery we never stored. Returns how many.
pub async fn once(pool: &PgPool, app: &GitHubApp) -> anyhow::Result<usize> {
    let failed = app.failed_deliveries(chrono::Utc::now() - WINDOW).await?;
    let mut asked = 0;
    for d in failed {
        if deliveries::have_or_asked(pool, &d.guid).await? {
            continue;
        }
        app.redeliver(d.id).await?;
        deliveries::note_redelivery(pool, &d.guid, d.id).await?;
        info!(delivery = %d.guid, event = %d.event, "asked GitHub to redeliver a failed delivery");
        metrics::counter!("immutabot_redeliveries_requested_total").increment(1);
        asked += 1;
    }
    Ok(asked)
}

/// Runs [`once`] every `interval`, and within seconds of the database coming back after a
/// delivery was refused for want of it.
pub async fn run(
    pool: PgPool,
    live: LiveApp,
    interval: Duration,
    lost: Arc<AtomicBool>,
    mut shutdown: watch::Receiver<bool>,
) {
    let quick = Duration::from_secs(2);
    let mut next_full = tokio::time::Instant::now();
    while !*shutdown.borrow() {
        let due = tokio::time::Instant::now() >= next_full;
        let urgent = lost.load(Ordering::SeqCst);
        // Before `/setup` there is no App whose deliveries could be listed.
        let app = live.get().ok();
        if let Some(app) = app.filter(|_| due || urgent)
            && crate::db::ready(&pool).await.is_ok()
        {
            // Clear first: a delivery refused while we run sets it again.
            lost.store(false, Ordering::SeqCst);
            match once(&pool, &app).await {
                Ok(n) => {
                    next_full = tokio::time::Instant::now() + interval;
                    if n > 0 {
                        info!(redelivered = n, "reconciled failed deliveries");
                    }
                }
                Err(e) => {
                    if urgent {
                        lost.store(true, Ordering::SeqCst);
                    }
                    warn!(error = %format!("{e:#}"), "could not reconcile failed deliveries");
                    next_full = tokio::time::Instant::now() + quick.max(interval / 10);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(quick) => {}
            _ = shutdown.changed() => {}
        }
    }
}
