//! GitLab end to end: deliveries with GitLab's token through the real router into a fresh
//! database, workers running the same review and scan jobs as for GitHub with the real
//! GitLab client, against the stateful fake GitLab on loopback. Each test is one promise
//! the service makes to a team on GitLab.

#[path = "support/fake_gitlab/mod.rs"]
mod fake_gitlab;
#[path = "support/gitlab_app.rs"]
mod gitlab_app;
#[path = "support/log_capture.rs"]
#[allow(dead_code)]
mod log_capture;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;
#[path = "support/tools.rs"]
mod tools;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fake_gitlab::{Diff, Fault};
use gitlab_app::{GitLabApp, PATH, PROJECT, SECRET, TOKEN, fixture};
use immutabot::analyze::{NoFiles, analyze};
use immutabot::config::Config;
use serde_json::Value;
use service::count;
use sqlx::PgPool;
use std::time::Duration;
use tower::ServiceExt;

const IID: i64 = 12;
const BASE: &str = "1111111111111111111111111111111111111111";
const HEAD: &str = "3333333333333333333333333333333333333333";
const HEAD2: &str = "4444444444444444444444444444444444444444";

const COMPOSE_BEFORE: &str =
    "services:\n  web:\n    image: ghcr.io/acme/web:3\n    read_only: true\n";
