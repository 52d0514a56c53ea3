//! The GitHub App end to end: signed deliveries through the real router into a fresh
//! database, workers running real jobs with the real GitHub client against a stateful fake
//! GitHub on loopback. Each test is one promise the App makes to a team that installs it.

#[path = "support/app.rs"]
mod app;
#[path = "support/fake_github/mod.rs"]
mod fake_github;
#[path = "support/log_capture.rs"]
mod log_capture;
#[path = "support/pg_proxy.rs"]
mod pg_proxy;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;
#[path = "support/tools.rs"]
mod tools;

use app::{App, BASE, HEAD, Options, REPO, renderers};
use axum::http::StatusCode;
use fake_github::{Auth, Fault, FileChange, TEST_APP_KEY_PEM};
use immutabot::jobs::render::Renderers;
use service::{count, delivery, fixture, with_head};
use sqlx::PgPool;
use std::time::Duration;
use tower::ServiceExt;

const HEAD2: &str = "2222222222222222222222222222222222222222";

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
          ports:
            - containerPort: 8080
";

const DEPLOYMENT_FIXED: &str = "\
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
          ports:
            - containerPort: 8080
          securityContext:
            readOnlyRootFilesystem: true
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: var-cache-nginx
              mountPath: /var/cache/nginx
            - name: var-run
              mountPath: /var/run
      volumes:
        - name: tmp
          emptyDir: {}
        - name: var-cache-nginx
          emptyDir: {}
        - name: var-run
          emptyDir: {}
";

const COMPOSE_BEFORE: &str = "\
services:
  db:
    image: postgres:17
    read_only: true
    tmpfs:
      - /tmp
      - /var/run/postgresql
";

