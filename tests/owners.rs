//! Ownership and time to fix, end to end: CODEOWNERS read by real scans through the fake
//! GitHub decides the per-team figures, the team filter narrows the owner's report (page,
//! JSON, CSV, `immutabot report --team`), and a hand-seeded unit history gives known
//! medians, 90th percentiles and overdue units.

// Both fakes share the diff and fault helpers, as in tests/faults.rs.
#![allow(clippy::duplicate_mod)]

#[path = "support/app.rs"]
mod app;
#[path = "support/fake_github/mod.rs"]
mod fake_github;
#[path = "support/fake_gitlab/mod.rs"]
mod fake_gitlab;
#[path = "support/gitlab_app.rs"]
mod gitlab_app;
#[path = "support/manifests.rs"]
mod manifests;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;
#[path = "support/tools.rs"]
mod tools;

use app::{App, REPO_ID};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use immutabot::auth::tokens;
use manifests::COMPOSE;
use serde_json::{Value, json};
use service::Answer;
use sqlx::PgPool;

const C1: &str = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
const C2: &str = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";

fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/{name}:1\n"
    )
}

/// Platform owns everything, ops the deploy folder but web's file (the last match wins),
/// `legacy/` is left without an owner, and one line names no valid owner.
const CODEOWNERS: &str = "\
*                   @acme/platform
/deploy/            @acme/ops
/deploy/web.yaml    @acme/web
/legacy/
/broken/            not-an-owner
";

async fn get(app: &axum::Router, uri: &str, token: &str) -> Answer {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    service::send(app, req).await
}