const COMPOSE: &str = "\
services:
  web:
    image: ghcr.io/acme/web:3
    read_only: true
  api:
    image: ghcr.io/acme/api:2.1
    ports:
      - 8080:8080
  worker:
    image: busybox:1.36
    command: [\"sleep\", \"infinity\"]
";
/// The worker fixed by hand (its last key); the api still writable.
fn compose_worker_fixed() -> String {
    format!("{COMPOSE}    read_only: true\n")
}

/// The shared GitLab harness, with this file's merge request.
struct Harness(GitLabApp);

impl std::ops::Deref for Harness {
    type Target = GitLabApp;
    fn deref(&self) -> &GitLabApp {
        &self.0
    }
}

async fn harness(pool: PgPool) -> Harness {
    Harness(GitLabApp::start(pool, PATH).await)
}

impl Harness {
    /// Merge request !12 changing `compose.yaml` to [`COMPOSE`], head [`HEAD`].
    fn merge_request(&self) {
        self.fake
            .set_file(PROJECT, HEAD, "compose.yaml", COMPOSE)
            .add_merge_request(
                PROJECT,
                IID,
                (BASE, BASE, HEAD),
                vec![Diff::modified("compose.yaml", COMPOSE_BEFORE, COMPOSE)],
            );
    }

    async fn send(&self, event: &str, token: &str, body: Value) -> StatusCode {
        self.0.send_as(event, token, body, &[]).await
    }

    async fn send_with(
        &self,
        event: &str,
        token: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> StatusCode {
        self.0.send_as(event, token, body, headers).await
    }

    /// Opens [`Harness::merge_request`] and runs its review.
    async fn open_and_review(&self) {
        self.merge_request();
        let open = merge_request_event("open", HEAD, None);
        self.send("Merge Request Hook", SECRET, open).await;
        self.drain().await;
    }

    /// A push to the merge request ([`HEAD2`]) that fixes the worker by hand.
    fn push_worker_fix(&self) {
        let fixed = compose_worker_fixed();
        self.fake
            .set_file(PROJECT, HEAD2, "compose.yaml", fixed.as_str())
            .push(
                PROJECT,
                IID,
                HEAD2,
                vec![Diff::modified("compose.yaml", COMPOSE_BEFORE, &fixed)],
            );
    }

    fn discussions(&self) -> Vec<fake_gitlab::Discussion> {
        self.fake.discussions(PROJECT, IID)
    }

    fn posts(&self, pattern: &str) -> usize {
        let requests = self.fake.requests();
        requests
            .iter()
            .filter(|r| r.method == "POST" && r.path.contains(pattern) && r.status < 300)
            .count()
    }
}

/// GitLab's own merge-request payload, moved to our project, merge request and head.
fn merge_request_event(action: &str, head: &str, oldrev: Option<&str>) -> Value {
    let mut v = fixture("gitlab-merge-request-event.json");
    v["project"]["id"] = PROJECT.into();
    v["project"]["path_with_namespace"] = PATH.into();
    let a = &mut v["object_attributes"];
    a["action"] = action.into();
    a["iid"] = IID.into();
    a["target_project_id"] = PROJECT.into();
    a["source_project_id"] = PROJECT.into();
    a["last_commit"]["id"] = head.into();
    if let Some(old) = oldrev {
        a["oldrev"] = old.into();
    }
    v
}

fn first_body(d: &fake_gitlab::Discussion) -> &str {
    &d.notes[0].body
}

/// Applies a GitLab suggestion (` ```suggestion:-A+B `) made on `new_line` to `text`.
fn apply_suggestion(text: &str, new_line: usize, body: &str) -> String {
    let header = body
        .lines()
        .find(|l| l.starts_with("```suggestion:-"))
        .expect("a suggestion block");
    let (above, below) = header["```suggestion:-".len()..].split_once('+').unwrap();
    let (above, below): (usize, usize) = (above.parse().unwrap(), below.parse().unwrap());
    let start = body.find(header).unwrap() + header.len() + 1;
    let end = start + body[start..].find("\n```").unwrap();
    let replacement: Vec<&str> = body[start..end].lines().collect();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.splice(new_line - 1 - above..new_line + below, replacement);
    lines.join("\n") + "\n"
}

#[sqlx::test]
async fn an_opened_merge_request_gets_one_discussion_per_finding_whose_suggestion_fixes_it(
    pool: PgPool,
) {
    let h = harness(pool).await;
    h.merge_request();
    let status = h.send(
        "Merge Request Hook",
        SECRET,
        merge_request_event("open", HEAD, None),
    );
    assert_eq!(status.await, StatusCode::ACCEPTED);
    h.drain().await;

    let discussions = h.discussions();
    assert_eq!(discussions.len(), 2, "api and worker");
    let mut fixed = COMPOSE.to_string();
    // Bottom first, so the line numbers of the other suggestion still hold.
    let mut by_line: Vec<(usize, &str)> = discussions
        .iter()
        .map(|d| {
            let position = d.position.as_ref().expect("a diff discussion");
            assert_eq!(position["position_type"], "text");
            assert_eq!(position["new_path"], "compose.yaml");
            assert_eq!(position["old_path"], "compose.yaml");
            assert_eq!(position["head_sha"], HEAD);
            assert_eq!(position["base_sha"], BASE);
            assert!(first_body(d).contains("immutabot:fingerprint="));
            let line = position["new_line"].as_u64().unwrap() as usize;
            (line, first_body(d))
        })
        .collect();
    by_line.sort_by_key(|(line, _)| std::cmp::Reverse(*line));
    for (line, body) in by_line {
        fixed = apply_suggestion(&fixed, line, body);
    }
    let report = analyze(
        "compose.yaml",
        fixed.as_bytes(),
        &Config::default(),
        &NoFiles,
    );
    assert!(
        report.findings.is_empty(),
        "after both suggestions:\n{fixed}\n{:#?}",
        report.findings
    );

    let statuses = h.fake.statuses(PROJECT);
    let states: Vec<&str> = statuses.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states.first(), Some(&"pending"));
    assert_eq!(states.last(), Some(&"failed"));
    assert!(
        statuses
            .iter()
            .all(|s| s.name == "immutabot" && s.sha == HEAD)
    );
    assert_eq!(h.fake.notes(PROJECT, IID).len(), 1, "one summary note");
    assert_eq!(count(&h.pool, "select count(*) from checks").await, 1);
}

#[sqlx::test]
async fn a_whole_review_at_trace_level_logs_no_secret(pool: PgPool) {
    let logs = log_capture::capture();
    let h = harness(pool).await;
    // A wrong token first: the refusal must not echo what it compared against.
    let wrong = h
        .send(
            "Merge Request Hook",
            "not-the-secret",
            merge_request_event("open", HEAD, None),
        )
        .await;
    assert_eq!(wrong, StatusCode::UNAUTHORIZED);
    h.open_and_review().await;
    assert_eq!(h.discussions().len(), 2, "the review was posted");

    let log = logs.text();
    // The capture really holds the service's and the dependencies' debug output.
    for target in ["immutabot::", "sqlx::", "reqwest", "hyper"] {
        assert!(log.contains(target), "nothing from {target} was captured");
    }
    assert!(
        h.fake
            .requests()
            .iter()
            .all(|r| r.token.as_deref() == Some(TOKEN)),
        "every GitLab call carried the token"
    );
    log_capture::assert_absent(
        &log,
        &[
            ("GitLab webhook secret", SECRET),
            ("GitLab token", TOKEN),
            ("GitLab token prefix", "glpat-"),
            ("GitHub webhook secret", service::SECRET),
        ],
    );
    let jwts = log_capture::jwt_like(&log);
    assert!(jwts.is_empty(), "JWTs in the logs: {jwts:?}");
}

#[sqlx::test]
async fn a_push_that_fixes_one_finding_resolves_its_discussion_and_repeats_nothing(pool: PgPool) {
    let h = harness(pool).await;
    h.open_and_review().await;
    assert_eq!(h.discussions().len(), 2);

    h.push_worker_fix();
    let update = merge_request_event("update", HEAD2, Some(HEAD));
    assert_eq!(
        h.send("Merge Request Hook", SECRET, update).await,
        StatusCode::ACCEPTED
    );
    h.drain().await;

    let discussions = h.discussions();
    assert_eq!(discussions.len(), 2, "no discussion repeated");
    let worker = discussions
        .iter()
        .find(|d| first_body(d).contains("worker"))
        .unwrap();
    let api = discussions
        .iter()
        .find(|d| first_body(d).contains("`api`"))
        .unwrap();
    assert!(
        worker.resolved,
        "the fixed finding's discussion is resolved"
    );
    assert!(!api.resolved, "the open finding's stays open");
    assert_eq!(
        h.fake.notes(PROJECT, IID).len(),
        1,
        "the summary is edited, not re-posted"
    );
}

#[sqlx::test]
async fn a_fixed_finding_whose_discussion_has_a_human_reply_stays_open(pool: PgPool) {
    let h = harness(pool).await;
    h.open_and_review().await;
    let worker = h
        .discussions()
        .into_iter()
        .find(|d| first_body(d).contains("worker"))
        .unwrap();
    h.fake.reply(
        PROJECT,
        IID,
        &worker.id,
        "alice",
        "It writes to /data on purpose.",
    );

    h.push_worker_fix();
    h.send(
        "Merge Request Hook",
        SECRET,
        merge_request_event("update", HEAD2, Some(HEAD)),
    )
    .await;
    h.drain().await;
    let worker = h
        .discussions()
        .into_iter()
        .find(|d| first_body(d).contains("worker"))
        .unwrap();
    assert!(
        !worker.resolved,
        "a person replied: the discussion is theirs now"
    );
}

#[sqlx::test]
async fn a_wrong_token_gets_401_and_nothing_is_stored(pool: PgPool) {
    let h = harness(pool).await;
    h.merge_request();
    for token in ["wrong", "", "gitlab-webhook-secre"] {
        let status = h.send(
            "Merge Request Hook",
            token,
            merge_request_event("open", HEAD, None),
        );
        assert_eq!(status.await, StatusCode::UNAUTHORIZED, "{token:?}");
    }
    assert_eq!(count(&h.pool, "select count(*) from deliveries").await, 0);
    assert_eq!(count(&h.pool, "select count(*) from jobs").await, 0);
    assert!(h.fake.requests().is_empty());
}

#[sqlx::test]
async fn events_we_do_not_act_on_get_2xx_and_no_gitlab_call(pool: PgPool) {
    let h = harness(pool).await;
    h.merge_request();
    let ignored = [
        (
            "Merge Request Hook",
            fixture("gitlab-merge-request-event-update-title.json"),
        ),
        (
            "Merge Request Hook",
            fixture("gitlab-merge-request-event-update-labels.json"),
        ),
        ("Note Hook", fixture("note_merge_request.json")),
        ("Pipeline Hook", fixture("pipeline.json")),
        (
            "Resource Access Token Hook",
            fixture("resource_access_token_project.json"),
        ),
        (
            "Merge Request Hook",
            merge_request_event("close", HEAD, None),
        ),
    ];
    for (event, body) in ignored {
        let status = h.send(event, SECRET, body).await;
        assert!(status.is_success(), "{event}: {status}");
    }
    h.drain().await;
    assert_eq!(count(&h.pool, "select count(*) from jobs").await, 0);
    assert!(h.fake.requests().is_empty(), "{:?}", h.fake.requests());
}

#[sqlx::test]
async fn server_errors_and_rate_limits_are_retried_into_one_discussion_each(pool: PgPool) {
    let h = harness(pool).await;
    h.merge_request();
    h.fake
        .fail_next(
            "POST",
            "/projects/*/merge_requests/*/discussions",
            Fault::gitlab_error(502),
            1,
        )
        .fail_next(
            "POST",
            "/projects/*/merge_requests/*/discussions",
            Fault::gitlab_rate_limited(1),
            1,
        )
        .fail_next(
            "GET",
            "/projects/*/merge_requests/*/diffs",
            Fault::gitlab_error(500),
            1,
        );
    h.send(
        "Merge Request Hook",
        SECRET,
        merge_request_event("open", HEAD, None),
    )
    .await;
    h.drain().await;
    assert_eq!(h.discussions().len(), 2, "one discussion per finding");
    let refused = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.status == 502 || r.status == 429 || r.status == 500)
        .count();
    assert_eq!(refused, 3, "every fault was met and retried past");
}

