//! Exemptions that expire, and `review.fail_on: new`, as a team meets them: the CLI with a
//! fixed `--today`, scans and the report through the real router and Postgres, and pull
//! requests reviewed by the real worker against the fake GitHub.

#[path = "support/app.rs"]
mod app;
#[path = "support/fake_github/mod.rs"]
mod fake_github;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;
#[path = "support/tools.rs"]
mod tools;

use app::App;
use chrono::{Duration, Utc};
use serde_json::Value;
use sqlx::PgPool;
use std::path::Path;
use std::process::Command;

const C1: &str = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";

/// A Compose service exempted by a comment until `date`.
fn comment_exempt(date: &str) -> String {
    format!(
        "services:\n  # immutabot:ignore all expires={date} legacy uploader, read-only in OPS-7\n  web:\n    image: nginx:1.27\n"
    )
}

/// A Deployment whose container `app` the annotations exempt until `date`.
fn annotation_exempt(date: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    immutabot.dev/exempt-containers: app
    immutabot.dev/exempt-reason: vendor image writes /opt/cache
    immutabot.dev/exempt-expires: \"{date}\"
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/api:1.0
"
    )
}

/// A Compose service `worker`, exempted by `.immutabot.yml` until `date`.
const WORKER: &str = "services:\n  worker:\n    image: ghcr.io/acme/worker:2.1\n";

fn config_exempt(date: &str) -> String {
    format!(
        "exempt:\n  - container: worker\n    reason: batch job, moves to a read-only image in Q1\n    expires: {date}\n"
    )
}

// ---------------------------------------------------------------------------------------
// The command line, on a fixed day.

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn check(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .arg("check")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A repository with the three forms of exemption, each with its last day on 2026-12-31.
fn exempted_repository() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join(".git")).unwrap();
    let write = |rel: &str, text: &str| std::fs::write(t.path().join(rel), text).unwrap();
    write("compose.yml", &comment_exempt("2026-12-31"));
    write("worker.compose.yml", WORKER);
    write("api.yaml", &annotation_exempt("2026-12-31"));
    write(".immutabot.yml", &config_exempt("2026-12-31"));
    t
}

