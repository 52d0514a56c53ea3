//! The job queue on a real Postgres: claims are exclusive, leases expire, failures back off
//! and end dead with their error, never dropped.

#[path = "support/pg_proxy.rs"]
mod pg_proxy;

use immutabot::ids::{CommitSha, InstallationId, PrNumber, RepoId, RepoName};
use immutabot::queue::job::{ForgeRepo, Job, ReviewJob};
use immutabot::queue::worker::{Handler, Timing, Worker};
use immutabot::queue::{self, Outcome};
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Queues the review of pull request 1 of repository 1 at head `aaa…`.
async fn add(pool: &PgPool) -> i64 {
    let job = Job::ReviewPullRequest(ReviewJob {
        repo: ForgeRepo::GitHub {
            installation: InstallationId(1),
            repo_id: RepoId(1),
            repo: RepoName::parse("acme/shop").unwrap(),
        },
        number: PrNumber(1),
        head_sha: CommitSha::parse(&"a".repeat(40)).unwrap(),
        base_sha: None,
        base_ref: None,
        rerun: false,
    });
    let mut tx = pool.begin().await.unwrap();
    let id = queue::enqueue(&mut tx, None, &job).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    id.0
}

fn worker(pool: &PgPool, name: &str, handler: Handler, lease: Duration) -> Worker {
    Worker {
        pool: pool.clone(),
        name: name.into(),
        timing: Timing {
            lease,
            poll: Duration::from_millis(20),
        },
        handler,
        wake: Arc::new(Notify::new()),
    }
}

fn counting(runs: Arc<AtomicUsize>, outcome: Outcome, pause: Duration) -> Handler {
    Arc::new(move |_job| {
        let runs = runs.clone();
        let outcome = outcome.clone();
        Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(pause).await;
            outcome
        })
    })
}

