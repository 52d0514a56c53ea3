//! A scan against the fake GitHub, for tests that need real scans of real commits: the
//! installation of the octokit fixtures (`Codertocat/Hello-World`), the real router for
//! deliveries and the report, and a worker that runs the queued jobs.
//!
//! Needs `#[path = "support/fake_github/mod.rs"] mod fake_github;` and
//! `#[path = "support/service.rs"] mod service;` in the test crate.

use super::fake_github::FakeGitHub;
use super::service;
use axum::http::StatusCode;
use immutabot::jobs::render::Renderers;
use sqlx::PgPool;
use std::sync::Arc;
use tower::ServiceExt;

/// The fixtures' App, installation and repository.
pub const APP_ID: u64 = 4242;
/// The installation of `installation/created`.
pub const INSTALLATION: u64 = 957387;
/// The repository that installation holds.
pub const REPO: &str = "Codertocat/Hello-World";
/// Its id.
pub const REPO_ID: i64 = 186853002;

/// The fake, the database, the router and the worker's context.
pub struct ScanHarness {
    /// The fake GitHub.
    pub fake: FakeGitHub,
    /// The test's database.
    pub pool: PgPool,
    /// The real router.
    pub router: axum::Router,
    /// What the worker runs jobs with.
    pub ctx: Arc<immutabot::jobs::JobContext>,
}

/// Starts the fake with the fixtures' repository installed (nothing rendered: no helm).
pub async fn start(pool: PgPool) -> ScanHarness {
    let fake = FakeGitHub::start(APP_ID).await;
    fake.add_repo(REPO, REPO_ID as u64)
        .add_installation(INSTALLATION, &[REPO]);
    let ctx = Arc::new(service::job_context(
        pool.clone(),
        fake.url(),
        APP_ID,
        Renderers::new(None, None),
    ));
    ScanHarness {
        fake,
        router: service::router(service::state(pool.clone())),
        pool,
        ctx,
    }
}

impl ScanHarness {
    /// A commit of the repository with these files, made the head of `main`.
    pub fn commit(&self, sha: &str, files: &[(&str, &str)]) {
        for (path, text) in files {
            self.fake
                .set_file(REPO, sha, path, text.as_bytes().to_vec());
        }
        self.fake.set_default_branch(REPO, "main", sha);
    }

    /// Delivers `installation/created` and runs the scan it queues.
    pub async fn install(&self) {
        let body = service::fixture("installation/created");
        self.deliver("installation", "inst", body).await;
    }

    /// Delivers a push of `after` to `main` and runs the scan it queues.
    pub async fn push(&self, guid: &str, after: &str) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/payloads/push.default-branch.json"
        );
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v["ref"] = "refs/heads/main".into();
        v["after"] = after.into();
        self.deliver("push", guid, serde_json::to_vec(&v).unwrap())
            .await;
    }

    async fn deliver(&self, event: &str, guid: &str, body: Vec<u8>) {
        let res = self
            .router
            .clone()
            .oneshot(service::delivery(event, guid, body))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{event} {guid}");
        service::drain(&self.ctx).await;
    }
}