async fn json_of(app: &axum::Router, uri: &str, token: &str) -> Value {
    let a = get(app, uri, token).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

/// The text of the table with this id, one line per row, cells separated by ` | `.
fn table_text(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let end = start + html[start..].find("</table>").unwrap();
    let table = &html[start..end];
    let mut out = String::new();
    for row in table.split("<tr").skip(1) {
        let cells: Vec<String> = row
            .replace("</th>", "</td>")
            .split("</td>")
            .map(|cell| {
                strip_tags(cell)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|t| !t.is_empty())
            .collect();
        out.push_str(&cells.join(" | "));
        out.push('\n');
    }
    out.replace("&#x2f;", "/").replace("&#x40;", "@")
}

/// The text of an HTML fragment, tags left out.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

async fn scanned(pool: PgPool) -> (App, String) {
    let h = App::start(pool).await;
    h.commit(
        C1,
        &[
            (".github/CODEOWNERS", CODEOWNERS),
            ("deploy/web.yaml", &deployment("web")),
            ("deploy/api.yaml", &deployment("api")),
            ("compose.yaml", COMPOSE),
            ("legacy/old.yaml", &deployment("old")),
        ],
    );
    h.install().await;
    let token = tokens::create(&h.pool, "codertocat", None)
        .await
        .unwrap()
        .token;
    (h, token)
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn codeowners_decides_the_team_figures(pool: PgPool) {
    let (h, token) = scanned(pool).await;
    let v = json_of(&h.router, "/api/report/codertocat", &token).await;
    let teams: Vec<(String, i64, i64, i64)> = v["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["team"].as_str().unwrap().to_string(),
                t["units"].as_i64().unwrap(),
                t["writable"].as_i64().unwrap(),
                t["repositories"].as_i64().unwrap(),
            )
        })
        .collect();
    let row = |t: &str, u, w| (t.to_string(), u, w, 1);
    assert_eq!(
        teams,
        [
            row("@acme/ops", 1, 1),
            row("@acme/platform", 2, 1),
            row("@acme/web", 1, 1),
            row("(no owner)", 1, 1),
        ],
        "most writable first, (no owner) last among equals"
    );
    assert_eq!(v["team"], Value::Null);
    assert_eq!(
        v["repositories"][0]["owners"],
        json!(["@acme/ops", "@acme/platform", "@acme/web"])
    );

    // The line that did not parse is on the scan, with its number.
    let (note,): (Option<String>,) =
        sqlx::query_as("select error from scans where repository_id = $1")
            .bind(REPO_ID)
            .fetch_one(&h.pool)
            .await
            .unwrap();
    let note = note.unwrap_or_default();
    assert!(
        note.contains(".github/CODEOWNERS line 5: `not-an-owner` is not an owner"),
        "{note}"
    );

    let page = get(&h.router, "/report/codertocat", &token).await;
    assert_eq!(page.status, StatusCode::OK);
    insta::assert_snapshot!("team_table", table_text(&page.body, "teams"));
    assert!(
        page.body
            .contains(r#"<a href="?team=%40acme%2Fops">@acme/ops</a>"#),
        "{}",
        page.body
    );

    // Units carry their owners.
    let r = json_of(&h.router, "/api/report/codertocat/hello-world", &token).await;
    let owners: Vec<(String, Value)> = r["writable_units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["path"].as_str().unwrap().to_string(), u["owners"].clone()))
        .collect();
    assert_eq!(
        owners,
        [
            ("compose.yaml".to_string(), json!(["@acme/platform"])),
            ("deploy/api.yaml".to_string(), json!(["@acme/ops"])),
            ("deploy/web.yaml".to_string(), json!(["@acme/web"])),
            ("legacy/old.yaml".to_string(), json!([])),
        ]
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_team_filter_narrows_the_page_the_json_and_the_csv(pool: PgPool) {
    let (h, token) = scanned(pool).await;
    let v = json_of(
        &h.router,
        "/api/report/codertocat?team=@ACME/platform",
        &token,
    )
    .await;
    assert_eq!(v["team"], "@ACME/platform");
    let s = &v["summary"];
    assert_eq!(
        (&s["units"], &s["read_only"], &s["writable"]),
        (&json!(2), &json!(1), &json!(1))
    );
    assert_eq!(v["teams"].as_array().unwrap().len(), 1);
    assert_eq!(v["teams"][0]["team"], "@acme/platform");
    assert_eq!(v["repositories"][0]["units"], 2);

    let none = json_of(
        &h.router,
        "/api/report/codertocat?team=(no%20owner)",
        &token,
    )
    .await;
    assert_eq!(none["summary"]["units"], 1);
    let nobody = json_of(
        &h.router,
        "/api/report/codertocat?team=@acme/nobody",
        &token,
    )
    .await;
    assert_eq!(nobody["repositories"], json!([]));
    assert_eq!(nobody["summary"]["units"], 0);

    let csv = get(
        &h.router,
        "/report/codertocat.csv?team=%40acme%2Fops",
        &token,
    )
    .await;
    let lines: Vec<&str> = csv.body.split_terminator("\r\n").collect();
    assert!(lines[0].ends_with(",owners"));
    assert!(
        lines[1].starts_with("Codertocat,Hello-World,false,1,0,0,1,0,0.0000,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",'@acme/ops @acme/platform @acme/web"),
        "{}",
        lines[1]
    );

    let page = get(&h.router, "/report/codertocat?team=%40acme%2Fops", &token).await;
    assert!(
        page.body.contains(r#"<strong id="team-filter">"#),
        "the page says it is narrowed"
    );
    assert_eq!(
        table_text(&page.body, "teams").lines().count(),
        2,
        "the header and ops"
    );

    let bad = get(&h.router, "/api/report/codertocat?team=%07", &token).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_codeowners_change_alone_re_tags_the_current_units(pool: PgPool) {
    let (h, token) = scanned(pool).await;
    let files = [
        (
            ".github/CODEOWNERS",
            "* @acme/platform\n/deploy/ @acme/sre\n".to_string(),
        ),
        ("deploy/web.yaml", deployment("web")),
        ("deploy/api.yaml", deployment("api")),
        ("compose.yaml", COMPOSE.to_string()),
        ("legacy/old.yaml", deployment("old")),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    h.commit(C2, &files);
    h.push("push-1", C2).await;

    let v = json_of(&h.router, "/api/report/codertocat", &token).await;
    let teams: Vec<(&str, i64)> = v["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["team"].as_str().unwrap(), t["units"].as_i64().unwrap()))
        .collect();
    assert_eq!(teams, [("@acme/platform", 3), ("@acme/sre", 2)]);
    // New row versions for the re-tagged units only, and their writable time goes on.
    let (versions, current): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where valid_to is null) from unit_states where repository_id = $1",
    )
    .bind(REPO_ID)
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        (versions, current),
        (5 + 3, 5),
        "web, api and old changed owners"
    );
    let (first,): (i64,) = sqlx::query_as(
        "select count(distinct valid_from_scan) from unit_states
          where repository_id = $1 and valid_to is null and path = 'compose.yaml'",
    )
    .bind(REPO_ID)
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(first, 1);
    // Writable time is counted per team as of the latest owners.
    let by_team: Vec<&str> = v["time_to_fix"]["by_team"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["team"].as_str().unwrap())
        .collect();
    assert_eq!(by_team, ["@acme/platform", "@acme/sre"]);
    assert_eq!(v["overdue_units"], json!([]));
}

/// A seeded unit row: key, state, owners, severity, valid from (scan, days ago), valid to
/// (scan, days ago).
type SeedRow = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
    i64,
    i64,
    Option<(i64, i64)>,
);

/// `now - days`, for the seeded history.
fn ago(now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    now - Duration::days(days)
}

/// A history whose time-to-fix figures are known (days before now):
///
/// | unit | history                                              | owners            | severity |
/// |------|------------------------------------------------------|-------------------|----------|
/// | a    | writable 100 → read-only 90                          | @acme/ops         | error    |
/// | b    | writable 100 → read-only 40                          | @acme/ops         | error    |
/// | c    | writable 100 (no owner), re-tagged 90, read-only 1   | @acme/web         | error    |
/// | d    | writable since 40                                    | @acme/ops         | warning  |
/// | e    | writable since 1                                     | (none)            | error    |
/// | f    | writable 100 → suppressed 90: not a fix              |                   | error    |
/// | g    | writable 100 → deleted 40: not a fix                 |                   | error    |
async fn seed_history(pool: &PgPool) -> DateTime<Utc> {
    let now = Utc::now();
    let t = |d| ago(now, d);
    sqlx::query("insert into installations (id, account_login) values (1, 'Acme')")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into repositories (id, installation_id, owner, name, default_branch, private)
         values (10, 1, 'Acme', 'shop', 'main', false)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into scans (id, repository_id, commit_sha, state, finished_at, units, read_only, suppressed, writable)
         values (100, 10, 's100', 'done', $1, 6, 0, 0, 6), (101, 10, 's90', 'done', $2, 6, 1, 1, 4),
                (102, 10, 's40', 'done', $3, 6, 2, 1, 3), (103, 10, 's1', 'done', $4, 6, 3, 1, 2)",
    )
    .bind(t(100))
    .bind(t(90))
    .bind(t(40))
    .bind(t(1))
    .execute(pool)
    .await
    .unwrap();
    let rows: [SeedRow; 14] = [
        (
            "a",
            "false",
            &["@acme/ops"],
            Some("error"),
            100,
            100,
            Some((101, 90)),
        ),
        ("a", "true", &["@acme/ops"], None, 101, 90, None),
        (
            "b",
            "false",
            &["@acme/ops"],
            Some("error"),
            100,
            100,
            Some((102, 40)),
        ),
        ("b", "true", &["@acme/ops"], None, 102, 40, None),
        ("c", "false", &[], Some("error"), 100, 100, Some((101, 90))),
        (
            "c",
            "false",
            &["@acme/web"],
            Some("error"),
            101,
            90,
            Some((103, 1)),
        ),
        ("c", "true", &["@acme/web"], None, 103, 1, None),
        ("d", "false", &["@acme/ops"], Some("warning"), 102, 40, None),
        ("e", "false", &[], Some("error"), 103, 1, None),
        ("f", "false", &[], Some("error"), 100, 100, Some((101, 90))),
        ("f", "suppressed", &[], None, 101, 90, None),
        ("g", "false", &[], Some("error"), 100, 100, Some((102, 40))),
        // A unit read-only from the start never counts.
        ("h", "true", &["@acme/ops"], None, 100, 100, Some((103, 1))),
        ("h", "true", &["@acme/ops"], None, 103, 1, None),
    ];
    for (key, state, owners, severity, from_scan, from, to) in rows {
        sqlx::query(
            "insert into unit_states (repository_id, unit_key, path, line, workload, state,
                 owners, severity, valid_from_scan, valid_from, valid_to_scan, valid_to)
             values (10, $1, $1 || '.yaml', 1, $1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key)
        .bind(state)
        .bind(owners)
        .bind(severity)
        .bind(from_scan)
        .bind(t(from))
        .bind(to.map(|(s, _)| s))
        .bind(to.map(|(_, d)| t(d)))
        .execute(pool)
        .await
        .unwrap();
    }
    now
}

fn hours(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(v: &Value, expected: f64) {
    assert!((hours(v) - expected).abs() < 1e-6, "{v} != {expected}");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn time_to_fix_has_known_medians_percentiles_and_overdue_units(pool: PgPool) {
    seed_history(&pool).await;
    let token = tokens::create(&pool, "acme", None).await.unwrap().token;
    let app = service::router(service::state(pool.clone()));
    let v = json_of(&app, "/api/report/acme", &token).await;
    let t = &v["time_to_fix"];
    assert_eq!(t["target_days"], 30);

    // Errors: a (10 days), b (60), c (99, across its re-tag) are fixed; f and g are not.
    let error = &t["by_severity"][0];
    assert_eq!(
        (&error["severity"], &error["fixed"], &error["overdue"]),
        (&json!("error"), &json!(3), &json!(0))
    );
    close(&error["median_hours"], 60.0 * 24.0);
    close(&error["p90_hours"], 1440.0 + (2376.0 - 1440.0) * 0.8);
    let warning = &t["by_severity"][1];
    assert_eq!(
        (&warning["fixed"], &warning["overdue"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(warning["median_hours"], Value::Null);

    let team = |name: &str| {
        t["by_team"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["team"] == name)
            .unwrap_or_else(|| panic!("no {name} in {t}"))
            .clone()
    };
    let ops = team("@acme/ops");
    assert_eq!((&ops["fixed"], &ops["overdue"]), (&json!(2), &json!(1)));
    close(&ops["median_hours"], (240.0 + 1440.0) / 2.0);
    close(&ops["p90_hours"], 240.0 + 1200.0 * 0.9);
    close(&team("@acme/web")["median_hours"], 99.0 * 24.0);
    assert_eq!(team("(no owner)")["fixed"], 0);

    let overdue = v["overdue_units"].as_array().unwrap();
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(
        (
            &overdue[0]["path"],
            &overdue[0]["days_writable"],
            &overdue[0]["owners"],
            &overdue[0]["severity"]
        ),
        (
            &json!("d.yaml"),
            &json!(40),
            &json!(["@acme/ops"]),
            &json!("warning")
        )
    );

    // The team table joins the current counts with the times.
    let rows: Vec<(&str, i64, i64, i64)> = v["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["team"].as_str().unwrap(),
                r["units"].as_i64().unwrap(),
                r["writable"].as_i64().unwrap(),
                r["overdue"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("@acme/ops", 4, 1, 1),
            ("(no owner)", 2, 1, 0),
            ("@acme/web", 1, 0, 0)
        ]
    );

    let page = get(&app, "/report/acme", &token).await;
    insta::assert_snapshot!(
        "time_to_fix_tables",
        format!(
            "{}\n{}\n{}",
            table_text(&page.body, "teams"),
            table_text(&page.body, "time-to-fix"),
            table_text(&page.body, "overdue"),
        )
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_fix_target_is_a_setting(pool: PgPool) {
    seed_history(&pool).await;
    let token = tokens::create(&pool, "acme", None).await.unwrap().token;
    let mut state = service::state(pool.clone());
    state.fix_target_days = 50;
    let app = service::router(state);
    let v = json_of(&app, "/api/report/acme", &token).await;
    assert_eq!(v["time_to_fix"]["target_days"], 50);
    assert_eq!(
        v["overdue_units"],
        json!([]),
        "d has been writable for 40 days only"
    );

    // `immutabot report --team` reads the same, without the server.
    let url = service::database_url(&pool);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .args(["report", "acme", "--format", "json", "--team", "@acme/ops"])
        .env("DATABASE_URL", &url)
        .env("IMMUTABOT_FIX_TARGET_DAYS", "30")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["team"], "@acme/ops");
    assert_eq!(v["summary"]["units"], 4);
    assert_eq!(v["overdue_units"].as_array().unwrap().len(), 1);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .args(["report", "acme", "--format", "csv", "--team", "@acme/web"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.contains("Acme,shop,false,1,1,0,0,0,1.0000,"), "{csv}");
}

/// GitLab's CODEOWNERS, with sections: the platform default, an Operations section with
/// default owners, and an optional Security section that excludes the test fixtures.
const GITLAB_CODEOWNERS: &str = "\
* @acme/platform

[Operations] @acme/ops
/deploy/

^[Security][2] @acme/security
*.yaml
!deploy/test/
";

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_gitlab_codeowners_with_sections_gives_the_union_of_its_sections(pool: PgPool) {
    const HEAD: &str = "3333333333333333333333333333333333333333";
    let app = gitlab_app::GitLabApp::start(pool.clone(), "acme/shop").await;
    app.commit(
        HEAD,
        &[
            (".gitlab/CODEOWNERS", "* @acme/ignored\n"),
            ("docs/CODEOWNERS", GITLAB_CODEOWNERS),
            ("deploy/web.yaml", &deployment("web")),
            ("deploy/test/fixture.yaml", &deployment("fixture")),
            ("compose.yaml", COMPOSE),
        ],
    );
    app.push(HEAD).await;

    let owners: Vec<(String, Vec<String>)> = sqlx::query_as(
        "select path || ':' || workload, owners from unit_states where valid_to is null order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let owners: Vec<(&str, String)> = owners
        .iter()
        .map(|(u, o)| (u.as_str(), o.join(" ")))
        .collect();
    assert_eq!(
        owners,
        [
            (
                "compose.yaml:db",
                "@acme/platform @acme/security".to_string()
            ),
            (
                "compose.yaml:worker",
                "@acme/platform @acme/security".to_string()
            ),
            (
                "deploy/test/fixture.yaml:Deployment/fixture",
                "@acme/platform @acme/ops".to_string()
            ),
            (
                "deploy/web.yaml:Deployment/web",
                "@acme/platform @acme/ops @acme/security".to_string()
            ),
        ],
        "GitLab reads docs/CODEOWNERS before .gitlab/CODEOWNERS"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_team_filter_narrows_the_weekly_trend_to_the_teams_units(pool: PgPool) {
    seed_history(&pool).await;
    let token = tokens::create(&pool, "acme", None).await.unwrap().token;
    let app = service::router(service::state(pool.clone()));
    let counts = |p: &Value| {
        (
            p["units"].as_i64().unwrap(),
            p["read_only"].as_i64().unwrap(),
            p["writable"].as_i64().unwrap(),
        )
    };
    // The owner's trend counts every unit the scans saw.
    let all = json_of(&app, "/api/report/acme", &token).await;
    let trend = all["trend"].as_array().unwrap();
    assert_eq!(counts(&trend[0]), (6, 0, 6));

    // @acme/ops: a and b writable and h read-only at first; a fixed 90 days ago, b 40 days
    // ago, when d came writable.
    let v = json_of(&app, "/api/report/acme?team=@acme/ops", &token).await;
    let trend = v["trend"].as_array().unwrap();
    assert_eq!(trend.len(), all["trend"].as_array().unwrap().len());
    assert_eq!(counts(&trend[0]), (3, 1, 2), "{trend:#?}");
    // The week holding the day a was fixed (90 days ago), whichever weekday today is.
    let fixed_on = (Utc::now() - Duration::days(90)).date_naive().to_string();
    let that_week = trend
        .iter()
        .find(|p| p["week_end"].as_str().unwrap() >= fixed_on.as_str())
        .unwrap();
    assert_eq!(counts(that_week), (3, 2, 1), "{trend:#?}");
    assert_eq!(counts(trend.last().unwrap()), (4, 3, 1), "{trend:#?}");
    assert_eq!(trend.last().unwrap()["repositories"], 1);
    assert_eq!(
        counts(trend.last().unwrap()),
        (
            v["summary"]["units"].as_i64().unwrap(),
            v["summary"]["read_only"].as_i64().unwrap(),
            v["summary"]["writable"].as_i64().unwrap()
        ),
        "the last week is today's summary"
    );
    assert_eq!(v["summary"]["read_only_share_before"], json!(0.75));
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_long_overdue_list_is_cut_to_the_longest_writable_and_counted_in_full(pool: PgPool) {
    use immutabot::report::queries::{View, owner_report_with};
    seed_history(&pool).await;
    // With a target of 0 days, d (40 days) and e (1 day) are both overdue.
    let view = |listed| View {
        fix_target_days: 0,
        overdue_listed: listed,
        ..View::default()
    };
    let all = owner_report_with(&pool, "acme", Utc::now(), view(200))
        .await
        .unwrap();
    assert_eq!(all.overdue_total, 2);
    assert_eq!(all.overdue_units.len(), 2);
    let cut = owner_report_with(&pool, "acme", Utc::now(), view(1))
        .await
        .unwrap();
    assert_eq!(cut.overdue_total, 2, "counted in full");
    assert_eq!(cut.overdue_units.len(), 1);
    assert_eq!(
        cut.overdue_units[0].path, "d.yaml",
        "the longest writable first"
    );
    let page = immutabot::report::html::owner_page(&cut);
    assert!(
        page.contains("2 units; the 1 writable longest are listed."),
        "the page says the list is cut"
    );
    assert!(!immutabot::report::html::owner_page(&all).contains("overdue-listed"));
}
