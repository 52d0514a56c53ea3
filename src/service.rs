//! `immutabot serve`: the webhook server, the workers, the reconciler, the periodic rescan
//! and retention, in one process.

use crate::forge::github::oauth::{GitHubOAuth, OAuthSettings};
use crate::forge::github::{GitHubApp, GitHubSettings};
use crate::forge::gitlab::{GitLabClient, GitLabSettings};
use crate::jobs::{self, JobContext};
use crate::queue::worker::{Timing, Worker};
use crate::server::gitlab_webhook::GitLabHook;
use crate::server::oauth::SignIn;
use crate::server::{self, AppState};
use crate::settings::{AppSource, Settings};
use crate::setup::Setup;
use crate::setup::live::LiveApp;
use anyhow::Context;
use axum::serve::ListenerExt;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tracing::{error, info, warn};

/// Runs the service until SIGINT or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let pool = crate::db::pool(
        settings.database_url.expose_secret(),
        (settings.workers as u32 + 16).min(100),
    )?;
    let live = LiveApp::default();
    let setup = match &settings.app {
        Some(AppSource::Env {
            app_id,
            private_key,
            webhook_secrets,
        }) => {
            let github = GitHubApp::new(GitHubSettings {
                write_interval: settings.write_interval,
                ..GitHubSettings::new(settings.api_url.clone(), *app_id, private_key.clone())
            })
            .context("could not set up the GitHub App client")?;
            live.set(Some(github), webhook_secrets.clone());
            None
        }
        Some(AppSource::Setup {
            key,
            public_url,
            web_url,
        }) => Some(Arc::new(Setup {
            pool: pool.clone(),
            live: live.clone(),
            key: *key,
            public_url: public_url.clone(),
            web_url: web_url.clone(),
            api_url: settings.api_url.clone(),
            write_interval: settings.write_interval,
            token: crate::setup::random_hex(16),
            state: crate::setup::random_hex(16),
        })),
        // GitLab only: the GitHub endpoint stays unconfigured.
        None => None,
    };
    let sign_in = sign_in(&settings)?;
    let wake = Arc::new(Notify::new());
    let lost = Arc::new(AtomicBool::new(false));
    let state = AppState {
        pool: pool.clone(),
        live: live.clone(),
        intake: Arc::new(crate::webhook::batch::Batcher::start(pool.clone(), 2)),
        setup: setup.clone(),
        wake: wake.clone(),
        lost_deliveries: lost.clone(),
        metrics: crate::telemetry::metrics(),
        forge_web_url: settings.web_url.as_str().into(),
        gitlab: settings.gitlab.as_ref().map(|g| GitLabHook {
            secrets: Arc::new(g.webhook_secrets.clone()),
            web_url: g.url.as_str().into(),
        }),
        sign_in,
        fix_target_days: settings.fix_target_days,
        fix_pull_requests: settings.fix_pulls.mode,
    };
    let gitlab = gitlab_client(&settings)?;
    migrate_before_listening(&pool, settings.migrate).await;
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("could not listen on {}", settings.bind))?;
    info!(address = %settings.bind, api = %settings.api_url, workers = settings.workers, "listening");
    let (stop_tx, stop_rx) = watch::channel(false);

    // Workers and the reconciler start once the schema is in place; the webhook endpoint
    // answers from the first second (503 while the database is not there yet).
    let background = {
        let pool = pool.clone();
        let app = live.clone();
        let stop_rx = stop_rx.clone();
        let migrate = settings.migrate;
        let workers = settings.workers;
        let timing = Timing {
            lease: settings.job_lease,
            ..Timing::default()
        };
        let interval = settings.reconcile_interval;
        let rescan = settings.rescan_interval;
        let retention = settings.retention;
        let fix_pulls = settings.fix_pulls;
        let public_url = settings.public_url.clone();
        tokio::spawn(async move {
            wait_for_schema(&pool, migrate, stop_rx.clone()).await;
            if let Some(setup) = &setup {
                load_or_invite(setup).await;
            }
            if *stop_rx.borrow() {
                return;
            }
            let ctx = Arc::new(JobContext {
                fix_pulls,
                public_url: public_url.clone(),
                ..JobContext::new(
                    pool.clone(),
                    app.clone(),
                    gitlab.clone(),
                    jobs::render::Renderers::from_env(),
                )
            });
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "immutabot".into());
            let mut tasks = Vec::new();
            for i in 0..workers {
                let worker = Worker {
                    pool: pool.clone(),
                    name: format!("{host}/{}/{i}", std::process::id()),
                    timing,
                    handler: jobs::handler(ctx.clone()),
                    wake: wake.clone(),
                };
                tasks.push(tokio::spawn(worker.run(stop_rx.clone())));
            }
            tasks.push(tokio::spawn(crate::rescan::run(
                pool.clone(),
                app.clone(),
                rescan,
                stop_rx.clone(),
            )));
            tasks.push(tokio::spawn(crate::queue::retention::run(
                pool.clone(),
                retention,
                stop_rx.clone(),
            )));
            tasks.push(tokio::spawn(crate::reconcile::run(
                pool, app, interval, lost, stop_rx,
            )));
            for t in tasks {
                let _ = t.await;
            }
        })
    };

    // Answers are small and complete when written: Nagle's algorithm must not hold one back
    // waiting for the client's ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, server::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    info!("stopping: finishing jobs in hand");
    let _ = stop_tx.send(true);
    if tokio::time::timeout(Duration::from_secs(60), background)
        .await
        .is_err()
    {
        warn!("workers did not stop within 60 s; their jobs will be retried after the lease");
    }
    Ok(())
}

