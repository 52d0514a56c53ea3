//! Shared set-up for tests of the service: the real router over a test database, and
//! deliveries signed the way GitHub signs them.

use axum::body::Body;
use axum::http::Request;
use immutabot::forge::github::webhook::signature;
use immutabot::jobs::{self, JobContext};
use immutabot::queue::worker::{Timing, Worker};
use immutabot::server::{self, AppState};
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::Notify;

/// What the router answered, its body read as text.
pub struct Answer {
    pub status: axum::http::StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// Sends `req` through `app` and reads the whole answer.
pub async fn send(app: &axum::Router, req: Request<Body>) -> Answer {
    use tower::ServiceExt;
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// The webhook secret of every test.
pub const SECRET: &str = "test-webhook-secret";

/// The router's state over `pool`.
pub fn state(pool: PgPool) -> AppState {
    AppState {
        pool: pool.clone(),
        live: immutabot::setup::live::LiveApp::secrets_only(vec![SECRET.as_bytes().to_vec()]),
        setup: None,
        intake: Arc::new(immutabot::webhook::batch::Batcher::start(pool.clone(), 2)),
        wake: Arc::new(Notify::new()),
        lost_deliveries: Arc::new(AtomicBool::new(false)),
        metrics: immutabot::telemetry::metrics(),
        forge_web_url: "https://github.com".into(),
        gitlab: None,
        sign_in: None,
        fix_target_days: 30,
        fix_pull_requests: Default::default(),
    }
}

/// The real router.
pub fn router(state: AppState) -> axum::Router {
    server::router(state)
}

/// A real payload from `../shared/fixtures/payloads/github/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../shared/fixtures/payloads/github/{name}.payload.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A delivery as GitHub sends it.
pub fn delivery(event: &str, guid: &str, body: Vec<u8>) -> Request<Body> {
    let sig = signature::sign(SECRET.as_bytes(), &body);
    Request::post("/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", guid)
        .header("x-hub-signature-256", sig)
        .body(Body::from(body))
        .unwrap()
}

/// Rewrites a pull-request payload's head commit (and `after`, for synchronize).
pub fn with_head(body: &[u8], head: &str) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["pull_request"]["head"]["sha"] = head.into();
    if v.get("after").is_some() {
        v["after"] = head.into();
    }
    serde_json::to_vec(&v).unwrap()
}

/// The opened pull request of the fixtures as pull request `n`, its head `n` in hex.
pub fn numbered(n: u64) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture("pull_request/opened")).unwrap();
    v["number"] = n.into();
    v["pull_request"]["number"] = n.into();
    v["pull_request"]["head"]["sha"] = format!("{n:040x}").into();
    serde_json::to_vec(&v).unwrap()
}

/// Counts rows of a table.
/// A `GET` of `uri` with a bearer token, through `app`.
pub async fn get_as(app: &axum::Router, uri: &str, token: &str) -> Answer {
    let req = Request::get(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(app, req).await
}

/// The test database's URL, for a child process (`immutabot report`, `fix-pr`).
pub fn database_url(pool: &PgPool) -> String {
    let opts = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        opts.get_username(),
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or("postgres")
    )
}

pub async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(pool).await.unwrap();
    n
}

/// A worker that runs every kind of job with `ctx`, polling fast.
pub fn worker(ctx: Arc<JobContext>, name: &str) -> Worker {
    Worker {
        pool: ctx.pool.clone(),
        name: name.into(),
        timing: Timing {
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(20),
        },
        handler: jobs::handler(ctx),
        wake: Arc::new(Notify::new()),
    }
}

/// Runs jobs until none is left.
pub async fn drain(ctx: &Arc<JobContext>) {
    let w = worker(ctx.clone(), "w1");
    while w.step().await.unwrap() {}
}

/// A TCP listener on loopback that counts the connections made to it: point a payload's
/// URLs at it to prove the service never follows them.
pub struct Tripwire {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    hits: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Tripwire {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> Tripwire {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        let task = tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        Tripwire { url, hits, task }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every string of `v` that starts with one of `hosts` now starts with this listener.
    pub fn aim(&self, v: &mut serde_json::Value, hosts: &[&str]) {
        match v {
            serde_json::Value::String(s) => {
                if let Some(h) = hosts.iter().find(|h| s.starts_with(**h)) {
                    *s = format!("{}{}", self.url, &s[h.len()..]);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| self.aim(i, hosts)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|i| self.aim(i, hosts)),
            _ => {}
        }
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Retries fast enough for tests, as many attempts as in production.
pub fn fast_retries() -> immutabot::forge::github::RetryPolicy {
    immutabot::forge::github::RetryPolicy {
        max_attempts: immutabot::forge::github::RetryPolicy::default().max_attempts,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        secondary_fallback: Duration::from_secs(1),
        max_wait: Duration::from_secs(10),
    }
}

/// What workers get, with the App at `api_url` (a fake GitHub) and these renderers.
pub fn job_context(
    pool: PgPool,
    api_url: String,
    app_id: u64,
    renderers: immutabot::jobs::render::Renderers,
) -> JobContext {
    use immutabot::forge::github::{GitHubApp, GitHubSettings};
    let pem = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/test-app-key.pem");
    let key = secrecy::SecretString::from(std::fs::read_to_string(pem).unwrap());
    let github = GitHubApp::new(GitHubSettings {
        retry: fast_retries(),
        write_interval: Duration::ZERO,
        request_timeout: Duration::from_secs(10),
        ..GitHubSettings::new(api_url, app_id, key)
    })
    .unwrap();
    JobContext::new(pool, github.into(), None, renderers)
}
