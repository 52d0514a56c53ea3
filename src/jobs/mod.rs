//! What workers do with the jobs they claim.

pub mod budget;
pub mod fix_pull;
mod gitlab;
pub mod memory;
pub mod render;
pub mod review;
pub mod scan;

use crate::forge::github::GitHubError;
use crate::forge::gitlab::GitLabError;
use crate::ids::Forge;
use crate::queue::worker::{Handler, Task};
use crate::queue::{Job, Outcome};
use sqlx::PgPool;
use std::sync::Arc;

/// What every job needs.
pub struct JobContext {
    /// The database.
    pub pool: PgPool,
    /// The GitHub App client (as it is now: set up at start or later through `/setup`).
    pub github: crate::setup::live::LiveApp,
    /// The GitLab client, when GitLab is configured.
    pub gitlab: Option<crate::forge::gitlab::GitLabClient>,
    /// helm and kubectl, and the slots that bound how many renders run at once.
    pub renderers: render::Renderers,
    /// Blob analyses under way in this process, so that concurrent scans share them.
    pub in_flight: Arc<crate::scan::in_flight::InFlight>,
    /// When fix-all pull requests are made, and how many per hour.
    pub fix_pulls: fix_pull::policy::FixPullSettings,
    /// Where the report is served (`IMMUTABOT_PUBLIC_URL`), for links from reviews.
    pub public_url: Option<String>,
}

impl JobContext {
    /// A context over these clients with the default fix-pull settings, nothing in flight,
    /// and no public address.
    pub fn new(
        pool: PgPool,
        github: crate::setup::live::LiveApp,
        gitlab: Option<crate::forge::gitlab::GitLabClient>,
        renderers: render::Renderers,
    ) -> JobContext {
        JobContext {
            pool,
            github,
            gitlab,
            renderers,
            in_flight: Default::default(),
            fix_pulls: Default::default(),
            public_url: None,
        }
    }
}

/// The worker handler that runs every kind of job.
pub fn handler(ctx: Arc<JobContext>) -> Handler {
    Arc::new(move |task: Task| {
        let ctx = ctx.clone();
        Box::pin(async move {
            match &task.job {
                Job::ReviewPullRequest(r) => match r.repo.forge() {
                    Forge::GitHub => review::run(&ctx, r).await,
                    Forge::GitLab => gitlab::review(&ctx, r).await,
                },
                Job::ScanRepository(s) => match s.repo.forge() {
                    Forge::GitHub => scan::run(&ctx, task.id, s).await,
                    Forge::GitLab => gitlab::scan(&ctx, task.id, s).await,
                },
                Job::FixPullRequest(f) => match f.repo.forge() {
                    Forge::GitHub => fix_pull::run(&ctx, f).await,
                    Forge::GitLab => gitlab::fix_merge_request(&ctx, f).await,
                },
            }
        })
    })
}

/// The outcome of a failed attempt: a 404 from the forge (the repository or pull request is
/// gone, or the installation may no longer see it) will not change on a retry.
fn failure(e: anyhow::Error) -> Outcome {
    let gone = matches!(e.downcast_ref(), Some(GitHubError::NotFound { .. }))
        || matches!(e.downcast_ref(), Some(GitLabError::NotFound { .. }));
    if gone {
        Outcome::Permanent(format!("{e:#}"))
    } else {
        Outcome::Failed(format!("{e:#}"))
    }
}

/// What this process cannot run: jobs of a forge it has no settings for.
fn unsupported(repo: &crate::queue::job::ForgeRepo) -> Outcome {
    Outcome::Permanent(format!(
        "no {} client: {} cannot be processed",
        repo.forge().as_str(),
        repo.display_name()
    ))
}
