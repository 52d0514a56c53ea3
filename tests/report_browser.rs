//! The report page in a real browser: the real router on 127.0.0.1, Debian's chromium
//! driven headless through chromedriver (WebDriver). Checks what a person sees — the
//! headline figures, the trend chart drawn, the repositories table re-sorted by a click —
//! and keeps a screenshot (`$CARGO_TARGET_DIR/report-screenshot.png`; with
//! `IMMUTABOT_UPDATE_SCREENSHOT=1` also `docs/report.png`).
//!
//! chromium and chromium-driver must be installed (scripts/test installs them): without
//! them this test fails, it never skips.

#[path = "../benches/support/gen_report.rs"]
#[allow(dead_code)]
mod gen_report;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;
#[path = "support/webdriver.rs"]
mod webdriver;

use chrono::Utc;
use immutabot::report::{html, queries};
use serde_json::Value;
use sqlx::PgPool;
use std::path::PathBuf;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

const NAMES: &str = "return Array.from(document.querySelectorAll('#repositories tbody tr td:first-child a')).map(a => a.textContent)";

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_person_sees_the_figures_the_chart_and_sorts_the_table(pool: PgPool) {
    let shape = gen_report::Shape {
        owner: "acme".into(),
        repositories: 12,
        units_per_repository: 24,
        weeks: 26,
        change_per_week: 0.06,
        pull_requests: 4,
        teams: 0,

        seed: 7,
    };
    gen_report::generate(&pool, &shape, 1, Utc::now())
        .await
        .unwrap();
    // Three teams own the repositories, as CODEOWNERS would have said at scan time.
    sqlx::query("update unit_states set owners = array['@acme/team-' || (repository_id % 3)]")
        .execute(&pool)
        .await
        .unwrap();
    let expected = queries::owner_report(&pool, "acme", Utc::now())
        .await
        .unwrap();
    let token = immutabot::auth::tokens::create(&pool, "acme", None)
        .await
        .unwrap()
        .token;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = service::router(service::state(pool.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let browser = webdriver::Browser::start(1280, 1640).await;
    // A link with ?token= once: the server swaps it for a cookie and redirects.
    browser
        .goto(&format!("http://{addr}/report/acme?token={token}"))
        .await;
    assert_eq!(
        browser.title().await,
        "acme: read-only root file systems · immutabot"
    );
    let url = browser.execute("return location.href").await;
    assert_eq!(
        url,
        format!("http://{addr}/report/acme"),
        "token left the address bar"
    );

    // The headline figures, as rendered text.
    let share = browser.find("#fig-share").await;
    assert_eq!(
        browser.text(&share).await,
        html::percent(expected.summary.read_only_share)
    );
    let units = browser.find("#fig-units").await;
    assert_eq!(
        browser.text(&units).await,
        expected.summary.counts.units.to_string()
    );
    assert_eq!(expected.summary.counts.units, 12 * 24);
    let repos = browser.find("#fig-repositories").await;
    assert_eq!(browser.text(&repos).await, "12");

    // The team table: one row per team, in the report's order.
    let teams = strings(
        &browser
            .execute("return Array.from(document.querySelectorAll('#teams tbody tr td:first-child a')).map(a => a.textContent)")
            .await,
    );
    let expected_teams: Vec<String> = expected.teams.iter().map(|t| t.team.clone()).collect();
    assert_eq!(teams, expected_teams);
    assert_eq!(teams.len(), 3);

    // The chart is drawn: a line through one dot per week, with a real on-screen length.
    assert_eq!(
        browser.find_all("svg.trend circle.point").await.len(),
        expected.trend.len()
    );
    assert!(expected.trend.len() >= 26);
    let drawn = browser
        .execute(
            "const p = document.querySelector('svg.trend path.line'); \
             const b = p.getBoundingClientRect(); \
             return [p.getTotalLength(), b.width, b.height];",
        )
        .await;
    let drawn: Vec<f64> = drawn
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(drawn[0] > 300.0 && drawn[1] > 300.0, "chart line {drawn:?}");

    // The table starts least compliant first; a click on "Repository" sorts by name, a
    // second click reverses it.
    let before = strings(&browser.execute(NAMES).await);
    assert_eq!(before.len(), 12);
    let mut by_name = before.clone();
    by_name.sort();
    assert_ne!(
        before, by_name,
        "the seed must not already be in name order"
    );
    let header = browser.find("#repositories thead th:first-child").await;
    browser.click(&header).await;
    assert_eq!(strings(&browser.execute(NAMES).await), by_name);
    browser.click(&header).await;
    let mut reversed = by_name.clone();
    reversed.reverse();
    assert_eq!(strings(&browser.execute(NAMES).await), reversed);
    // Back to least compliant first, for the screenshot.
    let share_header = browser.find("#repositories thead th:nth-child(2)").await;
    browser.click(&share_header).await;
    browser.click(&share_header).await;
    browser.click(&share_header).await;
    browser.execute("window.scrollTo(0, 0)").await;

    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("report-screenshot.png"), &png).unwrap();
    if std::env::var_os("IMMUTABOT_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/report.png"),
            &png,
        )
        .unwrap();
    }
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_person_sees_the_exemptions_and_which_expire_soon(pool: PgPool) {
    let shape = gen_report::Shape {
        owner: "acme".into(),
        repositories: 3,
        units_per_repository: 4,
        weeks: 4,
        change_per_week: 0.1,
        pull_requests: 0,
        teams: 0,

        seed: 11,
    };
    gen_report::generate(&pool, &shape, 1, Utc::now())
        .await
        .unwrap();
    // Three current units exempted: one lapsing in 5 days, one in a year, one lapsed.
    sqlx::query(
        "update unit_states u set exempt_kind = e.kind, exempt_reason = e.reason,
                exempt_expires = current_date + e.days
           from (select id, row_number() over (order by id) as n from unit_states
                  where valid_to is null) pick,
                (values (1, 'comment', 'vendor image, SEC-12', 5),
                        (2, 'config', 'batch job until Q3', 365),
                        (3, 'annotation', 'debug sidecar', -2)) as e (n, kind, reason, days)
          where u.id = pick.id and pick.n = e.n",
    )
    .execute(&pool)
    .await
    .unwrap();
    let token = immutabot::auth::tokens::create(&pool, "acme", None)
        .await
        .unwrap()
        .token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = service::router(service::state(pool.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let browser = webdriver::Browser::start(1280, 1640).await;
    browser
        .goto(&format!("http://{addr}/report/acme?token={token}"))
        .await;
    let rows = strings(
        &browser
            .execute(
                "return Array.from(document.querySelectorAll('#exemption-list tbody tr')) \
                 .map(r => r.className + ' | ' + r.cells[3].textContent + ' | ' + r.cells[5].textContent.trim())",
            )
            .await,
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[0].starts_with("expired | debug sidecar | ")
            && rows[0].ends_with("expired 2 days ago"),
        "{rows:?}"
    );
    assert!(
        rows[1].starts_with("expiring | vendor image, SEC-12 | ")
            && rows[1].ends_with("expires in 5 days"),
        "{rows:?}"
    );
    assert!(
        rows[2].starts_with("active | batch job until Q3 | "),
        "{rows:?}"
    );
    let soon = browser.find("#exemptions-soon").await;
    assert_eq!(browser.text(&soon).await, "1 expiring within 30 days");
    // The flag is visible, not only in the markup.
    let shown = browser
        .execute(
            "const t = document.querySelector('#exemption-list tr.expiring .tag'); \
             const b = t.getBoundingClientRect(); return b.width > 0 && b.height > 0",
        )
        .await;
    assert_eq!(shown, Value::Bool(true));
}
