//! End to end: a signed `pull_request` delivery for a pull request of 50 changed manifests,
//! through the real router into Postgres, a worker running the real review job with the real
//! GitHub client against the fake GitHub on loopback, until the review is posted. Prints the
//! time per review and the GitHub API calls per review.
//!
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench review
//!
//! (`scripts/bench-service` runs it.) It creates and drops its own database.

#[path = "../tests/support/fake_github/mod.rs"]
mod fake_github;
#[path = "../tests/support/service.rs"]
#[allow(dead_code)]
mod service;

use fake_github::{FakeGitHub, FileChange, TEST_APP_KEY_PEM};
use immutabot::forge::github::{GitHubApp, GitHubSettings};
use immutabot::jobs::{self, JobContext};
use immutabot::queue::worker::{Timing, Worker};
use secrecy::SecretString;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const REPO: &str = "Codertocat/Hello-World";
const FILES: usize = 50;
const ROUNDS: usize = 10;

fn manifest(i: usize) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-{i}\n  labels:\n    app: svc-{i}\n\
spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: svc-{i}\n  template:\n    metadata:\n      labels:\n        app: svc-{i}\n\
    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/svc-{i}:1.{i}\n          ports:\n            - containerPort: 8080\n\
          resources:\n            limits:\n              memory: 256Mi\n        - name: cache\n          image: redis:7\n          securityContext:\n            readOnlyRootFilesystem: true\n"
    )
}

fn sha(i: usize) -> String {
    format!("{:040x}", 0xabc0000 + i)
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or("postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut admin = PgConnection::connect(&url)
        .await
        .expect("DATABASE_URL reachable");
    sqlx::query("drop database if exists immutabot_bench_review")
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("create database immutabot_bench_review")
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    let pool = immutabot::db::pool(&format!("{base}/immutabot_bench_review"), 10).unwrap();
    immutabot::db::migrate(&pool).await.unwrap();

    for (label, pacing) in [
        ("no pacing", Duration::ZERO),
        (
            "default pacing (1 s between writes)",
            Duration::from_secs(1),
        ),
    ] {
        let fake = FakeGitHub::start(99).await;
        fake.add_repo(REPO, 186853002).add_installation(1, &[REPO]);
        let key = SecretString::from(std::fs::read_to_string(TEST_APP_KEY_PEM).unwrap());
        let github = GitHubApp::new(GitHubSettings {
            write_interval: pacing,
            ..GitHubSettings::new(fake.url(), 99, key)
        })
        .unwrap();
        // The benchmark's pull request holds no chart: nothing is rendered.
        let renderers = immutabot::jobs::render::Renderers::new(None, None);
        let ctx = Arc::new(JobContext::new(
            pool.clone(),
            github.into(),
            None,
            renderers,
        ));
        let router = service::router(service::state(pool.clone()));
        let worker = Worker {
            pool: pool.clone(),
            name: "bench".into(),
            timing: Timing::default(),
            handler: jobs::handler(ctx),
            wake: Arc::new(tokio::sync::Notify::new()),
        };
        let rounds = if pacing.is_zero() { ROUNDS } else { 3 };
        let mut times = Vec::new();
        let mut calls = Vec::new();
        for round in 0..rounds {
            let number = (round + 1 + if pacing.is_zero() { 0 } else { 1000 }) as u64;
            let head = sha(number as usize);
            let files: Vec<FileChange> = (0..FILES)
                .map(|i| {
                    let path = format!("deploy/svc-{i}.yaml");
                    fake.set_file(REPO, &head, &path, manifest(i).into_bytes());
                    FileChange::added(&path, &manifest(i))
                })
                .collect();
            fake.add_pull_request(REPO, number, &sha(0), "master", &head, files);
            let mut payload: serde_json::Value =
                serde_json::from_slice(&service::fixture("pull_request/opened")).unwrap();
            payload["number"] = number.into();
            payload["pull_request"]["number"] = number.into();
            payload["pull_request"]["head"]["sha"] = head.clone().into();
            let body = serde_json::to_vec(&payload).unwrap();
            fake.clear_requests();
            let started = Instant::now();
            let res = router
                .clone()
                .oneshot(service::delivery(
                    "pull_request",
                    &format!("bench-{}-{round}", pacing.as_millis()),
                    body,
                ))
                .await
                .unwrap();
            assert_eq!(res.status(), 202);
            while worker.step().await.unwrap() {}
            times.push(started.elapsed());
            assert_eq!(fake.reviews(REPO, number).len(), 1);
            assert_eq!(fake.reviews(REPO, number)[0].comments.len(), 30);
            calls.push(fake.requests().len());
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "review of {FILES} changed manifests, {label}: median {:.0} ms, min {:.0} ms, max {:.0} ms over {} reviews; GitHub calls per review: {:?} ({FILES} file fetches + {})",
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
            times.len(),
            calls,
            calls[calls.len() - 1] - FILES,
        );
    }
    pool.close().await;
    sqlx::query("drop database if exists immutabot_bench_review")
        .execute(&mut admin)
        .await
        .unwrap();
}