#[sqlx::test]
async fn diff_refs_still_null_after_creation_are_waited_for(pool: PgPool) {
    let h = harness(pool).await;
    h.merge_request();
    h.fake.null_diff_refs(PROJECT, IID, 2);
    h.send(
        "Merge Request Hook",
        SECRET,
        merge_request_event("open", HEAD, None),
    )
    .await;
    h.drain().await;
    assert_eq!(h.discussions().len(), 2);
}

#[sqlx::test]
async fn a_delivered_twice_merge_request_is_reviewed_once(pool: PgPool) {
    let h = harness(pool).await;
    h.merge_request();
    for _ in 0..3 {
        let status = h.send(
            "Merge Request Hook",
            SECRET,
            merge_request_event("open", HEAD, None),
        );
        assert!(status.await.is_success());
    }
    h.drain().await;
    assert_eq!(count(&h.pool, "select count(*) from jobs").await, 1);
    assert_eq!(h.discussions().len(), 2);
    assert_eq!(h.posts("/discussions"), 2);
}

#[sqlx::test]
async fn a_resent_event_is_recorded_once_by_its_idempotency_key(pool: PgPool) {
    let h = harness(pool).await;
    h.merge_request();
    let event = || merge_request_event("open", HEAD, None);
    let first = [
        ("idempotency-key", "key-1"),
        ("x-gitlab-event-uuid", "uuid-1"),
    ];
    // GitLab's resend keeps the key; our dedupe must not depend on the event UUID alone.
    let again = [
        ("idempotency-key", "key-1"),
        ("x-gitlab-event-uuid", "uuid-2"),
    ];
    let other = [("x-gitlab-event-uuid", "uuid-3")];
    let hook = "Merge Request Hook";
    assert_eq!(
        h.send_with(hook, SECRET, event(), &first).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        h.send_with(hook, SECRET, event(), &again).await,
        StatusCode::OK
    );
    assert_eq!(
        h.send_with(hook, SECRET, event(), &other).await,
        StatusCode::OK
    );
    let guids: Vec<(String, Option<String>)> =
        sqlx::query_as("select guid, detail from deliveries order by guid")
            .fetch_all(&h.pool)
            .await
            .unwrap();
    assert_eq!(
        guids,
        [
            ("gitlab:key-1".to_string(), None),
            (
                "gitlab:uuid-3".to_string(),
                Some("already queued".to_string())
            ),
        ]
    );
    assert_eq!(
        count(&h.pool, "select count(*) from jobs").await,
        1,
        "the same head: one job"
    );
}