#[test]
fn exemptions_hold_through_their_last_day_in_the_cli() {
    let repo = exempted_repository();
    let run = check(repo.path(), &["--today", "2026-12-31", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 3, "{}", v["summary"]);
    assert_eq!(v["summary"]["findings"], 0);
    let kinds: Vec<(&str, &str)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .filter(|f| f["rule"] == "writable-root-filesystem")
        .map(|f| {
            (
                f["suppressed"]["kind"].as_str().unwrap(),
                f["suppressed"]["expires"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("annotation", "2026-12-31"),
            ("comment", "2026-12-31"),
            ("config", "2026-12-31")
        ]
    );
}

#[test]
fn an_expired_exemption_un_suppresses_its_finding_in_the_cli_and_says_which_one() {
    let repo = exempted_repository();
    let run = check(repo.path(), &["--today", "2027-01-01"]);
    assert_eq!(run.code, 1, "the findings fail again: {}", run.stderr);
    insta::assert_snapshot!("exemptions_expired_cli_text", run.stdout);

    let json = check(repo.path(), &["--today", "2027-01-01", "--format", "json"]);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 0);
    let expired: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .filter_map(|f| f["expired"]["kind"].as_str())
        .collect();
    assert_eq!(expired, ["annotation", "comment", "config"]);
}

#[test]
fn a_malformed_expiry_date_is_a_clear_error_not_ignored() {
    let repo = exempted_repository();
    std::fs::write(
        repo.path().join(".immutabot.yml"),
        config_exempt("2026-02-30"),
    )
    .unwrap();
    let run = check(repo.path(), &["--today", "2026-01-01"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("4:14: `expires` in an `exempt` entry: `2026-02-30` is not a date: write it as YYYY-MM-DD"),
        "{}",
        run.stderr
    );

    std::fs::remove_file(repo.path().join(".immutabot.yml")).unwrap();
    std::fs::write(
        repo.path().join("compose.yml"),
        comment_exempt("31.12.2026"),
    )
    .unwrap();
    std::fs::write(repo.path().join("api.yaml"), annotation_exempt("soon")).unwrap();
    let run = check(repo.path(), &["--today", "2026-01-01"]);
    assert_eq!(run.code, 1, "neither suppresses: {}", run.stdout);
    assert!(
        run.stdout
            .contains("its `expires=` is wrong, so it is not honoured: `31.12.2026` is not a date"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "`immutabot.dev/exempt-expires` is wrong, so it is not honoured: `soon` is not a date"
        ),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------
// Scans and the report.

fn day(offset: i64) -> String {
    (Utc::now().date_naive() + Duration::days(offset)).to_string()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_scan_un_suppresses_an_expired_exemption_and_the_report_lists_every_exemption(
    pool: PgPool,
) {
    let app = App::start(pool).await;
    let expired = day(-3);
    let soon = day(12);
    let later = day(200);
    app.commit(
        C1,
        &[
            ("compose.yml", &comment_exempt(&expired)),
            ("deploy/api.yaml", &annotation_exempt(&soon)),
            ("worker.compose.yml", WORKER),
            (".immutabot.yml", &config_exempt(&later)),
        ],
    );
    app.install().await;

    let states: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select workload, state, exempt_kind from unit_states where valid_to is null order by workload",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        states,
        [
            (
                "Deployment/api".into(),
                "suppressed".into(),
                Some("annotation".into())
            ),
            ("web".into(), "false".into(), Some("comment".into())),
            ("worker".into(), "suppressed".into(), Some("config".into())),
        ],
        "the expired comment no longer suppresses `web`"
    );

    let token = app.token().await;
    let json = app.get("/api/report/Codertocat", &token).await;
    assert_eq!(json.status, 200, "{}", json.body);
    let v: Value = serde_json::from_str(&json.body).unwrap();
    let list: Vec<(&str, &str, &str, &str, &str)> = v["exemptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["workload"].as_str().unwrap(),
                e["kind"].as_str().unwrap(),
                e["reason"].as_str().unwrap(),
                e["expires"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        list,
        [
            (
                "web",
                "comment",
                "legacy uploader, read-only in OPS-7",
                expired.as_str(),
                "expired"
            ),
            (
                "Deployment/api",
                "annotation",
                "vendor image writes /opt/cache",
                soon.as_str(),
                "expiring"
            ),
            (
                "worker",
                "config",
                "batch job, moves to a read-only image in Q1",
                later.as_str(),
                "active"
            ),
        ],
        "soonest first"
    );
    assert_eq!(v["exemptions"][1]["days_left"], 12);
    assert_eq!(v["exemptions"][1]["owners"], serde_json::json!([]));
    assert_eq!(v["exemptions"][0]["repository"], "Hello-World");

    let page = app.get("/report/Codertocat", &token).await;
    assert_eq!(page.status, 200);
    let section = &page.body[page.body.find("id=\"exemptions\"").expect("the list")..];
    assert!(section.contains("1 expiring within 30 days"), "{section}");
    assert!(section.contains("1 expired"), "{section}");
    assert!(section.contains("expires in 12 days"), "{section}");
    assert!(section.contains("expired 3 days ago"), "{section}");
    assert!(
        section.contains("Hello-World: deploy/api.yaml:"),
        "{section}"
    );

    let repo = app.get("/report/Codertocat/Hello-World", &token).await;
    assert_eq!(repo.status, 200);
    assert!(repo.body.contains("id=\"exemptions\""));
    assert!(
        repo.body.contains(&format!(
            "href=\"https://github.com/Codertocat/Hello-World/blob/{C1}/compose.yml#L3\""
        )),
        "a link to the exempted unit"
    );
    let repo_json = app.get("/api/report/Codertocat/Hello-World", &token).await;
    let v: Value = serde_json::from_str(&repo_json.body).unwrap();
    assert_eq!(v["exemptions"].as_array().unwrap().len(), 3);
    assert!(
        v["exemptions"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("compose.yml#L3")
    );
}

// ---------------------------------------------------------------------------------------
// Pull requests.

const WRITABLE: &str = "services:\n  web:\n    image: nginx:1.27\n";
/// The writable service gets a port: the file changes, the unit was writable before.
const WRITABLE_TOUCHED: &str = "services:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n";
/// Every finding of a changed file counts as part of the change, so the gate decides.
const WHOLE_FILE: &str = "review:\n  filter: file\n";
const WRITABLE_PLUS_ONE: &str =
    "services:\n  web:\n    image: nginx:1.27\n  cache:\n    image: redis:7\n";

async fn review(
    pool: PgPool,
    config: Option<&str>,
    before: Option<&str>,
    after: &str,
) -> app::CheckRun {
    let app = App::start(pool).await;
    if let Some(c) = config {
        app.files_at(app::BASE, &[(".immutabot.yml", c)]);
    }
    app.pull_request("compose.yml", before, after);
    app.open().await;
    app.check_run()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn fail_on_new_passes_a_pull_request_that_only_touches_an_already_writable_file(
    pool: PgPool,
) {
    let gate = format!("{WHOLE_FILE}  fail_on: new\n");
    let run = review(pool, Some(&gate), Some(WRITABLE), WRITABLE_TOUCHED).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        run.summary
    );
    assert_eq!(run.annotations.len(), 1);
    let a = &run.annotations[0];
    assert_eq!(a["annotation_level"], "notice");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("Already on the base branch: this pull request did not introduce it"),
        "{a}"
    );
    insta::assert_snapshot!("exemptions_fail_on_new_pre_existing_summary", run.summary);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn fail_on_new_fails_a_pull_request_that_adds_a_writable_unit(pool: PgPool) {
    let gate = "review:\n  fail_on: new\n";
    let run = review(pool, Some(gate), Some(WRITABLE), WRITABLE_PLUS_ONE).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.starts_with(
            "**Failed:** this pull request introduces 1 finding at severity `error` or above."
        ),
        "{}",
        run.summary
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn by_default_a_touched_writable_file_fails_as_it_always_did(pool: PgPool) {
    let run = review(pool, Some(WHOLE_FILE), Some(WRITABLE), WRITABLE_TOUCHED).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{}",
        run.summary
    );
    assert!(!run.summary.contains("base branch"), "{}", run.summary);
}

/// A pull request that only raises the replica count of a chart that already ran writable.
async fn review_chart(pool: PgPool, config: &str) -> app::CheckRun {
    let app = App::start(pool).await;
    let values = "charts/hello-world/values.yaml";
    let mut before = String::new();
    for (path, bytes) in tools::shared_files("charts/hello-world", "charts/hello-world") {
        if path == values {
            before = String::from_utf8(bytes.clone()).unwrap();
        }
        let text = String::from_utf8(bytes).unwrap();
        app.files_at(app::BASE, &[(&path, &text)]);
        app.files_at(app::HEAD, &[(&path, &text)]);
    }
    app.files_at(app::BASE, &[(".immutabot.yml", config)]);
    let after = before.replace("replicaCount: 1", "replicaCount: 2");
    assert_ne!(after, before);
    app.pull_request(values, Some(&before), &after);
    app.open().await;
    app.check_run()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn without_the_gate_a_touched_writable_chart_fails(pool: PgPool) {
    let run = review_chart(pool, WHOLE_FILE).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{}",
        run.summary
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn fail_on_new_renders_a_touched_chart_at_the_base_too(pool: PgPool) {
    let gate = format!("{WHOLE_FILE}  fail_on: new\n");
    let run = review_chart(pool, &gate).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        run.summary
    );
    assert!(
        run.annotations.iter().any(|a| a["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Already on the base branch")),
        "{:#?}\n{}",
        run.annotations,
        run.summary
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_review_summary_lists_the_exemptions_a_pull_request_adds(pool: PgPool) {
    let before = "services:
  # immutabot:ignore all expires=2099-01-31 legacy uploader, read-only in OPS-7
  web:
    image: nginx:1.27
  # immutabot:ignore all expires=2099-06-30 shared volume, OPS-3
  db:
    image: postgres:17
";
    // `web` keeps its exemption, `db`'s is renewed, `cache` and `tmp` are new.
    let after = format!(
        "{}  # immutabot:ignore writable-root-filesystem expires=2099-03-31 third-party image, SEC-12\n  cache:\n    image: redis:7\n  # immutabot:ignore all nobody will ever fix this\n  tmp:\n    image: busybox\n",
        before.replace("2099-06-30", "2099-12-31")
    );
    let run = review(pool, None, Some(before), &after).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        run.summary
    );
    insta::assert_snapshot!("exemptions_added_by_a_pull_request_summary", run.summary);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn an_expired_exemption_fails_the_review_again(pool: PgPool) {
    // A new file whose exemption lapsed long ago: it suppresses nothing.
    let run = review(pool, None, None, &comment_exempt("2001-01-31")).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{}",
        run.summary
    );
}