/// "Sign in with GitHub" for the report, when its settings are there: GitHub's OAuth
/// endpoints on the same web and API roots as the App's.
fn sign_in(settings: &Settings) -> anyhow::Result<Option<Arc<SignIn>>> {
    let Some(config) = &settings.sign_in else {
        return Ok(None);
    };
    let github = GitHubOAuth::new(OAuthSettings {
        web_url: settings.web_url.clone(),
        api_url: settings.api_url.clone(),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        timeout: Duration::from_secs(10),
    })
    .context("could not set up signing in with GitHub")?;
    info!(client_id = %config.client_id, "report sign-in with GitHub enabled");
    Ok(Some(Arc::new(SignIn {
        github,
        key: config.session_key.clone(),
        public_url: config.public_url.clone(),
        lifetime: config.lifetime,
    })))
}

/// Setup mode: use the credentials `/setup` stored earlier, or say where to create them.
async fn load_or_invite(setup: &Setup) {
    match crate::setup::vault::load(&setup.pool, &setup.key).await {
        Ok(Some(creds)) => {
            match crate::setup::activate(&setup.live, &setup.api_url, setup.write_interval, &creds)
            {
                Ok(()) => {
                    info!(app_id = creds.app_id, slug = %creds.slug, "GitHub App credentials loaded")
                }
                Err(e) => {
                    error!(error = %format!("{e:#}"), "stored GitHub App credentials unusable")
                }
            }
        }
        Ok(None) => {
            let url = format!("{}/setup?token={}", setup.public_url, setup.token);
            warn!(%url, "no GitHub App yet: open this link to create it");
            eprintln!("immutabot: no GitHub App yet; create it at {url}");
        }
        Err(e) => {
            error!(error = %format!("{e:#}"), "could not read the stored GitHub App credentials")
        }
    }
}

/// How long a start waits for the database before it listens anyway.
const MIGRATE_BEFORE_LISTENING: Duration = Duration::from_secs(30);

/// Migrates, then listens: a delivery that arrives during migrations would only get a 503.
/// A database that is down does not keep the server from answering: after
/// [`MIGRATE_BEFORE_LISTENING`] it listens anyway (503 until the schema is there) and the
/// background keeps trying.
async fn migrate_before_listening(pool: &sqlx::PgPool, migrate: bool) {
    if !migrate {
        return;
    }
    match tokio::time::timeout(MIGRATE_BEFORE_LISTENING, crate::db::migrate(pool)).await {
        Ok(Ok(())) => info!("database schema is current"),
        Ok(Err(e)) => {
            warn!(error = %format!("{e:#}"), "migrations failed; listening anyway, retrying in the background")
        }
        Err(_) => warn!(
            "the database did not answer within 30 s; listening anyway, retrying in the background"
        ),
    }
}

async fn wait_for_schema(pool: &sqlx::PgPool, migrate: bool, stop: watch::Receiver<bool>) {
    let mut delay = Duration::from_secs(1);
    loop {
        if *stop.borrow() {
            return;
        }
        let result = if migrate {
            crate::db::migrate(pool).await.map_err(|e| format!("{e:#}"))
        } else {
            crate::db::ready(pool).await
        };
        match result {
            Ok(()) => {
                info!("database schema is current");
                return;
            }
            Err(e) => error!(error = %e, "database not ready; retrying in {}s", delay.as_secs()),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// The GitLab client, when GitLab is configured.
fn gitlab_client(settings: &Settings) -> anyhow::Result<Option<GitLabClient>> {
    let Some(g) = &settings.gitlab else {
        return Ok(None);
    };
    let client = GitLabClient::new(GitLabSettings {
        write_interval: settings.write_interval,
        ..GitLabSettings::new(g.url.clone(), g.token.clone())
    })?;
    Ok(Some(client))
}
