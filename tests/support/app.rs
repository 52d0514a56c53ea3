//! The GitHub App on one repository, end to end: the real router over a fresh database,
//! a worker with the real GitHub client, and the stateful fake GitHub. Commits, pull
//! requests and deliveries in a line each, for tests that tell a story over both the
//! default branch (scans, report) and pull requests (reviews).
//!
//! Include it beside `fake_github`, `service` and `tools`.

#![allow(dead_code)]

use crate::fake_github::{FakeGitHub, FileChange};
use crate::service;
use axum::http::StatusCode;
use immutabot::jobs::render::Renderers;
use serde_json::Value;
use sqlx::PgPool;
use std::sync::Arc;

/// The App's id on the fake.
pub const APP_ID: u64 = 4242;
/// The repository of the fixture payloads, and its id.
pub const REPO: &str = "Codertocat/Hello-World";
/// Its id on GitHub, which is its row id here.
pub const REPO_ID: i64 = 186853002;
/// The installation of the fixture payloads.
pub const INSTALLATION: u64 = 957387;
/// The head and base commits of the fixture pull-request payloads.
pub const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
/// See [`HEAD`].
pub const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
/// The pull request of the fixture payloads.
pub const PR: u64 = 2;

/// The fake, the database, the router and the jobs' context.
pub struct App {
    /// The fake GitHub.
    pub fake: FakeGitHub,
    /// The test's database.
    pub pool: PgPool,
    /// The real router.
    pub router: axum::Router,
    /// What the jobs run with.
    pub ctx: Arc<immutabot::jobs::JobContext>,
}

impl App {
    /// The App installed on [`REPO`] (installation [`INSTALLATION`] and 1, as the fixture
    /// payloads name them).
    pub async fn start(pool: PgPool) -> App {
        let fake = FakeGitHub::start(APP_ID).await;
        fake.add_repo(REPO, REPO_ID as u64)
            .add_installation(INSTALLATION, &[REPO])
            .add_installation(1, &[REPO]);
        let ctx = Arc::new(service::job_context(
            pool.clone(),
            fake.url(),
            APP_ID,
            Renderers::new(Some(crate::tools::helm()), Some(crate::tools::kubectl())),
        ));
        App {
            fake,
            router: service::router(service::state(pool.clone())),
            pool,
            ctx,
        }
    }

    /// A commit with these files, made the head of the default branch `main`.
    pub fn commit(&self, sha: &str, files: &[(&str, &str)]) {
        self.files_at(sha, files);
        self.fake.set_default_branch(REPO, "main", sha);
    }

    /// These files at commit `sha` (and no branch moved).
    pub fn files_at(&self, sha: &str, files: &[(&str, &str)]) {
        for (path, text) in files {
            self.fake
                .set_file(REPO, sha, path, text.as_bytes().to_vec());
        }
    }

    /// Pull request [`PR`] from [`BASE`] to [`HEAD`], changing `path` from `before` (`None`:
    /// added) to `after`; the base also holds `base_files`, the head `head_files`.
    pub fn pull_request(&self, path: &str, before: Option<&str>, after: &str) {
        let change = match before {
            Some(b) => {
                self.files_at(BASE, &[(path, b)]);
                FileChange::modified(path, b, after)
            }
            None => FileChange::added(path, after),
        };
        self.files_at(HEAD, &[(path, after)]);
        self.fake
            .add_pull_request(REPO, PR, BASE, "master", HEAD, vec![change]);
    }

    /// Sends a signed delivery through the router.
    pub async fn send(&self, event: &str, guid: &str, body: Vec<u8>) -> StatusCode {
        service::send(&self.router, service::delivery(event, guid, body))
            .await
            .status
    }

    /// Runs jobs until none is left.
    pub async fn drain(&self) {
        service::drain(&self.ctx).await
    }

    /// The fixture's `installation` created event (a scan of [`REPO`]'s default branch),
    /// then every job.
    pub async fn install(&self) {
        let status = self
            .send(
                "installation",
                "inst",
                service::fixture("installation/created"),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        self.drain().await;
    }

    /// A push of `after` to `main` (a scan of it), then every job.
    pub async fn push(&self, guid: &str, after: &str) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/payloads/push.default-branch.json"
        );
        let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v["ref"] = "refs/heads/main".into();
        v["after"] = after.into();
        let status = self
            .send("push", guid, serde_json::to_vec(&v).unwrap())
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "push {guid}");
        self.drain().await;
    }

    /// The fixture's `pull_request` opened event, then every job.
    pub async fn open(&self) {
        let status = self
            .send(
                "pull_request",
                "d-open",
                service::fixture("pull_request/opened"),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        self.drain().await;
    }

    /// The only check run on [`REPO`].
    pub fn check_run(&self) -> CheckRun {
        let runs = self.fake.check_runs(REPO);
        assert_eq!(runs.len(), 1, "one check run");
        let run = &runs[0];
        let output = run.output.clone().unwrap_or(Value::Null);
        CheckRun {
            conclusion: run.conclusion.clone(),
            title: output["title"].as_str().unwrap_or_default().to_string(),
            summary: output["summary"].as_str().unwrap_or_default().to_string(),
            annotations: run.annotations.clone(),
        }
    }

    /// An API token for the report of [`REPO`]'s owner.
    pub async fn token(&self) -> String {
        immutabot::auth::tokens::create(&self.pool, "Codertocat", Some("test"))
            .await
            .unwrap()
            .token
    }

    /// GETs `uri` with a bearer token.
    pub async fn get(&self, uri: &str, token: &str) -> service::Answer {
        service::get_as(&self.router, uri, token).await
    }
}

/// What a check run shows.
#[derive(Debug, Clone)]
pub struct CheckRun {
    /// `success`, `failure`, …
    pub conclusion: Option<String>,
    /// The output's title.
    pub title: String,
    /// The output's Markdown summary.
    pub summary: String,
    /// Its annotations as GitHub stores them.
    pub annotations: Vec<Value>,
}
