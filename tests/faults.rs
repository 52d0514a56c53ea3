//! The fault table of RELIABILITY.md. Each test puts the service under one fault: Postgres
//! going away in the middle of a load of deliveries, a process killed mid-job, two processes
//! on one database, a forge that fails a tenth of its calls, one delivery sent fifty times at
//! once. Then it holds the service to its promise, read from what the fake forge shows:
//! every pull request reviewed once, none twice, none missed, and prints its row (see
//! support/fault_table.rs). The process-level ones run the built `immutabot serve`.
//! `scripts/faults` runs them all at full scale, with a real Postgres stopped and started.

// Both fakes in one binary: the fake GitLab includes the fake GitHub's `faults.rs` and
// `diff.rs` as modules of its own, so each is loaded twice (as two separate types).
#![allow(clippy::duplicate_mod)]

#[path = "support/fake_github/mod.rs"]
mod fake_github;
#[path = "support/fake_gitlab/mod.rs"]
mod fake_gitlab;
#[path = "support/fault_table.rs"]
mod fault_table;
#[path = "support/pg_proxy.rs"]
mod pg_proxy;
#[path = "support/replica.rs"]
mod replica;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fake_github::{FakeGitHub, Fault, FileChange, RandomFaults, TEST_APP_KEY_PEM};
use fake_gitlab::{Diff, FakeGitLab};
use fault_table::{Row, scaled, setting, tally};
use immutabot::forge::github::{GitHubApp, GitHubSettings, RetryPolicy};
use immutabot::forge::gitlab::{GitLabClient, GitLabSettings};
use immutabot::jobs::JobContext;
use immutabot::jobs::render::Renderers;
use immutabot::server::gitlab_webhook::GitLabHook;
use replica::Replica;
use secrecy::SecretString;
use service::{delivery, numbered};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tower::ServiceExt;

const APP_ID: u64 = 4242;
const REPO: &str = "Codertocat/Hello-World";
const REPO_ID: u64 = 186853002;
/// The base commit of the fixture payloads.
const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
/// Longest a fault test waits for the queue to drain: only catches a hang.
const DRAIN_DEADLINE: Duration = Duration::from_secs(600);

/// A Deployment with a writable root file system: one finding, so one review.
const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
";

// ---- GitHub ----

/// A fake GitHub with pull requests 1..=n, each adding [`DEPLOYMENT`] at head `n` in hex
/// (what [`numbered`] deliveries name).
async fn github_with(n: usize) -> FakeGitHub {
    let fake = FakeGitHub::start(APP_ID).await;
    fake.add_repo(REPO, REPO_ID).add_installation(1, &[REPO]);
    // About ten calls a review: at full scale, more than the 5,000 an hour GitHub's primary
    // limit starts with. That limit is not the fault under test here.
    fake.set_rate_limit_allowance("core", 100 * n as u64 + 5000);
    for pr in 1..=n as u64 {
        let head = format!("{pr:040x}");
        fake.set_file(REPO, &head, "deploy/web.yaml", DEPLOYMENT);
        fake.add_pull_request(
            REPO,
            pr,
            BASE,
            "master",
            &head,
            [FileChange::added("deploy/web.yaml", DEPLOYMENT)],
        );
    }
    fake
}

/// Posted, duplicated and lost reviews of pull requests 1..=n; a second check run on a head
/// counts as a duplicate too.
fn github_tally(fake: &FakeGitHub, n: usize) -> (usize, usize, usize) {
    let (posted, mut duplicates, lost) =
        tally((1..=n as u64).map(|pr| fake.reviews(REPO, pr).len()), 1);
    let runs = fake.check_runs(REPO);
    for pr in 1..=n as u64 {
        let head = format!("{pr:040x}");
        let on_head = runs.iter().filter(|r| r.head_sha == head).count();
        duplicates += on_head.saturating_sub(1);
    }
    (posted, duplicates, lost)
}

/// The GitHub client of the in-process tests: quick retries, and a request timeout that a
/// slow fault can outlast.
fn github_client(fake: &FakeGitHub, timeout: Duration) -> GitHubApp {
    let key = SecretString::from(std::fs::read_to_string(TEST_APP_KEY_PEM).unwrap());
    GitHubApp::new(GitHubSettings {
        retry: quick_retries(),
        write_interval: Duration::ZERO,
        request_timeout: timeout,
        ..GitHubSettings::new(fake.url(), APP_ID, key)
    })
    .unwrap()
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        secondary_fallback: Duration::from_secs(1),
        max_wait: Duration::from_secs(10),
    }
}