#[sqlx::test]
async fn a_push_to_the_default_branch_fills_the_groups_report(pool: PgPool) {
    let h = harness(pool).await;
    h.commit(HEAD, &[("compose.yaml", COMPOSE), ("README.md", "hello\n")]);
    h.push(HEAD).await;

    // The project is in group `acme/payments`; `acme`'s report includes its subgroups.
    let report = immutabot::report::queries::owner_report(&h.pool, "acme", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(report.summary.repositories, 1);
    assert_eq!(report.summary.scanned_repositories, 1);
    assert_eq!(report.summary.counts.units, 3);
    assert_eq!(report.summary.counts.read_only, 1);
    assert_eq!(report.summary.counts.writable, 2);
    assert_eq!(report.repositories[0].name, "payments/shop");

    // `immutabot scan acme` and the periodic rescan know the project too.
    let one = immutabot::scan::enqueue::by_name(&h.pool, "acme/payments", Some("shop"))
        .await
        .unwrap();
    assert_eq!(one.len(), 1, "the project by its full path");
    let queued = immutabot::scan::enqueue::by_name(&h.pool, "acme", None)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].repo, PATH);
    assert_eq!(queued[0].job, None, "the same scan is already pending");
    let again = immutabot::scan::enqueue::stale(&h.pool, Duration::ZERO)
        .await
        .unwrap();
    assert!(again.is_empty(), "a scan of it is pending: {again:?}");
    h.drain().await;
    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'done'").await,
        2,
        "the rescan of the default branch's head ran (and found it scanned)"
    );

    let web = immutabot::report::queries::WebRoots {
        github: "https://github.com",
        gitlab: Some("https://gitlab.example.com"),
    };
    let repo = immutabot::report::queries::repository_report(&h.pool, "acme", "payments/shop", web)
        .await
        .unwrap();
    let urls: Vec<&str> = repo.writable_units.iter().map(|u| u.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            format!("https://gitlab.example.com/{PATH}/-/blob/{HEAD}/compose.yaml#L5"),
            format!("https://gitlab.example.com/{PATH}/-/blob/{HEAD}/compose.yaml#L9"),
        ]
    );
}

