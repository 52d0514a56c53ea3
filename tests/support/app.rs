//! The GitHub App on one repository, end to end: the real router over a fresh database,
//! a worker with the real GitHub client, and the stateful fake GitHub. Commits, pull
//! requests and deliveries in a line each, for tests that tell a story over both the
//! default branch (scans, report) and pull requests (reviews). [`Options`] adds the second
//! repository, other installations, fix-pull settings, renderers or a separate pool for the
//! service.
//!
//! Include it beside `fake_github`, `service` and `tools`.

#![allow(dead_code)]

use crate::fake_github::{FakeGitHub, FileChange};
use crate::service;
use axum::http::StatusCode;
use immutabot::jobs::JobContext;
use immutabot::jobs::fix_pull::policy::FixPullSettings;
use immutabot::jobs::render::Renderers;
use immutabot::queue::worker::Worker;
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
/// The repository the fixture `installation_repositories/added` event adds, and its id.
pub const SPACE: &str = "Codertocat/Space";
/// See [`SPACE`].
pub const SPACE_ID: i64 = 186853007;

/// The pinned helm and kubectl the tests render with.
pub fn renderers() -> Renderers {
    Renderers::new(Some(crate::tools::helm()), Some(crate::tools::kubectl()))
}

/// What [`App::start_with`] sets up; the default is what [`App::start`] does.
pub struct Options {
    repos: Vec<(&'static str, i64)>,
    installations: Vec<(u64, Vec<&'static str>)>,
    fix_pulls: FixPullSettings,
    renderers: Option<Renderers>,
    service_pool: Option<PgPool>,
}

impl Default for Options {
    /// [`REPO`] in installations [`INSTALLATION`] and 1, as the fixture payloads name them;
    /// the default fix-pull settings, [`renderers`], and the test's pool for everything.
    fn default() -> Options {
        Options {
            repos: vec![(REPO, REPO_ID)],
            installations: vec![(INSTALLATION, vec![REPO]), (1, vec![REPO])],
            fix_pulls: FixPullSettings::default(),
            renderers: None,
            service_pool: None,
        }
    }
}

impl Options {
    /// [`REPO`] and [`SPACE`], both in installation [`INSTALLATION`] only (the fixture
    /// `installation/created` event names the one, `installation_repositories/added` the
    /// other).
    pub fn with_space() -> Options {
        Options::default()
            .repo(SPACE, SPACE_ID)
            .installations(&[(INSTALLATION, &[REPO, SPACE])])
    }

    /// Another repository on the fake.
    pub fn repo(mut self, full_name: &'static str, id: i64) -> Options {
        self.repos.push((full_name, id));
        self
    }

    /// These installations, instead of the default ones.
    pub fn installations(mut self, installations: &[(u64, &[&'static str])]) -> Options {
        self.installations = installations
            .iter()
            .map(|(id, repos)| (*id, repos.to_vec()))
            .collect();
        self
    }

    /// When fix-all pull requests are made, and how many per hour.
    pub fn fix_pulls(mut self, settings: FixPullSettings) -> Options {
        self.fix_pulls = settings;
        self
    }

    /// These renderers instead of [`renderers`].
    pub fn renderers(mut self, renderers: Renderers) -> Options {
        self.renderers = Some(renderers);
        self
    }

    /// The router and the jobs reach the database through `pool` (a relay the test cuts,
    /// say); [`App::pool`] stays the test's own.
    pub fn service_pool(mut self, pool: PgPool) -> Options {
        self.service_pool = Some(pool);
        self
    }
}

/// The fake, the database, the router and the jobs' context.
pub struct App {
    /// The fake GitHub.
    pub fake: FakeGitHub,
    /// The test's database.
    pub pool: PgPool,
    /// The real router.
    pub router: axum::Router,
    /// What the jobs run with.
    pub ctx: Arc<JobContext>,
}

impl App {
    /// The App installed on [`REPO`] (installation [`INSTALLATION`] and 1, as the fixture
    /// payloads name them).
    pub async fn start(pool: PgPool) -> App {
        App::start_with(pool, Options::default()).await
    }

    /// The App as `options` say.
    pub async fn start_with(pool: PgPool, options: Options) -> App {
        let fake = FakeGitHub::start(APP_ID).await;
        for (full_name, id) in &options.repos {
            fake.add_repo(full_name, *id as u64);
        }
        for (id, repos) in &options.installations {
            fake.add_installation(*id, repos);
        }
        let service_pool = options.service_pool.unwrap_or_else(|| pool.clone());
        let ctx = JobContext {
            fix_pulls: options.fix_pulls,
            ..service::job_context(
                service_pool.clone(),
                fake.url(),
                APP_ID,
                options.renderers.unwrap_or_else(renderers),
            )
        };
        App {
            fake,
            router: service::router(service::state(service_pool)),
            pool,
            ctx: Arc::new(ctx),
        }
    }

    /// A commit with these files, made the head of the default branch `main`.
    pub fn commit(&self, sha: &str, files: &[(&str, &str)]) {
        self.commit_on(REPO, sha, files);
    }

    /// A commit of `repo` with these files, made the head of its default branch `main`.
    pub fn commit_on(&self, repo: &str, sha: &str, files: &[(&str, &str)]) {
        self.files_on(repo, sha, files);
        self.fake.set_default_branch(repo, "main", sha);
    }

    /// These files at commit `sha` (and no branch moved).
    pub fn files_at(&self, sha: &str, files: &[(&str, &str)]) {
        self.files_on(REPO, sha, files);
    }

    fn files_on(&self, repo: &str, sha: &str, files: &[(&str, &str)]) {
        for (path, text) in files {
            self.fake
                .set_file(repo, sha, path, text.as_bytes().to_vec());
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
        self.pull_request_with(HEAD, vec![change], &[(path, after)]);
    }

    /// Pull request [`PR`] from [`BASE`] to `head` with these changes, `head` holding
    /// `contents`.
    pub fn pull_request_with(&self, head: &str, files: Vec<FileChange>, contents: &[(&str, &str)]) {
        self.files_at(head, contents);
        self.fake
            .add_pull_request(REPO, PR, BASE, "master", head, files);
    }

    /// Sends a signed delivery through the router.
    pub async fn send(&self, event: &str, guid: &str, body: Vec<u8>) -> StatusCode {
        service::send(&self.router, service::delivery(event, guid, body))
            .await
            .status
    }

    /// A worker that runs every kind of job.
    pub fn worker(&self, name: &str) -> Worker {
        service::worker(self.ctx.clone(), name)
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
        let status = self
            .send("push", guid, push_event("refs/heads/main", after))
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

    /// The `immutabot` command with these arguments, on the test's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_immutabot"))
            .args(args)
            .env("DATABASE_URL", service::database_url(&self.pool))
            .output()
            .unwrap()
    }

    /// GETs `uri` with a bearer token.
    pub async fn get(&self, uri: &str, token: &str) -> service::Answer {
        service::get_as(&self.router, uri, token).await
    }
}

/// A push event to `git_ref` of [`REPO`] with `after` as its new head.
pub fn push_event(git_ref: &str, after: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/payloads/push.default-branch.json"
    );
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["ref"] = git_ref.into();
    v["after"] = after.into();
    serde_json::to_vec(&v).unwrap()
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
