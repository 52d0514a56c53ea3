//! What workers do with the jobs they claim.

pub mod review;
pub mod scan;

use crate::queue::worker::Handler;
use crate::queue::{Job, Outcome, kind};
use sqlx::PgPool;
use std::sync::Arc;

/// What every job needs.
pub struct JobContext {
    /// The database.
    pub pool: PgPool,
    /// The GitHub App client (as it is now: set up at start or later through `/setup`).
    pub github: crate::setup::live::LiveApp,
}

/// The worker handler that runs every kind of job.
pub fn handler(ctx: Arc<JobContext>) -> Handler {
    Arc::new(move |job: Job| {
        let ctx = ctx.clone();
        Box::pin(async move {
            match job.kind.as_str() {
                kind::REVIEW => review::run(&ctx, &job).await,
                kind::SCAN => scan::run(&ctx, &job).await,
                other => Outcome::Failed(format!("unknown job kind `{other}`")),
            }
        })
    })
}