#[sqlx::test]
async fn a_merge_request_changing_a_charts_values_renders_it_into_the_summary(pool: PgPool) {
    let h = harness(pool).await;
    let values = "charts/hello-world/values.yaml";
    for (path, bytes) in tools::shared_files("charts/hello-world", "charts/hello-world") {
        h.fake.set_file(PROJECT, HEAD, &path, bytes);
    }
    let before = std::fs::read_to_string(tools::shared("charts/hello-world/values.yaml")).unwrap();
    let after = before.replace("replicaCount: 1", "replicaCount: 2");
    h.fake
        .set_file(PROJECT, HEAD, values, after.as_str())
        .add_merge_request(
            PROJECT,
            IID,
            (BASE, BASE, HEAD),
            vec![Diff::modified(values, &before, &after)],
        );
    let open = merge_request_event("open", HEAD, None);
    assert_eq!(
        h.send("Merge Request Hook", SECRET, open).await,
        StatusCode::ACCEPTED
    );
    h.drain().await;

    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'done'").await,
        1
    );
    let notes = h.fake.notes(PROJECT, IID);
    assert_eq!(notes.len(), 1, "one summary note");
    let summary = &notes[0].body;
    assert!(
        summary.contains("charts/hello-world/templates/deployment.yaml")
            && summary.contains("writable-root-filesystem"),
        "the rendered container's finding, on its template:\n{summary}"
    );
    // A discussion only on a line the merge request changed (values.yaml line 5).
    for d in h.discussions() {
        let position = d.position.as_ref().expect("a diff discussion");
        assert_eq!(
            (position["new_path"].as_str(), position["new_line"].as_u64()),
            (Some(values), Some(5))
        );
    }
    let units: i32 = sqlx::query_scalar("select units from checks")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(units, 1, "the chart's one container, rendered once");
}

/// Names a repository may hold that are special in a URL or a shell.
const ODD_NAMES: [&str; 9] = [
    "deploy/with space.yaml",
    "deploy/ünïcödé-✓.yaml",
    "deploy/a#b.yaml",
    "deploy/a?b=c&d.yaml",
    "deploy/100%.yaml",
    "deploy/50%25.yaml",
    "deploy/a+b.yaml",
    "deploy/semi;colon'quote\".yaml",
    "deploy/a/../evil.yaml",
];