/// A tenth of GitHub's answers, as GitHub fails them: 5xx, no answer before the client's
/// timeout (with or without the work done), a secondary rate limit with `retry-after`, and
/// an answer lost after the work was done.
fn github_faults(timeout: Duration) -> RandomFaults {
    let late = timeout + Duration::from_millis(500);
    let faults = vec![
        Fault::server_error(500),
        Fault::server_error(502),
        Fault::server_error(503),
        Fault::server_error(502).delayed(late),
        Fault::server_error(502).after_work().delayed(late),
        Fault::secondary_rate_limit(Some(1)),
        Fault::server_error(502).after_work(),
    ];
    RandomFaults::new(0.10, setting("FAULTS_SEED", 13), faults)
}

// ---- in-process service ----

/// Workers running in the test process until dropped.
struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Workers {
    fn start(ctx: &Arc<JobContext>, count: usize) -> Workers {
        let (stop, rx) = watch::channel(false);
        let tasks = (0..count)
            .map(|i| {
                let w = service::worker(ctx.clone(), &format!("w{i}"));
                tokio::spawn(w.run(rx.clone()))
            })
            .collect();
        Workers { stop, tasks }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn context(
    pool: &PgPool,
    github: Option<GitHubApp>,
    gitlab: Option<GitLabClient>,
) -> Arc<JobContext> {
    Arc::new(JobContext::new(
        pool.clone(),
        github.map(Into::into).unwrap_or_default(),
        gitlab,
        Renderers::new(None, None),
    ))
}

/// Jobs not finished yet; `None` while the database cannot say.
async fn unfinished(pool: &PgPool) -> Option<i64> {
    sqlx::query_as::<_, (i64,)>("select count(*) from jobs where state in ('queued', 'running')")
        .fetch_one(pool)
        .await
        .ok()
        .map(|(n,)| n)
}

/// Waits until `done` holds and no job is left, then says how long it took from `since`.
async fn drained(pool: &PgPool, since: Instant, done: impl Fn() -> bool) -> Duration {
    loop {
        if done() && unfinished(pool).await == Some(0) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < DRAIN_DEADLINE,
            "not drained after {DRAIN_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status_of(router: &axum::Router, req: Request<Body>) -> StatusCode {
    router.clone().oneshot(req).await.unwrap().status()
}

/// Sends every request at once; the statuses, in order.
async fn all_at_once(router: &axum::Router, requests: Vec<Request<Body>>) -> Vec<StatusCode> {
    let sends: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let router = router.clone();
            tokio::spawn(async move { status_of(&router, req).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for s in sends {
        statuses.push(s.await.unwrap());
    }
    statuses
}

fn count_of(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

// ---- GitLab ----

const GITLAB_TOKEN: &str = "glpat-immutabot-faults";
const GITLAB_BOT: &str = "group_7_bot_1";
const GITLAB_SECRET: &str = "gitlab-webhook-secret";
const PROJECT: i64 = 4580910;
const PROJECT_PATH: &str = "acme/payments/shop";
const COMPOSE_BEFORE: &str =
    "services:\n  web:\n    image: ghcr.io/acme/web:3\n    read_only: true\n";
/// Two services without `read_only`: two discussions.
const COMPOSE: &str = "\
services:
  web:
    image: ghcr.io/acme/web:3
    read_only: true
  api:
    image: ghcr.io/acme/api:2.1
  worker:
    image: busybox:1.36
";
/// Discussions a review of [`COMPOSE`] opens.
const GITLAB_FINDINGS: usize = 2;

/// A fake GitLab with merge requests 1..=n, each changing [`COMPOSE`] at head `n` in hex.
async fn gitlab_with(n: usize) -> FakeGitLab {
    let fake = FakeGitLab::start().await;
    fake.add_token(GITLAB_TOKEN, GITLAB_BOT)
        .add_project(PROJECT, PROJECT_PATH, "main");
    for iid in 1..=n as i64 {
        let head = format!("{iid:040x}");
        fake.set_file(PROJECT, &head, "compose.yaml", COMPOSE)
            .add_merge_request(
                PROJECT,
                iid,
                (BASE, BASE, &head),
                vec![Diff::modified("compose.yaml", COMPOSE_BEFORE, COMPOSE)],
            );
    }
    fake
}

/// Posted, duplicated and lost reviews of merge requests 1..=n: each should have one
/// discussion per finding and at most one note outside them.
fn gitlab_tally(fake: &FakeGitLab, n: usize) -> (usize, usize, usize) {
    let (posted, mut duplicates, lost) = tally(
        (1..=n as i64).map(|iid| fake.discussions(PROJECT, iid).len()),
        GITLAB_FINDINGS,
    );
    for iid in 1..=n as i64 {
        duplicates += fake.notes(PROJECT, iid).len().saturating_sub(1);
    }
    (posted, duplicates, lost)
}

fn gitlab_client(fake: &FakeGitLab, timeout: Duration) -> GitLabClient {
    GitLabClient::new(GitLabSettings {
        retry: quick_retries(),
        request_timeout: timeout,
        diff_refs_delay: Duration::from_millis(10),
        write_interval: Duration::ZERO,
        ..GitLabSettings::new(fake.url(), SecretString::from(GITLAB_TOKEN.to_string()))
    })
    .unwrap()
}

/// The router with the GitLab endpoint configured.
fn gitlab_router(pool: &PgPool, fake: &FakeGitLab) -> axum::Router {
    let mut state = service::state(pool.clone());
    state.gitlab = Some(GitLabHook {
        secrets: Arc::new(vec![GITLAB_SECRET.as_bytes().to_vec()]),
        web_url: fake.url().into(),
    });
    service::router(state)
}

/// GitLab's "Merge Request Hook" for merge request `iid` opened at its head.
fn merge_request_opened(iid: i64, idempotency_key: &str) -> Request<Body> {
    let path = format!(
        "{}/tests/data/payloads/gitlab/gitlab-merge-request-event.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["project"]["id"] = PROJECT.into();
    v["project"]["path_with_namespace"] = PROJECT_PATH.into();
    let a = &mut v["object_attributes"];
    a["action"] = "open".into();
    a["iid"] = iid.into();
    a["target_project_id"] = PROJECT.into();
    a["source_project_id"] = PROJECT.into();
    a["last_commit"]["id"] = format!("{iid:040x}").into();
    Request::post("/webhooks/gitlab")
        .header("content-type", "application/json")
        .header("x-gitlab-event", "Merge Request Hook")
        .header("x-gitlab-token", GITLAB_SECRET)
        .header("idempotency-key", idempotency_key)
        .body(Body::from(serde_json::to_vec(&v).unwrap()))
        .unwrap()
}

/// A tenth of GitLab's answers failed as GitHub's are (see [`github_faults`]), with GitLab's
/// 429 and `retry-after` for the rate limit.
fn gitlab_faults(timeout: Duration) -> fake_gitlab::RandomFaults {
    let late = timeout + Duration::from_millis(500);
    use fake_gitlab::Fault;
    let faults = vec![
        Fault::gitlab_error(500),
        Fault::gitlab_error(502),
        Fault::gitlab_error(503),
        Fault::gitlab_error(502).delayed(late),
        Fault::gitlab_error(502).after_work().delayed(late),
        Fault::gitlab_rate_limited(1),
        Fault::gitlab_error(502).after_work(),
    ];
    fake_gitlab::RandomFaults::new(0.10, setting("FAULTS_SEED", 13), faults)
}

// ---- (4) a forge failing a tenth of its calls ----

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn github_failing_a_tenth_of_its_calls_still_gets_each_review_once(pool: PgPool) {
    let n = scaled(6);
    let fake = github_with(n).await;
    let timeout = Duration::from_secs(1);
    let ctx = context(&pool, Some(github_client(&fake, timeout)), None);
    let router = service::router(service::state(pool.clone()));
    fake.fail_randomly(Some(github_faults(timeout)));
    let started = Instant::now();
    let requests = (1..=n as u64)
        .map(|pr| delivery("pull_request", &format!("d-{pr}"), numbered(pr)))
        .collect();
    let statuses = all_at_once(&router, requests).await;
    assert_eq!(count_of(&statuses, StatusCode::ACCEPTED), n);
    let workers = Workers::start(&ctx, 2);
    let drain = drained(&pool, started, || github_tally(&fake, n).0 == n).await;
    workers.stop().await;
    let (posted, duplicates, lost) = github_tally(&fake, n);
    Row {
        fault: "forge answers 10% of calls with 5xx, late past the client timeout, secondary rate limit, lost answer".into(),
        forge: "GitHub",
        sent: n,
        expected: n,
        posted,
        duplicates,
        lost,
        drain,
        note: format!(
            "{} faults in {} calls",
            fake.random_faults_given(),
            fake.requests().len()
        ),
    }
    .report();
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn gitlab_failing_a_tenth_of_its_calls_still_gets_each_review_once(pool: PgPool) {
    let n = scaled(6);
    let fake = gitlab_with(n).await;
    let timeout = Duration::from_secs(1);
    let ctx = context(&pool, None, Some(gitlab_client(&fake, timeout)));
    let router = gitlab_router(&pool, &fake);
    fake.fail_randomly(Some(gitlab_faults(timeout)));
    let started = Instant::now();
    let requests = (1..=n as i64)
        .map(|iid| merge_request_opened(iid, &format!("gl-{iid}")))
        .collect();
    let statuses = all_at_once(&router, requests).await;
    assert_eq!(count_of(&statuses, StatusCode::ACCEPTED), n);
    let workers = Workers::start(&ctx, 2);
    let drain = drained(&pool, started, || gitlab_tally(&fake, n).0 == n).await;
    workers.stop().await;
    let (posted, duplicates, lost) = gitlab_tally(&fake, n);
    Row {
        fault: "forge answers 10% of calls with 5xx, late past the client timeout, 429 retry-after, lost answer".into(),
        forge: "GitLab",
        sent: n,
        expected: n,
        posted,
        duplicates,
        lost,
        drain,
        note: format!(
            "{} faults in {} calls",
            fake.random_faults_given(),
            fake.requests().len()
        ),
    }
    .report();
}

// ---- (5) one delivery, fifty times at once ----

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn github_the_same_delivery_fifty_times_at_once_is_one_review(pool: PgPool) {
    let n = scaled(1);
    let fake = github_with(n).await;
    let ctx = context(
        &pool,
        Some(github_client(&fake, Duration::from_secs(10))),
        None,
    );
    let router = service::router(service::state(pool.clone()));
    let workers = Workers::start(&ctx, 2);
    let started = Instant::now();
    let requests = (1..=n as u64)
        .flat_map(|pr| {
            (0..50).map(move |_| delivery("pull_request", &format!("d-{pr}"), numbered(pr)))
        })
        .collect();
    let statuses = all_at_once(&router, requests).await;
    assert_eq!(count_of(&statuses, StatusCode::ACCEPTED), n, "{statuses:?}");
    assert_eq!(count_of(&statuses, StatusCode::OK), 49 * n, "{statuses:?}");
    let drain = drained(&pool, started, || github_tally(&fake, n).0 == n).await;
    workers.stop().await;
    let (posted, duplicates, lost) = github_tally(&fake, n);
    Row {
        fault: "the same delivery sent 50 times at once".into(),
        forge: "GitHub",
        sent: 50 * n,
        expected: n,
        posted,
        duplicates,
        lost,
        drain,
        note: format!("{n} × (1 × 202, 49 × 200 duplicate)"),
    }
    .report();
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn gitlab_the_same_delivery_fifty_times_at_once_is_one_review(pool: PgPool) {
    let n = scaled(1);
    let fake = gitlab_with(n).await;
    let ctx = context(
        &pool,
        None,
        Some(gitlab_client(&fake, Duration::from_secs(10))),
    );
    let router = gitlab_router(&pool, &fake);
    let workers = Workers::start(&ctx, 2);
    let started = Instant::now();
    let requests = (1..=n as i64)
        .flat_map(|iid| (0..50).map(move |_| merge_request_opened(iid, &format!("gl-{iid}"))))
        .collect();
    let statuses = all_at_once(&router, requests).await;
    assert_eq!(count_of(&statuses, StatusCode::ACCEPTED), n, "{statuses:?}");
    assert_eq!(count_of(&statuses, StatusCode::OK), 49 * n, "{statuses:?}");
    let drain = drained(&pool, started, || gitlab_tally(&fake, n).0 == n).await;
    workers.stop().await;
    let (posted, duplicates, lost) = gitlab_tally(&fake, n);
    Row {
        fault: "the same delivery sent 50 times at once".into(),
        forge: "GitLab",
        sent: 50 * n,
        expected: n,
        posted,
        duplicates,
        lost,
        drain,
        note: format!("{n} × (1 × 202, 49 × 200 duplicate)"),
    }
    .report();
}

// ---- process level: real `immutabot serve` processes ----

const SECRET: &str = "faults-webhook-secret";

/// Where a replica finds the test's database directly.
fn direct_url(pool: &PgPool) -> String {
    let o = pool.connect_options();
    replica::url_at(pool, o.get_host(), o.get_port())
}

/// Waits until the job queue shows `want` running jobs held by process `pid`.
async fn running_in(pool: &PgPool, pid: u32, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from jobs where state = 'running' and locked_by like $1",
        )
        .bind(format!("%/{pid}/%"))
        .fetch_one(pool)
        .await
        .unwrap();
        if n >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} never ran {want} jobs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Jobs that took more than one attempt.
async fn run_again(pool: &PgPool) -> i64 {
    let (n,): (i64,) = sqlx::query_as("select count(*) from jobs where attempts > 1")
        .fetch_one(pool)
        .await
        .unwrap();
    n
}

// ---- (2) a process killed mid-job ----

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_process_killed_mid_job_loses_and_repeats_nothing(pool: PgPool) {
    let n = scaled(4);
    let fake = github_with(n).await;
    // The first process's two workers each stall on their pull request's first read, so
    // that the kill finds them mid-job.
    fake.fail_next(
        "GET",
        "/repos/*/*/pulls/*$",
        Fault::slow(Duration::from_secs(60)),
        2,
    );
    let url = direct_url(&pool);
    let mut first = Replica::start(&url, &fake.url(), SECRET, &[]).await;
    let started = Instant::now();
    for pr in 1..=n as u64 {
        let status = first
            .deliver(SECRET, "pull_request", &format!("d-{pr}"), numbered(pr))
            .await;
        assert_eq!(status, 202);
    }
    running_in(&pool, first.pid(), 2).await;
    first.kill();
    let _second = Replica::start(&url, &fake.url(), SECRET, &[]).await;
    let drain = drained(&pool, started, || github_tally(&fake, n).0 == n).await;
    let (posted, duplicates, lost) = github_tally(&fake, n);
    let (retaken,): (i64,) = sqlx::query_as("select count(*) from jobs where attempts = 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        retaken, 2,
        "the killed process's two jobs were run again, once each"
    );
    Row {
        fault: "a serve process SIGKILLed with 2 jobs in hand; another process started".into(),
        forge: "GitHub",
        sent: n,
        expected: n,
        posted,
        duplicates,
        lost,
        drain,
        note: format!(
            "{retaken} jobs retaken after the {} s lease",
            replica::LEASE_SECS
        ),
    }
    .report();
}

// ---- (3) two processes on one database ----

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn two_processes_on_one_database_review_each_pull_request_once(pool: PgPool) {
    let n = scaled(10);
    let fake = github_with(n).await;
    let url = direct_url(&pool);
    let replicas = Arc::new([
        Replica::start(&url, &fake.url(), SECRET, &[]).await,
        Replica::start(&url, &fake.url(), SECRET, &[]).await,
    ]);
    let started = Instant::now();
    // Each delivery to one replica; every other one also to the other replica under the same
    // id, as a redelivery behind a load balancer would land.
    let sends: Vec<_> = (1..=n as u64)
        .flat_map(|pr| {
            let copies = if pr % 2 == 0 { 2 } else { 1 };
            (0..copies).map(move |c| (pr, (pr as usize + c) % 2))
        })
        .map(|(pr, to)| {
            let replicas = replicas.clone();
            tokio::spawn(async move {
                replicas[to]
                    .deliver(SECRET, "pull_request", &format!("d-{pr}"), numbered(pr))
                    .await
            })
        })
        .collect();
    let sent = sends.len();
    let mut statuses = Vec::new();
    for s in sends {
        statuses.push(s.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        n,
        "{statuses:?}"
    );
    let drain = drained(&pool, started, || github_tally(&fake, n).0 == n).await;
    let (posted, duplicates, lost) = github_tally(&fake, n);
    Row {
        fault: "two serve processes on one database, deliveries split between them".into(),
        forge: "GitHub",
        sent,
        expected: n,
        posted,
        duplicates,
        lost,
        drain,
        note: format!(
            "{} of them sent to both; {} jobs run again",
            sent - n,
            run_again(&pool).await
        ),
    }
    .report();
}

// ---- (1) Postgres stopped and started under load ----

/// How the test takes the database away: `$FAULTS_PG_STOP` and `$FAULTS_PG_START` (shell
/// commands that stop and start the real cluster `DATABASE_URL` names; `scripts/faults`
/// sets them), else a relay in front of it that is cut and restored.
enum Outage {
    Commands { stop: String, start: String },
    Relay(pg_proxy::PgProxy),
}

impl Outage {
    /// The outage for `pool`'s database, and the URL a replica reaches it by.
    async fn of(pool: &PgPool) -> (Outage, String) {
        match (
            std::env::var("FAULTS_PG_STOP"),
            std::env::var("FAULTS_PG_START"),
        ) {
            (Ok(stop), Ok(start)) => (Outage::Commands { stop, start }, direct_url(pool)),
            _ => {
                let (proxy, _) = pg_proxy::in_front_of(pool, Duration::from_secs(3)).await;
                let url = replica::url_at(pool, "127.0.0.1", proxy.addr().port());
                (Outage::Relay(proxy), url)
            }
        }
    }

    fn what(&self) -> &'static str {
        match self {
            Outage::Commands { .. } => "Postgres stopped (pg_ctl stop -m fast) and started again",
            Outage::Relay(_) => "database connections cut (relay) and restored",
        }
    }

    async fn down(&self) {
        match self {
            Outage::Commands { stop, .. } => run(stop).await,
            Outage::Relay(proxy) => proxy.stop(),
        }
    }

    async fn up(&self) {
        match self {
            Outage::Commands { start, .. } => run(start).await,
            Outage::Relay(proxy) => proxy.resume().await,
        }
    }
}

async fn run(command: &str) {
    let command = command.to_string();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .args(["-c", &command])
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(status.success(), "{status}");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn postgres_down_in_the_middle_of_a_load_loses_and_repeats_nothing(pool: PgPool) {
    let n = scaled(60);
    let down_for = Duration::from_secs(setting("FAULTS_OUTAGE_SECS", 2));
    let fake = Arc::new(github_with(n).await);
    let (outage, url) = Outage::of(&pool).await;
    let replica = Replica::start(&url, &fake.url(), SECRET, &[]).await;
    fake.set_webhook(&replica.webhook_url(), SECRET);
    // The deliveries arrive evenly over three times the outage: a third before it, a third
    // during, a third after. GitHub sends them through the fake, which logs each answer for
    // the reconciler to find.
    let window = down_for * 3;
    let started = Instant::now();
    let sends: Vec<_> = (1..=n as u64)
        .map(|pr| {
            let fake = fake.clone();
            let at = started + window.mul_f64((pr - 1) as f64 / n as f64);
            tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                fake.deliver("pull_request", &format!("d-{pr}"), numbered(pr))
                    .await
            })
        })
        .collect();
    tokio::time::sleep(down_for).await;
    outage.down().await;
    tokio::time::sleep(down_for).await;
    outage.up().await;
    let mut statuses = Vec::new();
    for s in sends {
        statuses.push(s.await.unwrap());
    }
    let drain = drained(&pool, started, || github_tally(&fake, n).0 == n).await;
    let (posted, duplicates, lost) = github_tally(&fake, n);
    let first: Vec<_> = fake
        .deliveries()
        .into_iter()
        .filter(|d| !d.redelivery)
        .collect();
    let slowest = first.iter().map(|d| d.duration).fold(0.0, f64::max);
    let refused = statuses.iter().filter(|s| **s == 503).count();
    let unanswered = statuses.iter().filter(|s| **s == 0).count();
    let redelivered = fake.deliveries().iter().filter(|d| d.redelivery).count();
    let bookkeeping = replica
        .log_text()
        .matches("could not record the job's outcome; retrying")
        .count();
    let rerun = run_again(&pool).await;
    // GitHub gives up on an answer after 10 s: then it counts the delivery failed although
    // it was stored. Every delivery must get an answer in time.
    assert_eq!(unanswered, 0, "{statuses:?}");
    assert!(slowest < 10.0, "slowest answer {slowest} s");
    Row {
        fault: format!("{} for {} s under load", outage.what(), down_for.as_secs()),
        forge: "GitHub",
        sent: n,
        expected: n,
        posted,
        duplicates,
        lost,
        drain,
        note: format!(
            "{refused} answered 503, {redelivered} redelivered by the reconciler, slowest answer {slowest:.2} s, {unanswered} past 10 s; {bookkeeping} outcome writes retried, {rerun} jobs run again"
        ),
    }
    .report();
}
