//! The service on one GitLab project, end to end: the real router (with GitLab's webhook)
//! over a fresh database, a worker with the real GitLab client, and the stateful fake
//! GitLab. Commits and deliveries in a line each.
//!
//! Include it beside `fake_gitlab`, `service` and `tools`.

#![allow(dead_code)]

use crate::fake_gitlab::FakeGitLab;
use crate::service;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use immutabot::forge::gitlab::{GitLabClient, GitLabSettings};
use immutabot::forge::retry::RetryPolicy;
use immutabot::jobs::JobContext;
use immutabot::jobs::render::Renderers;
use immutabot::server::gitlab_webhook::GitLabHook;
use secrecy::SecretString;
use serde_json::Value;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// The token the service uses, and the bot user it acts as.
pub const TOKEN: &str = "glpat-immutabot-test";
/// See [`TOKEN`].
pub const BOT: &str = "group_7_bot_1";
/// The webhook's secret token.
pub const SECRET: &str = "gitlab-webhook-secret";
/// The project's id on GitLab.
pub const PROJECT: i64 = 4580910;
/// Its path, in a subgroup.
pub const PATH: &str = "acme/payments/shop";

/// The fake, the database, the router and the jobs' context.
pub struct GitLabApp {
    /// The fake GitLab.
    pub fake: FakeGitLab,
    /// The test's database.
    pub pool: PgPool,
    /// The real router.
    pub router: axum::Router,
    /// What the jobs run with.
    pub ctx: Arc<JobContext>,
}

/// A client of `url` with [`TOKEN`] and retries quick enough for tests.
pub fn client(url: String) -> GitLabClient {
    GitLabClient::new(GitLabSettings {
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            secondary_fallback: Duration::from_millis(50),
            max_wait: Duration::from_secs(5),
        },
        request_timeout: Duration::from_secs(5),
        diff_refs_delay: Duration::from_millis(10),
        write_interval: Duration::ZERO,
        ..GitLabSettings::new(url, SecretString::from(TOKEN.to_string()))
    })
    .unwrap()
}

impl GitLabApp {
    /// The service on project [`PROJECT`] at `path`, default branch `main`.
    pub async fn start(pool: PgPool, path: &str) -> GitLabApp {
        let fake = FakeGitLab::start().await;
        fake.add_token(TOKEN, BOT)
            .add_project(PROJECT, path, "main");
        let mut state = service::state(pool.clone());
        state.gitlab = Some(GitLabHook {
            secrets: Arc::new(vec![SECRET.as_bytes().to_vec()]),
            web_url: fake.url().into(),
        });
        let renderers = Renderers::new(Some(crate::tools::helm()), Some(crate::tools::kubectl()));
        let ctx = Arc::new(JobContext::new(
            pool.clone(),
            Default::default(),
            Some(client(fake.url())),
            renderers,
        ));
        GitLabApp {
            fake,
            router: service::router(state),
            pool,
            ctx,
        }
    }

    /// A commit with these files, made the head of the default branch `main`.
    pub fn commit(&self, sha: &str, files: &[(&str, &str)]) {
        for (path, text) in files {
            self.fake.set_file(PROJECT, sha, path, *text);
        }
        self.fake.set_branch(PROJECT, "main", sha);
    }

    /// A webhook delivery of `event` with the right secret; its status.
    pub async fn send(&self, event: &str, body: Value) -> StatusCode {
        self.send_as(event, SECRET, body, &[]).await
    }

    /// A delivery with `token` and extra headers.
    pub async fn send_as(
        &self,
        event: &str,
        token: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> StatusCode {
        let mut request = Request::post("/webhooks/gitlab")
            .header("content-type", "application/json")
            .header("x-gitlab-event", event)
            .header("x-gitlab-token", token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap();
        self.router.clone().oneshot(request).await.unwrap().status()
    }

    /// A push of `sha` to the default branch, delivered; its jobs run.
    pub async fn push(&self, sha: &str) {
        let path = self.fake_path();
        let mut push = fixture("push.json");
        push["project_id"] = PROJECT.into();
        push["project"]["id"] = PROJECT.into();
        push["project"]["path_with_namespace"] = path.into();
        push["project"]["default_branch"] = "main".into();
        push["ref"] = "refs/heads/main".into();
        push["after"] = sha.into();
        assert_eq!(self.send("Push Hook", push).await, StatusCode::ACCEPTED);
        self.drain().await;
    }

    /// Runs jobs until none is left.
    pub async fn drain(&self) {
        service::drain(&self.ctx).await
    }

    fn fake_path(&self) -> String {
        self.fake.project_path(PROJECT)
    }
}

/// One of GitLab's own payloads under `tests/data/payloads/gitlab/`.
pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/data/payloads/gitlab/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}