#[sqlx::test]
async fn odd_file_names_are_fetched_as_named_and_a_traversal_or_a_huge_file_costs_one_note(
    pool: PgPool,
) {
    let h = harness(pool).await;
    let mut diffs = Vec::new();
    for path in ODD_NAMES {
        h.fake.set_file(PROJECT, HEAD, path, COMPOSE);
        diffs.push(Diff::added(path, COMPOSE));
    }
    // 50 MB: more than one answer may hold (16 MiB).
    let big = format!("# {}\n{COMPOSE}", "x".repeat(50 * 1024 * 1024));
    h.fake.set_file(PROJECT, HEAD, "big.yaml", big.as_str());
    diffs.push(Diff::added("big.yaml", "# a large file\n"));
    h.fake
        .add_merge_request(PROJECT, IID, (BASE, BASE, HEAD), diffs);
    let open = merge_request_event("open", HEAD, None);
    assert_eq!(
        h.send("Merge Request Hook", SECRET, open).await,
        StatusCode::ACCEPTED
    );
    h.drain().await;

    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'done'").await,
        1
    );
    let discussed: std::collections::BTreeSet<String> = h
        .discussions()
        .iter()
        .filter_map(|d| {
            d.position.as_ref()?["new_path"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let expected: std::collections::BTreeSet<String> =
        ODD_NAMES[..8].iter().map(|p| p.to_string()).collect();
    assert_eq!(discussed, expected, "each file fetched by its own name");
    let notes = h.fake.notes(PROJECT, IID);
    let summary = &notes[0].body;
    assert!(
        summary.contains("evil.yaml") && summary.contains("unsafe file path"),
        "{summary}"
    );
    assert!(
        summary.contains("big.yaml") && summary.contains("larger than"),
        "{summary}"
    );
    assert!(!summary.contains("could not be read"), "{summary}");
}

#[sqlx::test]
async fn urls_in_a_gitlab_payload_are_never_followed(pool: PgPool) {
    let h = harness(pool).await;
    h.merge_request();
    let trap = service::Tripwire::start().await;
    let mut open = merge_request_event("open", HEAD, None);
    trap.aim(&mut open, &["http://", "https://"]);
    assert!(open.to_string().contains(&trap.url));
    assert_eq!(
        h.send("Merge Request Hook", SECRET, open).await,
        StatusCode::ACCEPTED
    );
    h.drain().await;

    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'done'").await,
        1
    );
    assert!(
        !h.discussions().is_empty(),
        "reviewed through the configured API"
    );
    assert_eq!(
        trap.connections(),
        0,
        "no connection to where the payload pointed"
    );
}

#[sqlx::test]
async fn oversize_and_malformed_bodies_get_a_clear_4xx_are_recorded_and_lose_nothing(pool: PgPool) {
    let h = harness(pool).await;
    let post = |body: Vec<u8>, key: Option<&str>| {
        let mut r = Request::post("/webhooks/gitlab")
            .header("content-type", "application/json")
            .header("x-gitlab-event", "Merge Request Hook")
            .header("x-gitlab-token", SECRET);
        if let Some(k) = key {
            r = r.header("idempotency-key", k);
        }
        r.body(Body::from(body)).unwrap()
    };
    let answer = |req: Request<Body>| {
        let router = h.router.clone();
        async move {
            let res = router.oneshot(req).await.unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let (status, _) = answer(post(vec![b' '; 26 * 1024 * 1024], None)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let good = serde_json::to_vec(&merge_request_event("open", HEAD, None)).unwrap();
    let mut deep = "[".repeat(100_000).into_bytes();
    deep.extend("]".repeat(100_000).bytes());
    let mut wrong_types = merge_request_event("open", HEAD, None);
    wrong_types["object_attributes"]["iid"] = "twelve".into();
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        ("k-cut", good[..good.len() / 2].to_vec()),
        ("k-text", b"not json at all".to_vec()),
        ("k-deep", deep),
        ("k-types", serde_json::to_vec(&wrong_types).unwrap()),
        ("k-binary", vec![0xff, 0xfe, 0x00, 0x01]),
    ];
    for (key, body) in malformed {
        let (status, text) = answer(post(body, Some(key))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}: {text}");
        assert!(!text.trim().is_empty(), "{key}: says why");
    }
    // The same broken body without a key twice: recorded once.
    for _ in 0..2 {
        let (status, _) = answer(post(b"{".to_vec(), None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from deliveries where outcome = 'invalid'"
        )
        .await,
        6
    );
    // And the work behind them still flows.
    h.open_and_review().await;
    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'done'").await,
        1
    );
}