const COMPOSE_AFTER: &str = "\
services:
  db:
    image: postgres:17
    read_only: true
    tmpfs:
      - /tmp
      - /var/run/postgresql
  worker:
    image: ghcr.io/acme/worker:2.1
    command: [\"run\"]
";

/// The shared App, installed only as the pull-request fixtures name it (installation 1),
/// with this file's charts and check-run readers.
struct Harness(App);

impl std::ops::Deref for Harness {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

fn options() -> Options {
    Options::default().installations(&[(1, &[REPO])])
}

async fn harness(pool: PgPool) -> Harness {
    harness_with(pool, options()).await
}

async fn harness_with(pool: PgPool, options: Options) -> Harness {
    Harness(App::start_with(pool, options).await)
}

fn opened_files() -> (Vec<FileChange>, Vec<(&'static str, &'static str)>) {
    (
        vec![
            FileChange::added("deploy/web.yaml", DEPLOYMENT),
            FileChange::modified("compose.yaml", COMPOSE_BEFORE, COMPOSE_AFTER),
            FileChange::added("README.md", "hello\n"),
        ],
        vec![
            ("deploy/web.yaml", DEPLOYMENT),
            ("compose.yaml", COMPOSE_AFTER),
        ],
    )
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn an_opened_pull_request_gets_a_check_run_and_one_review_with_suggestions(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    assert_eq!(
        h.send("pull_request", "d-open", fixture("pull_request/opened"))
            .await,
        StatusCode::ACCEPTED
    );
    h.drain().await;

    let reviews = h.fake.reviews(REPO, 2);
    assert_eq!(reviews.len(), 1, "exactly one review");
    let review = &reviews[0];
    assert_eq!(
        (review.state.as_str(), review.commit_id.as_str()),
        ("COMMENTED", HEAD)
    );
    let anchors: Vec<_> = review
        .comments
        .iter()
        .map(|c| (c.path.clone(), c.start_line, c.line))
        .collect();
    insta::assert_debug_snapshot!("opened_anchors", anchors);
    insta::assert_snapshot!("opened_review_body", review.body);
    for c in &review.comments {
        insta::assert_snapshot!(
            format!("opened_comment_{}", c.path.replace('/', "_")),
            c.body
        );
    }

    let runs = h.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(
        (
            run.name.as_str(),
            run.head_sha.as_str(),
            run.status.as_str()
        ),
        ("immutabot", HEAD, "completed")
    );
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.output.as_ref().unwrap()["summary"]
        .as_str()
        .unwrap()
        .to_string();
    insta::assert_snapshot!("opened_check_summary", summary);

    // The history has the check and its findings.
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from checks where conclusion = 'failure' and finished_at is not null"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from findings where state = 'open' and commented"
        )
        .await,
        2
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_whole_review_at_trace_level_logs_no_secret(pool: PgPool) {
    let logs = log_capture::capture();
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    // A forged delivery too: the refusal must not echo what it compared against.
    let mut forged = delivery("pull_request", "d-forged", fixture("pull_request/opened"));
    forged
        .headers_mut()
        .insert("x-hub-signature-256", "sha256=00".parse().unwrap());
    let refused = h.router.clone().oneshot(forged).await.unwrap().status();
    assert_eq!(refused, StatusCode::UNAUTHORIZED);
    let opened = h
        .send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    assert_eq!(opened, StatusCode::ACCEPTED);
    h.drain().await;
    assert_eq!(h.fake.reviews(REPO, 2).len(), 1, "the review was posted");

    let log = logs.text();
    // The capture really holds the service's and the dependencies' debug output.
    for target in ["immutabot::", "sqlx::", "octocrab", "hyper"] {
        assert!(log.contains(target), "nothing from {target} was captured");
    }
    let tokens: Vec<String> = h
        .fake
        .requests()
        .into_iter()
        .filter_map(|r| match r.auth {
            Auth::Token(t) => Some(t),
            _ => None,
        })
        .collect();
    assert!(!tokens.is_empty(), "the review used installation tokens");
    let pem = std::fs::read_to_string(TEST_APP_KEY_PEM).unwrap();
    let key_lines = log_capture::pem_body_lines(&pem);
    let mut secrets = vec![
        ("webhook secret", service::SECRET),
        ("private key header", "PRIVATE KEY"),
        ("installation token prefix", "ghs_"),
    ];
    secrets.extend(tokens.iter().map(|t| ("installation token", t.as_str())));
    secrets.extend(key_lines.iter().map(|l| ("private key", l.as_str())));
    log_capture::assert_absent(&log, &secrets);
    let jwts = log_capture::jwt_like(&log);
    assert!(jwts.is_empty(), "JWTs in the logs: {jwts:?}");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_push_that_fixes_one_finding_resolves_its_thread_and_repeats_nothing(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    h.drain().await;
    assert_eq!(h.fake.threads(REPO, 2).len(), 2);

    // The Deployment is fixed; the Compose service is still writable.
    h.fake.set_file(
        REPO,
        HEAD2,
        "deploy/web.yaml",
        DEPLOYMENT_FIXED.as_bytes().to_vec(),
    );
    h.fake.set_file(
        REPO,
        HEAD2,
        "compose.yaml",
        COMPOSE_AFTER.as_bytes().to_vec(),
    );
    h.fake.push(
        REPO,
        2,
        HEAD2,
        vec![
            FileChange::added("deploy/web.yaml", DEPLOYMENT_FIXED),
            FileChange::modified("compose.yaml", COMPOSE_BEFORE, COMPOSE_AFTER),
        ],
    );
    let sync = with_head(&fixture("pull_request/synchronize"), HEAD2);
    h.send("pull_request", "d-sync", sync).await;
    h.drain().await;

    assert_eq!(
        h.fake.reviews(REPO, 2).len(),
        1,
        "no second review: nothing new to say"
    );
    let threads = h.fake.threads(REPO, 2);
    let state: Vec<_> = threads
        .iter()
        .map(|t| (t.path.clone(), t.is_resolved))
        .collect();
    assert!(
        state.contains(&("deploy/web.yaml".into(), true)),
        "{state:?}"
    );
    assert!(state.contains(&("compose.yaml".into(), false)), "{state:?}");
    let runs = h.fake.check_runs(REPO);
    assert_eq!(runs.len(), 2, "one check run per head commit");
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from findings where state = 'fixed' and path = 'deploy/web.yaml'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from findings where state = 'open' and path = 'compose.yaml'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_thread_a_person_replied_to_stays_open(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    h.drain().await;
    let k8s = h
        .fake
        .threads(REPO, 2)
        .into_iter()
        .find(|t| t.path == "deploy/web.yaml")
        .unwrap();
    h.fake.reply(
        &k8s.id,
        "octocat",
        "We need this writable until the migration, see #12.",
    );
    h.fake.set_file(
        REPO,
        HEAD2,
        "deploy/web.yaml",
        DEPLOYMENT_FIXED.as_bytes().to_vec(),
    );
    h.fake.set_file(
        REPO,
        HEAD2,
        "compose.yaml",
        COMPOSE_AFTER.as_bytes().to_vec(),
    );
    h.fake.push(
        REPO,
        2,
        HEAD2,
        vec![
            FileChange::added("deploy/web.yaml", DEPLOYMENT_FIXED),
            FileChange::modified("compose.yaml", COMPOSE_BEFORE, COMPOSE_AFTER),
        ],
    );
    h.send(
        "pull_request",
        "d-sync",
        with_head(&fixture("pull_request/synchronize"), HEAD2),
    )
    .await;
    h.drain().await;
    let k8s = h
        .fake
        .threads(REPO, 2)
        .into_iter()
        .find(|t| t.path == "deploy/web.yaml")
        .unwrap();
    assert!(!k8s.is_resolved, "a person's reply keeps the thread open");
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from findings where state = 'fixed'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_finding_outside_the_diff_becomes_an_annotation_not_a_comment(pool: PgPool) {
    let h = harness(pool).await;
    let before = "services:\n  web:\n    image: nginx:1.27\n  db:\n    image: postgres:16\n    read_only: true\n    tmpfs:\n      - /tmp\n      - /var/run/postgresql\n";
    let after = before.replace("postgres:16", "postgres:17");
    h.pull_request_with(
        HEAD,
        vec![FileChange::modified("compose.yaml", before, &after)],
        &[("compose.yaml", &after)],
    );
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    h.drain().await;

    assert!(
        h.fake.reviews(REPO, 2).is_empty(),
        "nothing to comment on in the diff"
    );
    let run = &h.fake.check_runs(REPO)[0];
    let notes: Vec<_> = run
        .annotations
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["start_line"].as_u64().unwrap(),
                a["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        notes.iter().any(|(p, l, _)| p == "compose.yaml" && *l == 2),
        "{notes:?}"
    );
    // Outside the diff: it does not fail the pull request.
    assert_eq!(run.conclusion.as_deref(), Some("success"));
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn when_github_refuses_the_review_the_findings_go_to_the_check_run(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.fake.fail_next(
        "POST",
        "/repos/*/*/pulls/*/reviews",
        Fault::unprocessable("Line could not be resolved"),
        1,
    );
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    h.drain().await;

    assert!(h.fake.reviews(REPO, 2).is_empty());
    let run = &h.fake.check_runs(REPO)[0];
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let paths: Vec<_> = run
        .annotations
        .iter()
        .map(|a| a["path"].as_str().unwrap().to_string())
        .collect();
    assert!(
        paths.contains(&"deploy/web.yaml".to_string())
            && paths.contains(&"compose.yaml".to_string()),
        "{paths:?}"
    );
    let summary = run.output.as_ref().unwrap()["summary"].as_str().unwrap();
    assert!(
        summary.contains("GitHub refused the inline comments"),
        "{summary}"
    );
    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'done'").await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn server_errors_and_rate_limits_are_retried_and_one_review_is_posted(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.fake.fail_next(
        "POST",
        "/repos/*/*/pulls/*/reviews",
        Fault::server_error(500),
        1,
    );
    h.fake.fail_next(
        "POST",
        "/repos/*/*/pulls/*/reviews",
        Fault::server_error(502),
        1,
    );
    h.fake.fail_next(
        "POST",
        "/repos/*/*/pulls/*/reviews",
        Fault::secondary_rate_limit(Some(1)),
        1,
    );
    h.fake.fail_next(
        "GET",
        "/repos/*/*/pulls/*/files",
        Fault::server_error(503),
        1,
    );
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    let started = std::time::Instant::now();
    h.drain().await;

    assert_eq!(h.fake.reviews(REPO, 2).len(), 1, "one review in the end");
    let posts: Vec<u16> = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path_only().ends_with("/pulls/2/reviews"))
        .map(|r| r.status)
        .collect();
    assert_eq!(posts, vec![500, 502, 403, 200]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after: 1 was honoured"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_review_whose_answer_was_lost_is_found_not_posted_again(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    // GitHub makes the review, then its front end answers 502.
    h.fake.fail_next(
        "POST",
        "/repos/*/*/pulls/*/reviews",
        Fault::server_error(502).after_work(),
        1,
    );
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    h.drain().await;

    let reviews = h.fake.reviews(REPO, 2);
    assert_eq!(reviews.len(), 1, "the review is not posted twice");
    assert_eq!(h.fake.threads(REPO, 2).len(), 2);
    assert!(
        reviews[0].body.contains("<!-- immutabot:review="),
        "{}",
        reviews[0].body
    );
    let calls: Vec<(String, u16)> = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.path_only().ends_with("/pulls/2/reviews"))
        .map(|r| (r.method.clone(), r.status))
        .collect();
    assert_eq!(calls, [("POST".into(), 502), ("GET".into(), 200)]);
    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'done'").await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_check_run_whose_answer_was_lost_is_found_not_made_again(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    // GitHub makes the check run, then its front end answers 502.
    h.fake.fail_next(
        "POST",
        "/repos/*/*/check-runs",
        Fault::server_error(502).after_work(),
        1,
    );
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    h.drain().await;

    let runs = h.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1, "one check run for the head: {runs:?}");
    assert_eq!(runs[0].status, "completed", "{runs:?}");
    let calls: Vec<(String, u16)> = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.path_only().ends_with("/check-runs"))
        .map(|r| (r.method.clone(), r.status))
        .collect();
    assert_eq!(calls, [("POST".into(), 502), ("GET".into(), 200)]);
}

/// A `check_run` or `check_suite` `rerequested` delivery for `head`, on the fixtures'
/// repository, with an empty `pull_requests` list as GitHub sends for fork pull requests.
fn rerequested(event: &str, name: &str, head: &str) -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("{event}/rerequested"))).unwrap();
    let opened: serde_json::Value =
        serde_json::from_slice(&fixture("pull_request/opened")).unwrap();
    v[event]["name"] = name.into();
    v[event]["head_sha"] = head.into();
    v[event]["pull_requests"] = serde_json::json!([]);
    v["repository"] = opened["repository"].clone();
    v["installation"] = serde_json::json!({ "id": 1 });
    serde_json::to_vec(&v).unwrap()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn re_run_on_our_check_reviews_the_head_again_without_repeating_a_comment(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    h.drain().await;
    assert_eq!(h.fake.check_runs(REPO).len(), 1);

    let status = h
        .send(
            "check_run",
            "re-1",
            rerequested("check_run", "immutabot", HEAD),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    h.drain().await;
    let status = h
        .send("check_suite", "re-2", rerequested("check_suite", "", HEAD))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    h.drain().await;
    assert_eq!(
        h.fake.check_runs(REPO).len(),
        3,
        "a new check run per re-run"
    );
    assert_eq!(h.fake.reviews(REPO, 2).len(), 1, "nothing new to say");
    assert_eq!(h.fake.threads(REPO, 2).len(), 2);

    // Another App's check, and a head no open pull request has: recorded, nothing queued.
    let other = h
        .send("check_run", "re-3", rerequested("check_run", "lint", HEAD))
        .await;
    let unknown = h
        .send("check_suite", "re-4", rerequested("check_suite", "", HEAD2))
        .await;
    assert_eq!((other, unknown), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from deliveries where guid in ('re-3', 're-4') and outcome = 'ignored'"
        )
        .await,
        2
    );
    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'queued'").await,
        0
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_same_delivery_twice_gives_one_review(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.send("pull_request", "same", fixture("pull_request/opened"))
        .await;
    h.drain().await;
    assert_eq!(
        h.send("pull_request", "same", fixture("pull_request/opened"))
            .await,
        StatusCode::OK
    );
    // A re-run of the same head (another delivery id) posts nothing new either.
    h.send("pull_request", "other", fixture("pull_request/reopened"))
        .await;
    h.drain().await;
    assert_eq!(h.fake.reviews(REPO, 2).len(), 1);
    assert_eq!(h.fake.threads(REPO, 2).len(), 2);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn two_workers_racing_on_one_job_post_one_review(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    let (a, b) = (h.worker("a"), h.worker("b"));
    let (ra, rb) = tokio::join!(a.step(), b.step());
    assert_eq!(ra.unwrap() as u8 + rb.unwrap() as u8, 1);
    assert_eq!(h.fake.reviews(REPO, 2).len(), 1);
    assert_eq!(h.fake.check_runs(REPO).len(), 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_newer_push_before_posting_supersedes_the_review(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    // GitHub already knows a newer head when the worker gets to it.
    h.fake.push(REPO, 2, HEAD2, opened_files().0);
    h.drain().await;
    assert!(h.fake.reviews(REPO, 2).is_empty());
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from jobs where state = 'superseded'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_delivery_refused_while_the_database_was_down_is_redelivered_after(pool: PgPool) {
    // The service reaches this test's database through a relay the test cuts and restores.
    let (proxy, app_pool) = pg_proxy::in_front_of(&pool, Duration::from_secs(2)).await;
    let h = harness_with(pool, options().service_pool(app_pool.clone())).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);

    // The real server on a real port: the fake GitHub delivers to it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/github", listener.local_addr().unwrap());
    let router = h.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    h.fake.set_webhook(&url, service::SECRET);

    proxy.stop();
    let status = h
        .fake
        .deliver("pull_request", "while-down", fixture("pull_request/opened"))
        .await;
    assert_eq!(status, 503);
    proxy.resume().await;

    let asked = immutabot::reconcile::once(&app_pool, &h.ctx.github.get().unwrap())
        .await
        .unwrap();
    assert_eq!(asked, 1);
    let deliveries = h.fake.deliveries();
    assert_eq!(
        deliveries
            .last()
            .map(|d| (d.guid.as_str(), d.redelivery, d.status_code)),
        Some(("while-down", true, 202))
    );
    // Asking again finds nothing missing.
    assert_eq!(
        immutabot::reconcile::once(&app_pool, &h.ctx.github.get().unwrap())
            .await
            .unwrap(),
        0
    );
    h.drain().await;
    assert_eq!(h.fake.reviews(REPO, 2).len(), 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_pull_request_github_does_not_know_is_dead_at_once_not_retried(pool: PgPool) {
    let h = harness(pool).await;
    // The delivery names pull request 2, which the fake GitHub never heard of: a 404.
    assert_eq!(
        h.send("pull_request", "d-gone", fixture("pull_request/opened"))
            .await,
        StatusCode::ACCEPTED
    );
    h.drain().await;
    let (state, attempts, error): (String, i32, Option<String>) =
        sqlx::query_as("select state, attempts, last_error from jobs")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), attempts), ("dead", 1));
    assert!(error.unwrap().contains("not found"));
    assert!(h.fake.check_runs(REPO).is_empty());
}

const HELLO: &str = "charts/hello-world";
const HELLO_VALUES: &str = "charts/hello-world/values.yaml";
const HELLO_DEPLOYMENT: &str = "charts/hello-world/templates/deployment.yaml";

impl Harness {
    /// The real hello-world chart (../shared) at `head`, beside a plain Deployment.
    fn chart_at(&self, head: &str) {
        for (path, bytes) in tools::shared_files("charts/hello-world", HELLO) {
            self.fake.set_file(REPO, head, &path, bytes);
        }
        self.fake.set_file(
            REPO,
            head,
            "deploy/web.yaml",
            DEPLOYMENT.as_bytes().to_vec(),
        );
    }

    /// A pull request raising the chart's `replicaCount` (line 5 of its values.yaml).
    fn values_change(&self) {
        self.chart_at(HEAD);
        let (before, after) = hello_values();
        self.pull_request_with(
            HEAD,
            vec![FileChange::modified(HELLO_VALUES, &before, &after)],
            &[(HELLO_VALUES, &after)],
        );
    }

    /// (path, line, title) of each annotation of the only check run.
    fn annotations(&self) -> Vec<(String, u64, String)> {
        let runs = self.fake.check_runs(REPO);
        assert_eq!(runs.len(), 1);
        runs[0]
            .annotations
            .iter()
            .map(|a| {
                (
                    a["path"].as_str().unwrap().to_string(),
                    a["start_line"].as_u64().unwrap(),
                    a["title"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn summary(&self) -> String {
        let run = &self.fake.check_runs(REPO)[0];
        let out = run.output.as_ref().unwrap();
        format!("{}\n{}", out["summary"], out["text"])
    }
}

/// The chart's values.yaml before and after the pull request.
fn hello_values() -> (String, String) {
    let before = std::fs::read_to_string(tools::shared("charts/hello-world/values.yaml")).unwrap();
    let after = before.replace("replicaCount: 1", "replicaCount: 2");
    assert_ne!(before, after);
    (before, after)
}

async fn job_states(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("select state from jobs order by id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_change_to_a_charts_values_renders_it_and_its_container_finding_reaches_the_check_run(
    pool: PgPool,
) {
    let h = harness(pool).await;
    h.values_change();
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let notes = h.annotations();
    assert!(
        notes
            .iter()
            .any(|(p, _, t)| p == HELLO_DEPLOYMENT && t.contains("writable")),
        "the rendered container's finding, on its template: {notes:?}"
    );
    // Every comment that lands is on a line the pull request changed (values.yaml line 5).
    for r in h.fake.reviews(REPO, 2) {
        for c in &r.comments {
            assert_eq!((c.path.as_str(), c.line), (HELLO_VALUES, Some(5)), "{c:?}");
        }
    }
    // The template is not also reported as a file that was skipped as unrendered.
    assert!(!h.summary().contains("was skipped"), "{}", h.summary());
    let (files, units): (i32, i32) = sqlx::query_as("select files_checked, units from checks")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(units, 1, "one container, rendered once ({files} files)");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_values_key_that_decides_a_container_gets_the_suggestion_on_the_changed_line(
    pool: PgPool,
) {
    const TIGERA: &str = "charts/tigera-operator";
    const VALUES: &str = "charts/tigera-operator/values.yaml";
    let h = harness(pool).await;
    for (path, bytes) in tools::shared_files(TIGERA, TIGERA) {
        h.fake.set_file(REPO, HEAD, &path, bytes);
    }
    // The pull request writes the chart's `containerSecurityContext: {}` (line 129).
    let after =
        std::fs::read_to_string(tools::shared("charts/tigera-operator/values.yaml")).unwrap();
    let before = after.replacen("containerSecurityContext: {}\n", "", 1);
    h.pull_request_with(
        HEAD,
        vec![FileChange::modified(VALUES, &before, &after)],
        &[(VALUES, &after)],
    );
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let comments: Vec<_> = h
        .fake
        .reviews(REPO, 2)
        .into_iter()
        .flat_map(|r| r.comments)
        .collect();
    let c = comments
        .iter()
        .find(|c| c.path == VALUES)
        .unwrap_or_else(|| panic!("a comment on values.yaml: {comments:?}"));
    assert_eq!(c.line, Some(129), "{c:?}");
    assert!(c.body.contains("```suggestion"), "{}", c.body);
    assert!(
        c.body.contains("readOnlyRootFilesystem: true"),
        "{}",
        c.body
    );
    assert!(c.body.contains("tigera-operator"), "{}", c.body);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_change_to_a_kustomize_base_is_checked_through_the_overlays_built_on_it(pool: PgPool) {
    const BASE_DEPLOYMENT: &str = "deploy/ldap/base/deployment.yaml";
    let h = harness(pool).await;
    for (path, bytes) in tools::shared_files("kustomize/kustomize-example-ldap", "deploy/ldap") {
        h.fake.set_file(REPO, HEAD, &path, bytes);
    }
    let after = std::fs::read_to_string(tools::shared(
        "kustomize/kustomize-example-ldap/base/deployment.yaml",
    ))
    .unwrap();
    let before = after.replacen("replicas: 1", "replicas: 2", 1);
    assert_ne!(before, after);
    h.pull_request_with(
        HEAD,
        vec![FileChange::modified(BASE_DEPLOYMENT, &before, &after)],
        &[(BASE_DEPLOYMENT, &after)],
    );
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let notes = h.annotations();
    for overlay in ["production", "staging"] {
        let path = format!("deploy/ldap/overlays/{overlay}/kustomization.yaml");
        assert!(
            notes
                .iter()
                .any(|(p, _, t)| p == &path && t.contains("writable")),
            "the {overlay} overlay's container, where its patch goes: {notes:?}"
        );
    }
    let units: i32 = sqlx::query_scalar("select units from checks")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(
        units, 2,
        "the base's Deployment as each overlay deploys it, not the base alone"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_file_too_large_or_badly_named_costs_one_note_not_the_review(pool: PgPool) {
    let h = harness(pool).await;
    // 50 MB: more than one answer may hold (16 MiB), twice GitHub's own webhook limit.
    let big = format!("# {}\n{DEPLOYMENT}", "x".repeat(50 * 1024 * 1024));
    h.fake.set_file(REPO, HEAD, "big.yaml", big.into_bytes());
    h.pull_request_with(
        HEAD,
        vec![
            FileChange::added("big.yaml", "# a large file\n"),
            FileChange::added("a/../evil.yaml", DEPLOYMENT),
            FileChange::added("deploy/web.yaml", DEPLOYMENT),
        ],
        &[("deploy/web.yaml", DEPLOYMENT)],
    );
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let comments: Vec<_> = h
        .fake
        .reviews(REPO, 2)
        .into_iter()
        .flat_map(|r| r.comments)
        .collect();
    let summary = h.summary();
    assert!(
        comments.iter().any(|c| c.path == "deploy/web.yaml"),
        "the other file is still reviewed: {comments:?}\n{summary}"
    );
    assert!(
        summary.contains("'big.yaml' was not checked") && summary.contains("larger than"),
        "{summary}"
    );
    assert!(
        summary.contains("'a/../evil.yaml' was not checked")
            && summary.contains("unsafe file path"),
        "{summary}"
    );
    assert_eq!(
        summary.matches("was not checked").count(),
        2,
        "one note each: {summary}"
    );
    let run = &h.fake.check_runs(REPO)[0];
    assert_eq!(run.status, "completed", "{summary}");
}

/// Names a repository may hold that are special in a URL or a shell.
const ODD_NAMES: [&str; 8] = [
    "deploy/with space.yaml",
    "deploy/ünïcödé-✓.yaml",
    "deploy/a#b.yaml",
    "deploy/a?b=c&d.yaml",
    "deploy/100%.yaml",
    "deploy/50%25.yaml",
    "deploy/a+b.yaml",
    "deploy/semi;colon'quote\".yaml",
];

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn file_names_with_spaces_unicode_and_url_characters_are_fetched_as_named(pool: PgPool) {
    let h = harness(pool).await;
    let files = ODD_NAMES
        .iter()
        .map(|p| FileChange::added(p, DEPLOYMENT))
        .collect();
    let contents: Vec<(&str, &str)> = ODD_NAMES.iter().map(|p| (*p, DEPLOYMENT)).collect();
    h.pull_request_with(HEAD, files, &contents);
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let commented: std::collections::BTreeSet<String> = h
        .fake
        .reviews(REPO, 2)
        .into_iter()
        .flat_map(|r| r.comments)
        .map(|c| c.path)
        .collect();
    let expected: std::collections::BTreeSet<String> =
        ODD_NAMES.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        commented,
        expected,
        "each file fetched by its own name and reviewed\n{}",
        h.summary()
    );
    assert!(
        !h.summary().contains("could not be read"),
        "{}",
        h.summary()
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_pull_request_of_3000_files_is_reviewed_within_the_jobs_budget(pool: PgPool) {
    let h = harness(pool).await;
    // 3,000 changed manifests, the most GitHub lists; the first is writable, the rest not.
    let paths: Vec<String> = (0..3000).map(|i| format!("deploy/f{i:04}.yaml")).collect();
    let mut files = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let text = if i == 0 { DEPLOYMENT } else { COMPOSE_BEFORE };
        h.fake.set_file(REPO, HEAD, path, text.as_bytes().to_vec());
        files.push(FileChange::added(path, text));
    }
    h.fake
        .add_pull_request(REPO, 2, BASE, "master", HEAD, files);
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let summary = h.summary();
    let budget = immutabot::jobs::memory::REVIEW_FILES;
    assert!(
        summary.contains(&format!(
            "{} file(s) were not checked: one job checks at most {budget} files",
            3000 - budget
        )),
        "{summary}"
    );
    assert!(
        summary.contains("GitHub lists at most 3000 changed files"),
        "{summary}"
    );
    let comments: Vec<_> = h
        .fake
        .reviews(REPO, 2)
        .into_iter()
        .flat_map(|r| r.comments)
        .collect();
    assert!(
        comments.iter().any(|c| c.path == "deploy/f0000.yaml"),
        "{comments:?}"
    );
    // Bounded calls: the 30 pages of the list, one fetch per admitted file, and a few more.
    let requests = h.fake.requests();
    let fetches = requests
        .iter()
        .filter(|r| r.path.contains("/contents/deploy/"))
        .count();
    assert_eq!(fetches, budget, "no file past the budget is fetched");
    assert!(
        requests.len() <= budget + 30 + 20,
        "{} calls",
        requests.len()
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_change_beside_a_chart_does_not_render_it(pool: PgPool) {
    let h = harness(pool).await;
    h.chart_at(HEAD);
    h.pull_request_with(
        HEAD,
        vec![FileChange::modified(
            "deploy/web.yaml",
            DEPLOYMENT,
            DEPLOYMENT,
        )],
        &[],
    );
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let notes = h.annotations();
    assert!(
        notes.iter().all(|(p, _, _)| !p.starts_with(HELLO)),
        "{notes:?}"
    );
    let files: i32 = sqlx::query_scalar("select files_checked from checks")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(files, 1, "the Deployment alone: no render of the chart");
    assert!(
        !h.fake
            .requests()
            .iter()
            .any(|r| r.path.contains("/git/blobs/")),
        "no file of the chart was fetched"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn without_helm_the_check_run_says_the_chart_was_not_rendered(pool: PgPool) {
    let missing = std::path::PathBuf::from("/nonexistent/immutabot-test/helm");
    let renderers = Renderers::new(Some(missing), Some(tools::kubectl()));
    let h = harness_with(pool, options().renderers(renderers)).await;
    h.values_change();
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let summary = h.summary();
    assert!(
        summary.contains("charts/hello-world/Chart.yaml")
            && summary.contains("not rendered: helm is not installed"),
        "{summary}"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_render_that_runs_out_of_time_is_a_render_failed_finding_not_a_failed_job(pool: PgPool) {
    let bounds = immutabot::render::process::Bounds {
        timeout: Duration::from_millis(1),
        ..Default::default()
    };
    let h = harness_with(pool, options().renderers(renderers().with_bounds(bounds))).await;
    h.values_change();
    h.open().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    let notes = h.annotations();
    assert!(
        notes
            .iter()
            .any(|(p, _, t)| p == "charts/hello-world/Chart.yaml" && t.contains("render")),
        "{notes:?}"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_check_run_whose_record_was_lost_is_found_by_the_next_attempt_not_made_again(
    pool: PgPool,
) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    h.send("pull_request", "d-open", fixture("pull_request/opened"))
        .await;
    // The first attempt makes its check run, then fails on the file list...
    h.fake.fail_next(
        "GET",
        "/repos/*/*/pulls/*/files",
        Fault::server_error(500),
        100,
    );
    h.drain().await;
    assert_eq!(h.fake.check_runs(REPO).len(), 1);
    // ...and the database lost the write that recorded the run (it went away in between).
    sqlx::query("update checks set check_run_id = null")
        .execute(&h.pool)
        .await
        .unwrap();
    sqlx::query("update jobs set run_after = now()")
        .execute(&h.pool)
        .await
        .unwrap();
    h.fake.clear_faults();
    h.drain().await;
    assert_eq!(
        h.fake.check_runs(REPO).len(),
        1,
        "one check run on the head"
    );
    assert_eq!(h.fake.reviews(REPO, 2).len(), 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn urls_in_a_payload_are_never_followed(pool: PgPool) {
    let h = harness(pool).await;
    let (files, contents) = opened_files();
    h.pull_request_with(HEAD, files, &contents);
    let trap = service::Tripwire::start().await;
    let mut payload: serde_json::Value =
        serde_json::from_slice(&fixture("pull_request/opened")).unwrap();
    trap.aim(
        &mut payload,
        &["https://api.github.com", "https://github.com"],
    );
    assert!(
        payload.to_string().matches(&trap.url).count() > 50,
        "the payload's URLs all point at the listener"
    );
    let status = h
        .send(
            "pull_request",
            "d-elsewhere",
            serde_json::to_vec(&payload).unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    h.drain().await;

    assert_eq!(job_states(&h.pool).await, ["done"]);
    assert_eq!(
        h.fake.reviews(REPO, 2).len(),
        1,
        "reviewed through the configured API"
    );
    assert_eq!(
        trap.connections(),
        0,
        "no connection to where the payload pointed"
    );
}
