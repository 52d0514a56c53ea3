//! The webhook endpoint, through the real router and a fresh database per test: what is
//! stored, what is answered, and that nothing is lost or done twice.

#[path = "support/pg_proxy.rs"]
mod pg_proxy;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use service::{count, delivery, fixture, numbered, router, state, with_head};
use sqlx::PgPool;
use std::sync::atomic::Ordering;
use tower::ServiceExt;

const HEAD2: &str = "1111111111111111111111111111111111111111";

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn an_opened_pull_request_is_stored_with_its_job(pool: PgPool) {
    let app = router(state(pool.clone()));
    let (status, body) = send(
        &app,
        delivery("pull_request", "d-1", fixture("pull_request/opened")),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::ACCEPTED, "queued\n"));
    assert_eq!(
        count(
            &pool,
            "select count(*) from deliveries where guid = 'd-1' and outcome = 'queued'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from jobs where state = 'queued' and delivery_guid = 'd-1'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from repositories where owner = 'Codertocat'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_bad_signature_is_refused_and_nothing_is_stored(pool: PgPool) {
    let app = router(state(pool.clone()));
    let mut req = delivery("pull_request", "d-1", fixture("pull_request/opened"));
    req.headers_mut()
        .insert("x-hub-signature-256", "sha256=00".parse().unwrap());
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
    let mut req = delivery("pull_request", "d-2", fixture("pull_request/opened"));
    req.headers_mut().remove("x-hub-signature-256");
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
    // Signed for another body.
    let mut req = delivery("pull_request", "d-3", b"{}".to_vec());
    *req.body_mut() = Body::from(fixture("pull_request/opened"));
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&pool, "select count(*) from deliveries").await, 0);
    assert_eq!(count(&pool, "select count(*) from jobs").await, 0);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_body_over_25_mb_gets_413(pool: PgPool) {
    let app = router(state(pool.clone()));
    let big = vec![b' '; 25 * 1024 * 1024 + 1];
    let (status, text) = send(&app, delivery("pull_request", "d-big", big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text.contains("length limit"), "says why: {text}");
    assert_eq!(count(&pool, "select count(*) from deliveries").await, 0);
    // Nothing lost: the next delivery is taken as usual.
    let (status, _) = send(
        &app,
        delivery("pull_request", "d-next", fixture("pull_request/opened")),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn unknown_events_and_actions_are_acknowledged_and_ignored(pool: PgPool) {
    let app = router(state(pool.clone()));
    let (status, body) = send(
        &app,
        delivery("star", "d-star", br#"{"action":"created"}"#.to_vec()),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ignored\n"));
    let (status, _) = send(
        &app,
        delivery(
            "pull_request",
            "d-label",
            br#"{"action":"labeled"}"#.to_vec(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        count(
            &pool,
            "select count(*) from deliveries where outcome = 'ignored'"
        )
        .await,
        2
    );
    assert_eq!(count(&pool, "select count(*) from jobs").await, 0);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_signed_but_unreadable_payload_is_recorded_not_dropped(pool: PgPool) {
    let app = router(state(pool.clone()));
    let (status, body) = send(
        &app,
        delivery("pull_request", "d-bad", br#"{"action":"opened"}"#.to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("unreadable payload"), "{body}");
    assert_eq!(
        count(
            &pool,
            "select count(*) from deliveries where guid = 'd-bad' and outcome = 'invalid'"
        )
        .await,
        1
    );
    // Other ways a signed body can be broken: each a 400 that says why, each recorded.
    let good = fixture("pull_request/opened");
    let mut deep = "[".repeat(100_000).into_bytes();
    deep.extend("]".repeat(100_000).bytes());
    let mut wrong_types: serde_json::Value = serde_json::from_slice(&good).unwrap();
    wrong_types["pull_request"]["number"] = "two".into();
    let broken: Vec<(&str, Vec<u8>)> = vec![
        ("d-cut", good[..good.len() / 2].to_vec()),
        ("d-text", b"not json at all".to_vec()),
        ("d-deep", deep),
        ("d-types", serde_json::to_vec(&wrong_types).unwrap()),
        ("d-binary", vec![0xff, 0xfe, 0x00, 0x01]),
        ("d-empty", Vec::new()),
    ];
    for (guid, body) in broken {
        let (status, text) = send(&app, delivery("pull_request", guid, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{guid}: {text}");
        assert!(!text.trim().is_empty(), "{guid}: says why");
    }
    assert_eq!(
        count(
            &pool,
            "select count(*) from deliveries where outcome = 'invalid'"
        )
        .await,
        7
    );
    // And a good delivery right after is queued as usual.
    let (status, _) = send(&app, delivery("pull_request", "d-good", good)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(count(&pool, "select count(*) from jobs").await, 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_same_delivery_twice_does_the_work_once(pool: PgPool) {
    let app = router(state(pool.clone()));
    let first = send(
        &app,
        delivery("pull_request", "same", fixture("pull_request/opened")),
    )
    .await;
    let again = send(
        &app,
        delivery("pull_request", "same", fixture("pull_request/opened")),
    )
    .await;
    assert_eq!(first.0, StatusCode::ACCEPTED);
    assert_eq!((again.0, again.1.as_str()), (StatusCode::OK, "duplicate\n"));
    assert_eq!(count(&pool, "select count(*) from jobs").await, 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_newer_head_supersedes_the_pending_review_and_closing_cancels_it(pool: PgPool) {
    let app = router(state(pool.clone()));
    send(
        &app,
        delivery("pull_request", "a", fixture("pull_request/opened")),
    )
    .await;
    // A different event for the same head adds nothing.
    let (_, body) = send(
        &app,
        delivery("pull_request", "b", fixture("pull_request/reopened")),
    )
    .await;
    assert_eq!(body, "already_queued\n");
    let newer = with_head(&fixture("pull_request/synchronize"), HEAD2);
    send(&app, delivery("pull_request", "c", newer)).await;
    assert_eq!(
        count(
            &pool,
            "select count(*) from jobs where state = 'superseded'"
        )
        .await,
        1
    );
    let (queued,): (String,) = sqlx::query_as("select head_sha from jobs where state = 'queued'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(queued, HEAD2);
    send(
        &app,
        delivery("pull_request", "d", fixture("pull_request/closed")),
    )
    .await;
    assert_eq!(
        count(&pool, "select count(*) from jobs where state = 'queued'").await,
        0
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from pull_requests where state = 'closed'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn installation_events_record_the_account_and_its_repositories(pool: PgPool) {
    let app = router(state(pool.clone()));
    send(
        &app,
        delivery("installation", "i1", fixture("installation/created")),
    )
    .await;
    send(
        &app,
        delivery(
            "installation_repositories",
            "i2",
            fixture("installation_repositories/added"),
        ),
    )
    .await;
    assert_eq!(
        count(
            &pool,
            "select count(*) from installations where account_login = 'Codertocat'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from repositories where removed_at is null"
        )
        .await,
        2
    );
    send(
        &app,
        delivery(
            "installation_repositories",
            "i3",
            fixture("installation_repositories/removed"),
        ),
    )
    .await;
    assert_eq!(
        count(
            &pool,
            "select count(*) from repositories where removed_at is not null and id = 1296269"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn with_the_database_down_the_answer_is_503_and_the_loss_is_flagged(pool: PgPool) {
    // The same test database, reached through a relay the test can cut.
    let (proxy, via) = pg_proxy::in_front_of(&pool, std::time::Duration::from_secs(2)).await;
    let st = state(via);
    let app = router(st.clone());
    proxy.stop();
    let (status, _) = send(
        &app,
        delivery("pull_request", "lost", fixture("pull_request/opened")),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(st.lost_deliveries.load(Ordering::SeqCst));
    proxy.resume().await;
    let (status, _) = send(
        &app,
        delivery("pull_request", "lost", fixture("pull_request/opened")),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(count(&pool, "select count(*) from jobs").await, 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn health_readiness_and_metrics(pool: PgPool) {
    let app = router(state(pool.clone()));
    let get = |p: &str| Request::get(p).body(Body::empty()).unwrap();
    assert_eq!(
        send(&app, get("/healthz")).await,
        (StatusCode::OK, "ok\n".into())
    );
    assert_eq!(
        send(&app, get("/readyz")).await,
        (StatusCode::OK, "ready\n".into())
    );
    send(
        &app,
        delivery("pull_request", "m1", fixture("pull_request/opened")),
    )
    .await;
    let (status, text) = send(&app, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("immutabot_queue_depth 1"), "{text}");
    assert!(
        text.contains(
            r#"immutabot_webhook_deliveries_total{event="pull_request",outcome="queued"}"#
        ),
        "{text}"
    );
    // Schema not current → not ready.
    sqlx::query("delete from _sqlx_migrations")
        .execute(&pool)
        .await
        .unwrap();
    let (status, text) = send(&app, get("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(text.contains("not applied"), "{text}");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn concurrent_deliveries_share_commits_and_each_is_recorded_once(pool: PgPool) {
    let app = router(state(pool.clone()));
    let body = fixture("pull_request/opened");
    let mut sends = Vec::new();
    for i in 0..60u64 {
        let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        v["number"] = (i % 40 + 1).into();
        v["pull_request"]["number"] = (i % 40 + 1).into();
        v["pull_request"]["head"]["sha"] = format!("{:040x}", i % 40 + 1).into();
        // 20 of the 60 are redeliveries of an earlier delivery id.
        let guid = format!("c-{}", i % 40);
        let req = delivery("pull_request", &guid, serde_json::to_vec(&v).unwrap());
        let app = app.clone();
        sends.push(tokio::spawn(async move { send(&app, req).await.0 }));
    }
    let mut statuses = Vec::new();
    for s in sends {
        statuses.push(s.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::ACCEPTED)
            .count(),
        40
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        20
    );
    assert_eq!(count(&pool, "select count(*) from deliveries").await, 40);
    assert_eq!(
        count(&pool, "select count(*) from jobs where state = 'queued'").await,
        40
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn one_batch_statement_answers_each_delivery_as_one_by_one_would(pool: PgPool) {
    use immutabot::forge::github::webhook::event::{self, Event};
    use immutabot::webhook::intake::{self, Delivery, Intake};
    let review = |head: &str| match event::parse(
        "pull_request",
        &with_head(&fixture("pull_request/opened"), head),
    )
    .unwrap()
    {
        Event::Review(r) => r,
        other => panic!("not a review: {other:?}"),
    };
    let (first, second) = (review(&"a".repeat(40)), review(&"b".repeat(40)));
    let d = |guid| Delivery {
        guid,
        event: "pull_request",
        action: Some("synchronize"),
    };
    // A new head, the same head again under another id, a redelivery inside the batch, then a
    // newer head that supersedes the first job.
    let batch = [
        (d("b-1"), &first),
        (d("b-2"), &first),
        (d("b-1"), &first),
        (d("b-3"), &second),
    ];
    let results = intake::reviews_in_one_round_trip(&pool, &batch)
        .await
        .unwrap();
    assert!(matches!(results[0], Intake::Queued(_)), "{results:?}");
    assert_eq!(results[1..3], [Intake::AlreadyQueued, Intake::Duplicate]);
    assert!(matches!(results[3], Intake::Queued(_)), "{results:?}");
    assert_eq!(count(&pool, "select count(*) from deliveries").await, 3);
    assert_eq!(
        count(&pool, "select count(*) from jobs where state = 'queued'").await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "select count(*) from jobs where state = 'superseded'"
        )
        .await,
        1
    );
    // A plan cached while `jobs` was empty walked every queued job per batch (BENCHMARKS.md).
    let (config,): (Vec<String>,) =
        sqlx::query_as("select proconfig from pg_proc where proname = 'immutabot_intake_reviews'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(config, ["plan_cache_mode=force_custom_plan"]);
}

/// Sends every request at once; the statuses in order, and how long the last answer took.
async fn all_at_once(
    app: &axum::Router,
    requests: Vec<Request<Body>>,
) -> (Vec<StatusCode>, std::time::Duration) {
    let started = std::time::Instant::now();
    let sends: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let app = app.clone();
            tokio::spawn(async move { send(&app, req).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for s in sends {
        statuses.push(s.await.unwrap());
    }
    (statuses, started.elapsed())
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn with_the_database_gone_every_delivery_in_flight_is_refused_at_once(pool: PgPool) {
    // The pool would wait 30 s for a connection; intake must not, for any delivery.
    let (proxy, via) = pg_proxy::in_front_of(&pool, std::time::Duration::from_secs(30)).await;
    let st = state(via);
    let app = router(st.clone());
    // Pooled connections that the cut breaks, as in a real outage.
    let (status, _) = send(&app, delivery("pull_request", "before", numbered(100))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    proxy.stop();
    let requests = (1..=40)
        .map(|n| delivery("pull_request", &format!("d-{n}"), numbered(n)))
        .collect();
    let (statuses, took) = all_at_once(&app, requests).await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    // One by one behind the pool's timeout this took 40 × 30 s; a generous bound that only
    // catches that.
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    assert!(st.lost_deliveries.load(Ordering::SeqCst));

    // Back as soon as the database answers: the refused deliveries, sent again, are recorded
    // once each (none was held and recorded behind GitHub's back).
    proxy.resume().await;
    let requests = (1..=40)
        .map(|n| delivery("pull_request", &format!("d-{n}"), numbered(n)))
        .collect();
    let (statuses, _) = all_at_once(&app, requests).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{statuses:?}"
    );
    assert_eq!(count(&pool, "select count(*) from jobs").await, 41);
    assert_eq!(count(&pool, "select count(*) from deliveries").await, 41);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_gitlab_delivery_with_the_database_gone_is_refused_at_once(pool: PgPool) {
    let (proxy, via) = pg_proxy::in_front_of(&pool, std::time::Duration::from_secs(30)).await;
    let mut st = state(via);
    st.gitlab = Some(immutabot::server::gitlab_webhook::GitLabHook {
        secrets: std::sync::Arc::new(vec![b"gl-secret".to_vec()]),
        web_url: "https://gitlab.example.com".into(),
    });
    let app = router(st);
    let merge_request = |n: u64| {
        let path = format!(
            "{}/tests/data/payloads/gitlab/gitlab-merge-request-event.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v["object_attributes"]["iid"] = n.into();
        v["object_attributes"]["action"] = "open".into();
        v["object_attributes"]["last_commit"]["id"] = format!("{n:040x}").into();
        Request::post("/webhooks/gitlab")
            .header("content-type", "application/json")
            .header("x-gitlab-event", "Merge Request Hook")
            .header("x-gitlab-token", "gl-secret")
            .header("idempotency-key", format!("gl-{n}"))
            .body(Body::from(serde_json::to_vec(&v).unwrap()))
            .unwrap()
    };
    let (status, _) = send(&app, merge_request(100)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    proxy.stop();
    let (statuses, took) = all_at_once(&app, (1..=20).map(merge_request).collect()).await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    proxy.resume().await;
    let (statuses, _) = all_at_once(&app, (1..=20).map(merge_request).collect()).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{statuses:?}"
    );
    assert_eq!(count(&pool, "select count(*) from jobs").await, 21);
}
