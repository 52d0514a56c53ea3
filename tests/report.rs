//! The compliance report through the real router and the real binary, on a hand-seeded
//! history (tests/support/report_seed.rs) whose figures are known: the JSON shape and
//! numbers (weekly trend, 30-day change, pull-request activity), the CSV, the HTML, the
//! token rules, and `immutabot report` / `immutabot token create`.

#[path = "support/report_seed.rs"]
mod report_seed;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use immutabot::auth::tokens;
use serde_json::{Value, json};
use service::Answer;
use sqlx::PgPool;
use std::process::Command;
use tower::ServiceExt;

async fn get(app: &axum::Router, uri: &str, token: Option<&str>) -> Answer {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    service::send(app, req.body(Body::empty()).unwrap()).await
}

async fn setup(pool: &PgPool) -> (axum::Router, String, report_seed::Seeded) {
    let seeded = report_seed::seed(pool).await;
    // Created for "ACME": owners compare case-insensitively.
    let token = tokens::create(pool, "ACME", Some("test"))
        .await
        .unwrap()
        .token;
    (service::router(service::state(pool.clone())), token, seeded)
}

fn close(v: &Value, expected: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - expected).abs() < 1e-9, "{got} != {expected}");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_json_report_has_the_documented_shape_and_the_known_numbers(pool: PgPool) {
    let (app, token, seeded) = setup(&pool).await;
    let a = get(&app, "/api/report/acme", Some(&token)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.headers[header::CACHE_CONTROL], "private, no-store");
    let v: Value = serde_json::from_str(&a.body).unwrap();

    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "exemptions",
            "generated_at",
            "overdue_total",
            "overdue_units",
            "owner",
            "pull_requests",
            "repositories",
            "rules",
            "summary",
            "team",
            "teams",
            "time_to_fix",
            "trend",
            "version"
        ]
    );
    assert_eq!(v["version"], 1);
    assert_eq!(v["owner"], "Acme");

    let s = &v["summary"];
    for (k, n) in [
        ("repositories", 3),
        ("scanned_repositories", 2),
        ("units", 6),
        ("read_only", 4),
        ("suppressed", 1),
        ("writable", 1),
        ("unknown", 0),
        ("open_pull_request_findings", 1),
    ] {
        assert_eq!(s[k], n, "summary.{k} in {s}");
    }
    close(&s["read_only_share"], 4.0 / 6.0);
    close(&s["read_only_share_before"], 0.0);
    close(&s["read_only_share_change"], 4.0 / 6.0);

    // Seven weeks, from the first scan's week to this one; weeks without scans carry on.
    let trend = v["trend"].as_array().unwrap();
    let expected = [
        (-42, 1, 4, 0),
        (-35, 1, 4, 0),
        (-28, 1, 4, 0),
        (-21, 1, 4, 1),
        (-14, 2, 6, 1),
        (-7, 2, 6, 3),
        (0, 2, 6, 4),
    ];
    assert_eq!(trend.len(), expected.len(), "{trend:?}");
    for (point, (days, repos, units, read_only)) in trend.iter().zip(expected) {
        let sunday = (seeded.week + chrono::Duration::days(days + 6)).date_naive();
        assert_eq!(point["week_end"], sunday.to_string(), "{point}");
        assert_eq!(point["repositories"], repos, "{point}");
        assert_eq!(point["units"], units, "{point}");
        assert_eq!(point["read_only"], read_only, "{point}");
        close(&point["read_only_share"], read_only as f64 / units as f64);
    }
    assert_eq!(trend[5]["suppressed"], 1);

    let names: Vec<&str> = v["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["api", "docs", "shop"],
        "removed and foreign repositories are not listed"
    );
    let shop = &v["repositories"][2];
    assert_eq!(
        (
            &shop["private"],
            &shop["units"],
            &shop["read_only"],
            &shop["suppressed"],
            &shop["writable"],
            &shop["last_commit"],
            &shop["open_pull_request_findings"]
        ),
        (
            &json!(true),
            &json!(4),
            &json!(3),
            &json!(1),
            &json!(0),
            &json!("a200000000000000000000000000000000000000"),
            &json!(1)
        )
    );
    close(&shop["read_only_share"], 0.75);
    let docs = &v["repositories"][1];
    assert_eq!(docs["last_scan_at"], Value::Null);
    assert_eq!(docs["read_only_share"], Value::Null);
    assert_eq!(
        v["repositories"][0]["last_commit"], "c200000000000000000000000000000000000000",
        "the failed scan is not the latest"
    );

    assert_eq!(
        v["rules"],
        json!([
            {"rule": "writable-root-filesystem", "title": "Root file system is writable", "units": 1, "open_pull_request_findings": 1},
            {"rule": "missing-scratch-mount", "title": "Image needs a writable path that has no scratch mount", "units": 1, "open_pull_request_findings": 0}
        ])
    );

    let pr = &v["pull_requests"];
    assert_eq!(pr["window_days"], 30);
    assert_eq!(pr["checks"], 3);
    assert_eq!(pr["findings_raised"], 3);
    assert_eq!(pr["findings_fixed"], 2);
    close(&pr["median_hours_to_fix"], 36.0);
    let generated: chrono::DateTime<chrono::Utc> =
        v["generated_at"].as_str().unwrap().parse().unwrap();
    assert!(generated >= seeded.now);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_csv_has_one_line_per_repository(pool: PgPool) {
    let (app, token, _) = setup(&pool).await;
    let a = get(&app, "/report/Acme.csv", Some(&token)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        a.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"Acme.csv\""
    );
    let lines: Vec<&str> = a.body.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 4, "{}", a.body);
    assert_eq!(lines[0], immutabot::report::csv::HEADER);
    // The seed's units have no owners: the last column is empty.
    assert_eq!(lines[2], "Acme,docs,false,0,0,0,0,0,,,,0,");
    assert!(
        lines[3].starts_with("Acme,shop,true,4,3,1,0,0,0.7500,"),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].ends_with(",a200000000000000000000000000000000000000,1,"),
        "{}",
        lines[3]
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_page_shows_the_figures_the_chart_and_the_tables(pool: PgPool) {
    let (app, token, _) = setup(&pool).await;
    let a = get(&app, "/report/acme", Some(&token)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(
        a.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let html = &a.body;
    for needle in [
        r#"<span class="value" id="fig-share">66.7 %</span>"#,
        r#"id="fig-change">+66.7 points in 30 days</span>"#,
        r#"<span class="value" id="fig-units">6</span>"#,
        r#"<span class="value" id="fig-suppressed">1</span>"#,
        r#"<span class="value" id="fig-repositories">3</span>"#,
        r#"<svg class="trend""#,
        r#"<a href="Acme/shop">shop</a> <span class="tag">private</span>"#,
        "Root file system is writable",
        "<td>Median time to fix</td><td class=\"n\">36.0 hours</td>",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert_eq!(html.matches("<circle class=\"point\"").count(), 7);
    for absent in ["legacy", "secret-repo"] {
        assert!(!html.contains(absent), "{absent} must not appear");
    }
    // Nothing is fetched from anywhere: no external script, style sheet, font or image.
    for fetch in [" src=", "<link", "@import", "url(", "href=\"http"] {
        assert!(!html.contains(fetch), "{fetch} must not appear");
    }
    // Least compliant first: api (50 %), shop (75 %), then docs (never scanned).
    let api = html.find(">api</a>").unwrap();
    let shop = html.find(">shop</a>").unwrap();
    let docs = html.find(">docs</a>").unwrap();
    assert!(api < shop && shop < docs);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_repository_lists_its_writable_units_with_links_and_patches(pool: PgPool) {
    let (app, token, _) = setup(&pool).await;
    let a = get(&app, "/report/acme/API", Some(&token)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains(
        r#"<a href="https://github.com/Acme/api/blob/c000000000000000000000000000000000000000/deploy/api.yaml#L12">deploy/api.yaml:12</a>"#
    ), "{}", a.body);
    assert!(
        a.body
            .contains("<summary>Set readOnlyRootFilesystem: true</summary>")
    );
    assert!(a.body.contains("Replace lines 12–13 with:"));
    assert!(
        !a.body.contains("sidecar"),
        "read-only units are not listed"
    );

    let j = get(&app, "/api/report/acme/api", Some(&token)).await;
    let v: Value = serde_json::from_str(&j.body).unwrap();
    assert_eq!(v["repository"]["name"], "api");
    let units = v["writable_units"].as_array().unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["container"], "app");
    assert_eq!(units[0]["rules"], json!(["writable-root-filesystem"]));
    assert_eq!(units[0]["fix"]["start_line"], 12);

    // shop's writable unit was fixed: its closed row is history, not a finding.
    let shop = get(&app, "/api/report/acme/shop", Some(&token)).await;
    let v: Value = serde_json::from_str(&shop.body).unwrap();
    assert_eq!(v["writable_units"], json!([]));
    assert_eq!(
        get(&app, "/report/acme/legacy", Some(&token)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn nothing_is_served_without_a_valid_token(pool: PgPool) {
    let (app, token, _) = setup(&pool).await;
    let uris = [
        "/report/acme",
        "/report/acme.csv",
        "/report/acme/shop",
        "/api/report/acme",
        "/api/report/acme/shop",
    ];
    for uri in uris {
        let a = get(&app, uri, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(
            a.headers[header::WWW_AUTHENTICATE],
            "Bearer realm=\"immutabot\""
        );
        assert!(!a.body.contains("shop") && !a.body.contains("66.7"));
        // Another last character (the token is random: it may end in any of them).
        let last = if token.ends_with('0') { '1' } else { '0' };
        let wrong = format!("{}{last}", &token[..token.len() - 1]);
        assert_eq!(
            get(&app, uri, Some(&wrong)).await.status,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        assert_eq!(
            get(&app, uri, Some(&token)).await.status,
            StatusCode::OK,
            "{uri}"
        );
    }
    sqlx::query("update api_tokens set revoked_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/api/report/acme", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED,
        "a revoked token is refused"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_token_never_reads_another_owners_report(pool: PgPool) {
    let (app, acme, _) = setup(&pool).await;
    for uri in [
        "/report/other",
        "/report/Other.csv",
        "/report/other/secret-repo",
        "/api/report/other",
        "/api/report/OTHER/secret-repo",
    ] {
        let a = get(&app, uri, Some(&acme)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            !a.body.contains("secret") && !a.body.contains("leak"),
            "{uri}"
        );
    }
    // The other owner's own token does read it, and only it.
    let other = tokens::create(&pool, "other", None).await.unwrap().token;
    let a = get(&app, "/api/report/other", Some(&other)).await;
    assert_eq!(a.status, StatusCode::OK);
    let v: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(v["summary"]["units"], 70);
    assert_eq!(v["summary"]["open_pull_request_findings"], 1);
    assert_eq!(
        get(&app, "/api/report/acme", Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_token_reads_no_lookalike_owner_and_no_wildcard(pool: PgPool) {
    let (app, acme, _) = setup(&pool).await;
    // Owners a prefix match or an unescaped LIKE (`_`, `%`, which GitLab group paths and
    // URLs can hold) would let one of these tokens see.
    sqlx::query(
        "insert into repositories (id, installation_id, owner, name, default_branch, private) values
           (30, 2, 'Acme-Corp', 'leak-a', 'main', true),
           (31, 2, 'AcmeX', 'leak-b', 'main', true)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into repositories (forge, forge_id, owner, name, private) values
           ('gitlab', 7, 'acme_', 'underscore-own', true),
           ('gitlab', 8, 'acme_/sub', 'underscore-sub', true),
           ('gitlab', 9, 'acmex/sub', 'leak-c', true),
           ('gitlab', 10, 'acme-corp/sub', 'leak-d', true)",
    )
    .execute(&pool)
    .await
    .unwrap();
    for uri in [
        "/report/acme-corp",
        "/report/acmex.csv",
        "/report/acme_",
        "/report/acme%25",
        "/report/a_me/leak-a",
        "/api/report/acme-corp",
        "/api/report/acme_",
        "/api/report/acme%25",
        "/api/report/%25",
        "/api/report/acme/leak-a",
        "/api/report/acme/sub%2Fleak-c",
    ] {
        let a = get(&app, uri, Some(&acme)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            !a.body.contains("leak") && !a.body.contains("underscore"),
            "{uri}"
        );
    }
    for uri in ["/report/acme", "/report/acme.csv", "/api/report/acme"] {
        let a = get(&app, uri, Some(&acme)).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert!(
            !a.body.contains("leak") && !a.body.contains("underscore"),
            "{uri}"
        );
    }
    // `acme_` is a legal GitLab group: its token reads it and its subgroup, and no more.
    let underscore = tokens::create(&pool, "acme_", None).await.unwrap().token;
    let a = get(&app, "/api/report/acme_", Some(&underscore)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("underscore-own") && a.body.contains("underscore-sub"));
    assert!(!a.body.contains("leak"), "{}", a.body);
    assert_eq!(
        get(&app, "/api/report/acme", Some(&underscore))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_cookie_from_one_owners_link_never_opens_another_owners_page(pool: PgPool) {
    let (app, acme, _) = setup(&pool).await;
    // The link names another owner: the token is valid, so the cookie is set...
    let a = get(&app, &format!("/report/other?token={acme}"), None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    // ...but it reads only what the token reads.
    for uri in [
        "/report/other",
        "/report/other.csv",
        "/api/report/other",
        "/report/other/secret-repo",
    ] {
        let res = app
            .clone()
            .oneshot(
                Request::get(uri)
                    .header(header::COOKIE, &pair)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret"), "{uri}");
    }
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn hostile_report_paths_get_no_5xx_and_no_other_owners_data(pool: PgPool) {
    let (app, acme, _) = setup(&pool).await;
    let owners = [
        "other'--",
        "other'%20or%20'1'='1",
        "acme'%20or%201=1--",
        "acme%27%3B%20drop%20table%20jobs%3B--",
        "other%00",
        "%2e%2e",
        "..%2fother",
        "acme%2F..%2Fother",
        "%25",
        "acme%5C..%5Cother",
        "_",
        "%",
        "acme*",
        "ac%25me",
    ];
    let mut uris = Vec::new();
    for o in owners {
        for form in [
            "/report/{o}",
            "/report/{o}.csv",
            "/api/report/{o}",
            "/api/report/{o}/shop",
            "/report/acme/{o}",
            "/api/report/acme/{o}",
        ] {
            uris.push(form.replace("{o}", o));
        }
    }
    uris.extend([
        "/report/acme/..".to_string(),
        "/report/acme/../other".to_string(),
        "/api/report/acme/..%2F..%2Fother%2Fsecret-repo".to_string(),
        "/report/acme/shop%3Fowner=other".to_string(),
    ]);
    for uri in &uris {
        let a = get(&app, uri, Some(&acme)).await;
        assert!(
            a.status.is_client_error() || a.status.is_success(),
            "{uri}: {}",
            a.status
        );
        assert!(
            !a.body.contains("secret-repo") && !a.body.contains("leak"),
            "{uri}: another owner's data\n{}",
            a.body
        );
    }
    let jobs: i64 = sqlx::query_scalar("select count(*) from jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(jobs >= 0, "the jobs table is still there");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_browser_link_with_a_token_becomes_a_cookie(pool: PgPool) {
    let (app, token, _) = setup(&pool).await;
    let a = get(&app, &format!("/report/acme?token={token}"), None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/report/acme");
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with(&format!("immutabot_token={token};")));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let res = app
        .clone()
        .oneshot(
            Request::get("/report/acme")
                .header(header::COOKIE, format!("immutabot_token={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bad = get(&app, "/report/acme?token=imbt_nope", None).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.headers.get(header::SET_COOKIE).is_none());
}

/// The URL of the test's own database (sqlx::test makes one per test).
async fn own_url(pool: &PgPool) -> String {
    let (db,): (String,) = sqlx::query_as("select current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let cut = base.rfind('/').unwrap();
    format!("{}/{db}", &base[..cut])
}

fn immutabot(url: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("GITHUB_WEB_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_report_command_prints_what_the_server_serves(pool: PgPool) {
    let (app, token, _) = setup(&pool).await;
    let url = own_url(&pool).await;

    let (code, out, err) = immutabot(&url, &["report", "acme", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let mut cli: Value = serde_json::from_str(&out).unwrap();
    let mut api: Value =
        serde_json::from_str(&get(&app, "/api/report/acme", Some(&token)).await.body).unwrap();
    cli["generated_at"] = Value::Null;
    api["generated_at"] = Value::Null;
    assert_eq!(cli, api);

    let (code, out, _) = immutabot(&url, &["report", "ACME", "--format", "csv"]);
    assert_eq!(code, 0);
    assert_eq!(out, get(&app, "/report/acme.csv", Some(&token)).await.body);

    let (code, out, _) = immutabot(&url, &["report", "acme"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("<!doctype html>"));
    assert!(out.contains(r#"id="fig-share">66.7 %</span>"#));

    let (code, out, _) = immutabot(&url, &["report", "acme/api", "--format", "json"]);
    assert_eq!(code, 0);
    assert!(out.contains("https://github.com/Acme/api/blob/c000000000000000000000000000000000000000/deploy/api.yaml#L12"));

    let (code, out, err) = immutabot(&url, &["report", "nobody"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("no repositories of `nobody` are known"),
        "{err}"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn token_create_prints_the_token_once_and_stores_only_its_hash(pool: PgPool) {
    let (app, _, _) = setup(&pool).await;
    let url = own_url(&pool).await;
    let (code, out, err) = immutabot(
        &url,
        &["token", "create", "--owner", "Acme", "--label", "ci"],
    );
    assert_eq!(code, 0, "{err}");
    let token = out.trim();
    assert!(token.starts_with("imbt_") && token.len() == 69, "{out}");
    assert!(err.contains("shown only now"), "{err}");
    assert!(!err.contains(token), "the advice does not repeat the token");

    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select owner, token_sha256, label from api_tokens where label = 'ci'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [(
            "Acme".to_string(),
            tokens::hash(token),
            Some("ci".to_string())
        )]
    );
    let (dump,): (String,) = sqlx::query_as("select string_agg(t::text, ' ') from api_tokens t")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!dump.contains(&token[5..]), "the token text is not stored");
    assert_eq!(
        get(&app, "/api/report/acme", Some(token)).await.status,
        StatusCode::OK
    );
    let (used,): (bool,) =
        sqlx::query_as("select last_used_at is not null from api_tokens where label = 'ci'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(used);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_revoked_token_is_refused_and_listed_as_revoked(pool: PgPool) {
    let (app, _, _) = setup(&pool).await;
    let url = own_url(&pool).await;
    let (_, out, _) = immutabot(
        &url,
        &["token", "create", "--owner", "Acme", "--label", "ci"],
    );
    let token = out.trim().to_string();
    assert_eq!(
        get(&app, "/api/report/acme", Some(&token)).await.status,
        StatusCode::OK
    );
    let (code, list, _) = immutabot(&url, &["token", "list"]);
    assert_eq!(code, 0);
    let row = list
        .lines()
        .find(|l| l.contains("\tci\t"))
        .unwrap()
        .to_string();
    assert!(!list.contains(&token), "tokens are never shown again");
    assert!(row.ends_with("\t-"), "not revoked yet: {row}");
    let id = row.split('\t').next().unwrap();

    let (code, _, err) = immutabot(&url, &["token", "revoke", id]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        get(&app, "/api/report/acme", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (_, list, _) = immutabot(&url, &["token", "list"]);
    let row = list.lines().find(|l| l.contains("\tci\t")).unwrap();
    assert!(!row.ends_with("\t-"), "revoked: {row}");
    let (code, _, err) = immutabot(&url, &["token", "revoke", id]);
    assert_eq!(code, 1);
    assert!(err.contains("no live token has id"), "{err}");
}
