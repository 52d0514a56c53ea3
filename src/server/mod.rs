//! The HTTP side of the service: the webhook endpoint, the compliance report and the
//! operational endpoints.

pub mod access;
pub mod gitlab_webhook;
mod heap;
pub mod oauth;
mod ops;
mod report;
mod sign_in_pages;
mod webhook;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::Notify;

/// GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub pool: PgPool,
    /// The App's credentials: webhook secrets (the current one, and an old one while
    /// rotating) and the GitHub client; they may arrive after start, through `/setup`.
    pub live: crate::setup::live::LiveApp,
    /// The `/setup` pages, when the App is registered through them.
    pub setup: Option<Arc<crate::setup::Setup>>,
    /// Records pull-request deliveries with group commit.
    pub intake: Arc<crate::webhook::batch::Batcher>,
    /// Wakes idle workers when a job was queued.
    pub wake: Arc<Notify>,
    /// Set when a delivery could not be stored: the reconciler then asks GitHub to redeliver
    /// once the database is back.
    pub lost_deliveries: Arc<AtomicBool>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The forge's web root for links in the report (`https://github.com`).
    pub forge_web_url: Arc<str>,
    /// The GitLab endpoint's secrets, when GitLab is configured.
    pub gitlab: Option<gitlab_webhook::GitLabHook>,
    /// Signing in to the report with GitHub, when configured.
    pub sign_in: Option<Arc<oauth::SignIn>>,
    /// Units writable longer than this many days are overdue in the report.
    pub fix_target_days: u32,
    /// Which repositories get a fix-all pull request; `off` takes the report's button away.
    pub fix_pull_requests: crate::jobs::fix_pull::policy::Mode,
}

/// The service's router.
pub fn router(state: AppState) -> Router {
    let setup = state.setup.clone();
    let router = Router::new()
        .route(
            "/webhooks/github",
            post(webhook::github).layer(DefaultBodyLimit::max(MAX_BODY)),
        )
        .route(
            "/webhooks/gitlab",
            post(gitlab_webhook::gitlab).layer(DefaultBodyLimit::max(MAX_BODY)),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(report::routes(state.clone()))
        .merge(oauth::routes())
        .with_state(state);
    match setup {
        Some(setup) => router.merge(
            Router::new()
                .route("/setup", get(crate::setup::start))
                .route("/setup/callback", get(crate::setup::callback))
                .route("/setup/installed", get(crate::setup::installed))
                .with_state(setup),
        ),
        None => router,
    }
}