async fn state_of(pool: &PgPool, id: i64) -> (String, i32, Option<String>) {
    sqlx::query_as("select state, attempts, last_error from jobs where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn two_workers_racing_for_one_job_run_it_once(pool: PgPool) {
    let id = add(&pool).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let h = counting(runs.clone(), Outcome::Done, Duration::from_millis(200));
    let a = worker(&pool, "a", h.clone(), Duration::from_secs(30));
    let b = worker(&pool, "b", h, Duration::from_secs(30));
    let (ra, rb) = tokio::join!(a.step(), b.step());
    assert_eq!([ra.unwrap(), rb.unwrap()].iter().filter(|x| **x).count(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(state_of(&pool, id).await.0, "done");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_dead_workers_job_is_taken_again_after_its_lease(pool: PgPool) {
    let id = add(&pool).await;
    // A worker claims the job and dies without a word.
    let claimed = queue::claim(&pool, "crashed", Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(claimed.unwrap().id, id);
    let runs = Arc::new(AtomicUsize::new(0));
    let w = worker(
        &pool,
        "survivor",
        counting(runs.clone(), Outcome::Done, Duration::ZERO),
        Duration::from_secs(30),
    );
    assert!(!w.step().await.unwrap(), "the lease still holds");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(w.step().await.unwrap());
    assert_eq!(state_of(&pool, id).await, ("done".into(), 2, None));
    // The crashed worker's late report changes nothing.
    let stale = queue::Claimed {
        id,
        kind: "x".into(),
        payload: json!({}),
        delivery_guid: None,
        attempts: 1,
        max_attempts: 8,
        waited_secs: 0.0,
    };
    assert_eq!(
        queue::finish(&pool, &stale, "crashed", &Outcome::Failed("late".into()))
            .await
            .unwrap(),
        None
    );
    assert_eq!(state_of(&pool, id).await.0, "done");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_long_job_keeps_its_lease(pool: PgPool) {
    add(&pool).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let slow = worker(
        &pool,
        "slow",
        counting(runs.clone(), Outcome::Done, Duration::from_millis(4000)),
        Duration::from_millis(1500),
    );
    let other = worker(
        &pool,
        "other",
        counting(runs.clone(), Outcome::Done, Duration::ZERO),
        Duration::from_secs(30),
    );
    let (a, _) = tokio::join!(slow.step(), async {
        // The lease is renewed every 500 ms; the job outlives it more than twice over.
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(450)).await;
            assert!(
                !other.step().await.unwrap(),
                "took a job whose lease is being renewed"
            );
        }
    });
    assert!(a.unwrap());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn failures_back_off_then_end_dead_with_their_error(pool: PgPool) {
    let id = add(&pool).await;
    sqlx::query("update jobs set max_attempts = 3 where id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let w = worker(
        &pool,
        "w",
        counting(
            runs.clone(),
            Outcome::Failed("GitHub answered 502".into()),
            Duration::ZERO,
        ),
        Duration::from_secs(30),
    );
    assert!(w.step().await.unwrap());
    let (state, attempts, error) = state_of(&pool, id).await;
    assert_eq!(
        (state.as_str(), attempts, error.as_deref()),
        ("queued", 1, Some("GitHub answered 502"))
    );
    let (wait,): (f64,) = sqlx::query_as(
        "select extract(epoch from run_after - now())::float8 from jobs where id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        (4.0..=10.5).contains(&wait),
        "first retry in 5-10 s, got {wait}"
    );
    assert!(!w.step().await.unwrap(), "not before its time");
    for _ in 0..2 {
        sqlx::query("update jobs set run_after = now() where id = $1")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        assert!(w.step().await.unwrap());
    }
    assert_eq!(
        state_of(&pool, id).await,
        ("dead".into(), 3, Some("GitHub answered 502".into()))
    );
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn retention_deletes_old_finished_work_and_keeps_what_is_live_or_recent(pool: PgPool) {
    use immutabot::queue::retention::{Pruned, prune};
    // (delivery, age in days, its job's state)
    let rows = [
        ("old-done", 40, Some("done")),
        ("old-dead", 40, Some("dead")),
        ("old-superseded", 40, Some("superseded")),
        ("old-ignored", 40, None),
        ("old-but-queued", 40, Some("queued")),
        ("old-but-running", 40, Some("running")),
        ("recent-done", 2, Some("done")),
        ("recent-ignored", 2, None),
    ];
    for (guid, age, state) in rows {
        sqlx::query(
            "insert into deliveries (guid, event, outcome, received_at)
             values ($1, 'pull_request', 'queued', now() - make_interval(days => $2))",
        )
        .bind(guid)
        .bind(age)
        .execute(&pool)
        .await
        .unwrap();
        if let Some(state) = state {
            sqlx::query(
                "insert into jobs (kind, delivery_guid, payload, state, created_at)
                 values ('review_pull_request', $1, '{}', $2, now() - make_interval(days => $3))",
            )
            .bind(guid)
            .bind(state)
            .bind(age)
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    let pruned = prune(&pool, Duration::from_secs(30 * 86_400))
        .await
        .unwrap();
    assert_eq!(
        pruned,
        Pruned {
            jobs: 3,
            deliveries: 4
        }
    );
    let left: Vec<(String,)> = sqlx::query_as("select guid from deliveries order by guid")
        .fetch_all(&pool)
        .await
        .unwrap();
    let left: Vec<&str> = left.iter().map(|(g,)| g.as_str()).collect();
    assert_eq!(
        left,
        [
            "old-but-queued",
            "old-but-running",
            "recent-done",
            "recent-ignored"
        ]
    );
    assert_eq!(
        prune(&pool, Duration::from_secs(30 * 86_400))
            .await
            .unwrap(),
        Pruned::default()
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn an_outcome_the_database_was_down_for_is_recorded_once_it_is_back(pool: PgPool) {
    let (proxy, via) = pg_proxy::in_front_of(&pool, Duration::from_secs(1)).await;
    let proxy = Arc::new(proxy);
    let id = add(&pool).await;
    // The database goes away while the job runs, and comes back a moment after it ended.
    let handler: Handler = {
        let proxy = proxy.clone();
        Arc::new(move |_job| {
            let proxy = proxy.clone();
            Box::pin(async move {
                proxy.stop();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    proxy.resume().await;
                });
                Outcome::Done
            })
        })
    };
    // A lease far longer than the test: the outcome must not wait for it.
    let lease = Duration::from_secs(600);
    let w = worker(&via, "w1", handler, lease);
    let started = std::time::Instant::now();
    assert!(w.step().await.unwrap());
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(state_of(&pool, id).await.0, "done");
}

/// The node types of a plan, depth first.
fn node_types(plan: &serde_json::Value, out: &mut Vec<String>) {
    if let Some(t) = plan["Node Type"].as_str() {
        out.push(t.to_string());
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        node_types(child, out);
    }
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_claim_probes_its_indexes_however_long_the_queue(pool: PgPool) {
    // A backlog: 20,000 queued jobs, and 5,000 that ran (dead index entries at the head).
    sqlx::query(
        "insert into jobs (kind, payload, state, run_after)
         select 'review_pull_request', '{}', case when n <= 5000 then 'done' else 'queued' end,
                now() - interval '1 hour' + n * interval '1 ms'
           from generate_series(1, 25000) n",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("analyze jobs").execute(&pool).await.unwrap();
    let (plan,): (serde_json::Value,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "explain (format json) {}",
        immutabot::storage::jobs::CLAIM
    )))
    .bind("w")
    .bind(60.0f64)
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut nodes = Vec::new();
    node_types(&plan[0]["Plan"], &mut nodes);
    assert!(
        !nodes
            .iter()
            .any(|n| n == "Sort" || n.starts_with("Bitmap") || n == "Seq Scan"),
        "a claim must not read every queued job: {nodes:?}"
    );
    // And it takes the oldest ready job; a job whose lease ran out comes before it.
    let first = queue::claim(&pool, "w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, 5001);
    sqlx::query(
        "update jobs set state = 'running', locked_until = now() - interval '1 s' where id = 24000",
    )
    .execute(&pool)
    .await
    .unwrap();
    let next = queue::claim(&pool, "w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.id, 24000, "the dead worker's job first");
}
