//! The periodic rescan: catches repositories whose events were missed. Each round asks GitHub
//! which repositories every live installation sees (a missed `installation_repositories`
//! event leaves one unknown), then queues a scan of every installed repository whose last
//! finished scan is older than the interval (a missed `push` leaves one stale).

use crate::forge::github::GitHubApp;
use crate::ids::InstallationId;
use crate::scan::enqueue;
use crate::storage::repositories::{self, RepoRow};
use anyhow::Context;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

/// Records the repositories each live installation sees now. One installation that cannot be
/// listed (suspended on GitHub's side, a network blip) does not stop the others.
pub async fn refresh(pool: &PgPool, app: &GitHubApp) -> anyhow::Result<usize> {
    let installations = repositories::live_installations(pool).await?;
    let mut seen = 0;
    for id in installations {
        let listed = match app
            .installation(InstallationId(id))?
            .installation_repositories()
            .await
        {
            Ok(listed) => listed,
            Err(e) => {
                warn!(installation = id, error = %e, "could not list the installation's repositories");
                continue;
            }
        };
        for r in listed {
            let row = RepoRow {
                installation: id,
                id: r.id,
                name: &r.name,
                default_branch: r.default_branch.as_deref(),
                private: r.private,
            };
            repositories::write(pool, row)
                .await
                .context("recording a listed repository")?;
            seen += 1;
        }
    }
    Ok(seen)
}

/// One round: refresh the repository lists, then queue the stale ones. Returns how many
/// scans were queued.
pub async fn once(pool: &PgPool, app: &GitHubApp, interval: Duration) -> anyhow::Result<usize> {
    refresh(pool, app).await?;
    let queued = enqueue::stale(pool, interval).await?;
    Ok(queued.iter().filter(|q| q.job.is_some()).count())
}

/// Runs [`once`] every `interval` until shutdown; a zero interval disables it.
pub async fn run(
    pool: PgPool,
    live: crate::setup::live::LiveApp,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    if interval.is_zero() {
        info!("periodic rescan disabled");
        return;
    }
    // A restart must not rescan everything at once: the first round comes after a pause.
    let mut wait = interval.min(Duration::from_secs(60));
    while !*shutdown.borrow() {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => continue,
        }
        // Before `/setup` there is nothing to rescan with.
        let Ok(app) = live.get() else {
            wait = Duration::from_secs(60);
            continue;
        };
        wait = match once(&pool, &app, interval).await {
            Ok(n) => {
                if n > 0 {
                    info!(queued = n, "periodic rescan queued stale repositories");
                }
                // Checked more often than the interval, so a repository goes stale by at most
                // a tenth of it before its rescan is queued.
                (interval / 10).max(Duration::from_secs(60))
            }
            Err(e) => {
                warn!(error = %format!("{e:#}"), "periodic rescan failed; retrying");
                Duration::from_secs(60)
            }
        };
    }
}
