//! Storage on a real Postgres: the queue's dedupe and supersede rules agree across every way
//! of adding jobs, jobs written by SQL decode as the typed enum, undecodable and permanently
//! failing jobs go dead at once, and GitLab projects and groups live beside GitHub's.

use immutabot::forge::github::webhook::event::{Repo, ReviewRequest};
use immutabot::ids::{
    CommitSha, Forge, InstallationId, PrNumber, ProjectId, ProjectPath, RepoId, RepoName,
};
use immutabot::queue::job::{ForgeRepo, Job, ReviewJob};
use immutabot::queue::worker::{Handler, Timing, Worker};
use immutabot::queue::{self, Outcome};
use immutabot::storage::repositories::{self, ProjectRow, RepoRow};
use immutabot::webhook::intake::{self, Delivery, Intake};
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

const REPO_ID: i64 = 186853002;

fn sha(c: char) -> CommitSha {
    CommitSha::parse(&c.to_string().repeat(40)).unwrap()
}

fn repo() -> Repo {
    Repo {
        id: REPO_ID,
        name: RepoName::parse("Codertocat/Hello-World").unwrap(),
        default_branch: Some("main".into()),
        private: false,
    }
}

fn review_request(number: i64, head: char) -> ReviewRequest {
    ReviewRequest {
        installation: InstallationId(7),
        repo: repo(),
        number: PrNumber(number),
        head_sha: sha(head),
        base_sha: sha('f'),
        base_ref: "main".into(),
    }
}

/// The job intake writes for [`review_request`].
fn review_job(number: i64, head: char) -> Job {
    Job::ReviewPullRequest(ReviewJob {
        repo: ForgeRepo::GitHub {
            installation: InstallationId(7),
            repo_id: RepoId(REPO_ID),
            repo: repo().name,
        },
        number: PrNumber(number),
        head_sha: sha(head),
        base_sha: Some(sha('f')),
        base_ref: Some("main".into()),
        rerun: false,
    })
}

/// Whether a new job was added (`Q`) or the same work was pending (`A`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Added {
    Q,
    A,
}
use Added::{A, Q};

/// A boxed future, so the ways of adding fit one table.
type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Adds each head's review of pull request `number` one way; returns what became of each.
type Way = for<'a> fn(&'a PgPool, i64, &'a [char]) -> Boxed<'a, Vec<Added>>;

/// `queue::enqueue`, one transaction per job (the Rust path: push, re-run, scan).
fn one_by_one<'a>(pool: &'a PgPool, number: i64, heads: &'a [char]) -> Boxed<'a, Vec<Added>> {
    Box::pin(async move {
        let mut out = Vec::new();
        for h in heads {
            let mut tx = pool.begin().await.unwrap();
            let id = queue::enqueue(&mut tx, None, &review_job(number, *h))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            out.push(if id.is_some() { Q } else { A });
        }
        out
    })
}

/// `queue::enqueue_all`, every job in one call (installation events, the rescan).
fn all_at_once<'a>(pool: &'a PgPool, number: i64, heads: &'a [char]) -> Boxed<'a, Vec<Added>> {
    Box::pin(async move {
        let jobs: Vec<Job> = heads.iter().map(|h| review_job(number, *h)).collect();
        let mut tx = pool.begin().await.unwrap();
        let ids = queue::enqueue_all(&mut tx, None, &jobs).await.unwrap();
        tx.commit().await.unwrap();
        ids.iter()
            .map(|id| if id.is_some() { Q } else { A })
            .collect()
    })
}

/// The batch intake function (pull-request deliveries, group commit).
fn batch_intake<'a>(pool: &'a PgPool, number: i64, heads: &'a [char]) -> Boxed<'a, Vec<Added>> {
    Box::pin(async move {
        let requests: Vec<ReviewRequest> =
            heads.iter().map(|h| review_request(number, *h)).collect();
        let guids: Vec<String> = (0..heads.len())
            .map(|i| format!("pr{number}-{i}"))
            .collect();
        let batch: Vec<(Delivery, &ReviewRequest)> = guids
            .iter()
            .zip(&requests)
            .map(|(g, r)| {
                let d = Delivery {
                    guid: g,
                    event: "pull_request",
                    action: Some("synchronize"),
                };
                (d, r)
            })
            .collect();
        let results = intake::reviews_in_one_round_trip(pool, &batch)
            .await
            .unwrap();
        results
            .iter()
            .map(|r| match r {
                Intake::Queued(_) => Q,
                Intake::AlreadyQueued => A,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    })
}

async fn seed_jobs(pool: &PgPool, number: i64, jobs: &[(char, &str)]) {
    for (head, state) in jobs {
        let job = review_job(number, *head);
        sqlx::query(
            "insert into jobs (kind, payload, dedupe_key, head_sha, state) values ($1, $2, $3, $4, $5)",
        )
        .bind(job.kind())
        .bind(job.to_payload())
        .bind(job.dedupe_key())
        .bind(job.head_sha().map(|s| s.to_string()))
        .bind(state)
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn states(pool: &PgPool, number: i64) -> Vec<(char, String)> {
    let key = review_job(number, 'a').dedupe_key();
    let rows: Vec<(String, String)> =
        sqlx::query_as("select head_sha, state from jobs where dedupe_key = $1 order by id")
            .bind(key)
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(h, s)| (h.chars().next().unwrap(), s))
        .collect()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn every_way_of_adding_jobs_dedupes_and_supersedes_alike(pool: PgPool) {
    // (jobs of the pull request before, heads added in order, what became of each, the
    // pull request's jobs after, oldest first)
    type Row = (
        &'static [(char, &'static str)],
        &'static [char],
        &'static [Added],
        &'static [(char, &'static str)],
    );
    let table: &[Row] = &[
        (&[], &['a'], &[Q], &[('a', "queued")]),
        (&[('a', "queued")], &['a'], &[A], &[('a', "queued")]),
        (
            &[('a', "queued")],
            &['b'],
            &[Q],
            &[('a', "superseded"), ('b', "queued")],
        ),
        // Running work is never the pending work: it may have read an older state.
        (
            &[('a', "running")],
            &['a'],
            &[Q],
            &[('a', "running"), ('a', "queued")],
        ),
        (
            &[('a', "running")],
            &['b'],
            &[Q],
            &[('a', "running"), ('b', "queued")],
        ),
        (
            &[('a', "done")],
            &['a'],
            &[Q],
            &[('a', "done"), ('a', "queued")],
        ),
        (
            &[('a', "dead")],
            &['a'],
            &[Q],
            &[('a', "dead"), ('a', "queued")],
        ),
        (
            &[('a', "superseded"), ('b', "queued")],
            &['a'],
            &[Q],
            &[('a', "superseded"), ('b', "superseded"), ('a', "queued")],
        ),
        (&[], &['a', 'a'], &[Q, A], &[('a', "queued")]),
        (
            &[],
            &['a', 'b'],
            &[Q, Q],
            &[('a', "superseded"), ('b', "queued")],
        ),
        (
            &[],
            &['a', 'b', 'a'],
            &[Q, Q, Q],
            &[('a', "superseded"), ('b', "superseded"), ('a', "queued")],
        ),
        (
            &[('a', "queued")],
            &['b', 'a'],
            &[Q, Q],
            &[('a', "superseded"), ('b', "superseded"), ('a', "queued")],
        ),
        (
            &[('a', "queued")],
            &['a', 'b'],
            &[A, Q],
            &[('a', "superseded"), ('b', "queued")],
        ),
        (
            &[('a', "queued")],
            &['b', 'b', 'a', 'a'],
            &[Q, A, Q, A],
            &[('a', "superseded"), ('b', "superseded"), ('a', "queued")],
        ),
    ];
    let ways: [(&str, Way); 3] = [
        ("queue::enqueue one by one", one_by_one),
        ("queue::enqueue_all", all_at_once),
        ("immutabot_intake_reviews", batch_intake),
    ];
    let mut number = 0;
    for (before, heads, added, after) in table {
        for (name, way) in &ways {
            // A pull request of its own per case and way.
            number += 1;
            seed_jobs(&pool, number, before).await;
            let got = way(&pool, number, heads).await;
            let case = format!("{name}: {before:?} + {heads:?}");
            assert_eq!(&got, added, "{case}");
            let want: Vec<(char, String)> =
                after.iter().map(|(h, s)| (*h, s.to_string())).collect();
            assert_eq!(states(&pool, number).await, want, "{case}");
        }
    }
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_job_written_by_the_intake_function_decodes_as_the_typed_job(pool: PgPool) {
    let r = review_request(5, 'c');
    let d = Delivery {
        guid: "g-1",
        event: "pull_request",
        action: Some("opened"),
    };
    let got = intake::review_in_one_round_trip(&pool, &d, &r)
        .await
        .unwrap();
    assert!(matches!(got, Intake::Queued(_)), "{got:?}");
    let (kind, payload): (String, serde_json::Value) =
        sqlx::query_as("select kind, payload from jobs")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kind, "review_pull_request");
    assert_eq!(Job::decode(&kind, &payload).unwrap(), review_job(5, 'c'));
}

#[sqlx::test(migrations = false)]
async fn jobs_queued_before_typed_jobs_are_rewritten_and_decode(pool: PgPool) {
    // Apply the migrations before typed jobs, queue a job as the old code wrote it, then
    // migrate the rest.
    let before = tempfile::tempdir().unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "20261202000002" {
            std::fs::copy(&path, before.path().join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(before.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let old = serde_json::json!({"installation": 7, "repo_id": REPO_ID,
        "repo": "Codertocat/Hello-World", "number": 5, "head_sha": "c".repeat(40),
        "base_sha": "f".repeat(40), "base_ref": "main"});
    sqlx::query(
        "insert into jobs (kind, payload, dedupe_key) values ('review_pull_request', $1, 'pr:1#5')",
    )
    .bind(&old)
    .execute(&pool)
    .await
    .unwrap();
    immutabot::db::migrate(&pool).await.unwrap();
    let (kind, payload): (String, serde_json::Value) =
        sqlx::query_as("select kind, payload from jobs")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(Job::decode(&kind, &payload).unwrap(), review_job(5, 'c'));
}

fn worker(pool: &PgPool, handler: Handler) -> Worker {
    Worker {
        pool: pool.clone(),
        name: "w".into(),
        timing: Timing {
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(20),
        },
        handler,
        wake: Arc::new(Notify::new()),
    }
}

fn counting(runs: Arc<AtomicUsize>, outcome: Outcome) -> Handler {
    Arc::new(move |_task| {
        let runs = runs.clone();
        let outcome = outcome.clone();
        Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            outcome
        })
    })
}

async fn job_state(pool: &PgPool) -> (String, i32, Option<String>) {
    sqlx::query_as("select state, attempts, last_error from jobs")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn an_unknown_kind_goes_dead_at_once_without_running(pool: PgPool) {
    sqlx::query(
        "insert into jobs (kind, payload) values ('frobnicate', '{\"kind\": \"frobnicate\"}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let w = worker(&pool, counting(runs.clone(), Outcome::Done));
    assert!(w.step().await.unwrap());
    let (state, attempts, error) = job_state(&pool).await;
    assert_eq!((state.as_str(), attempts), ("dead", 1));
    assert!(error.unwrap().contains("frobnicate"));
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert!(!w.step().await.unwrap(), "nothing is left to run");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_permanent_failure_is_dead_after_one_attempt(pool: PgPool) {
    let mut tx = pool.begin().await.unwrap();
    queue::enqueue(&mut tx, None, &review_job(1, 'a'))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let gone = Outcome::Permanent("not found on GitHub: GET /repos/x/y".into());
    let w = worker(&pool, counting(runs.clone(), gone));
    assert!(w.step().await.unwrap());
    assert_eq!(
        job_state(&pool).await,
        (
            "dead".into(),
            1,
            Some("not found on GitHub: GET /repos/x/y".into())
        )
    );
    assert!(!w.step().await.unwrap(), "never retried");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

async fn github_repo(pool: &PgPool, id: i64, full: &str) {
    sqlx::query(
        "insert into installations (id, account_login) values (1, 'a') on conflict do nothing",
    )
    .execute(pool)
    .await
    .unwrap();
    let name = RepoName::parse(full).unwrap();
    let row = RepoRow {
        installation: 1,
        id,
        name: &name,
        default_branch: None,
        private: false,
    };
    repositories::write(pool, row).await.unwrap();
}

async fn gitlab_project(pool: &PgPool, group_id: i64, id: i64, path: &str) -> i64 {
    let path = ProjectPath::parse(path).unwrap();
    let group = repositories::upsert_group(pool, group_id, path.namespace())
        .await
        .unwrap();
    let row = ProjectRow {
        group,
        id: ProjectId(id),
        path: &path,
        default_branch: Some("main"),
        private: true,
    };
    repositories::upsert_project(pool, row).await.unwrap()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn gitlab_projects_and_groups_live_beside_github_with_the_same_ids(pool: PgPool) {
    github_repo(&pool, 5, "a/web").await;
    // GitLab's project 5 in group 1: the same numbers as GitHub's repository 5 and
    // installation 1.
    let project = gitlab_project(&pool, 1, 5, "a/web").await;
    assert!(project < 0, "{project}");
    assert_eq!(
        gitlab_project(&pool, 1, 5, "a/web").await,
        project,
        "same row again"
    );
    assert_eq!(
        repositories::row_id(&pool, Forge::GitHub, 5).await.unwrap(),
        Some(5)
    );
    assert_eq!(
        repositories::row_id(&pool, Forge::GitLab, 5).await.unwrap(),
        Some(project)
    );
    let owners: Vec<(String, i64, String)> =
        sqlx::query_as("select forge, forge_id, account_login from installations order by forge")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        owners,
        [
            ("github".into(), 1, "a".into()),
            ("gitlab".into(), 1, "a".into())
        ]
    );
    // A GitHub row's id is GitHub's: no other forge can take it.
    let clash = sqlx::query("insert into repositories (id, forge, forge_id, owner, name) values (6, 'gitlab', 6, 'x', 'y')")
        .execute(&pool)
        .await;
    assert!(clash.is_err());
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_gitlab_group_holds_its_subgroups_projects(pool: PgPool) {
    github_repo(&pool, 5, "a/on-github").await;
    for (group, id, path) in [
        (10, 1, "a/top"),
        (11, 2, "a/b/middle"),
        (12, 3, "A/b/c/deep"),
        (13, 4, "ab/sibling"),
        (14, 5, "a_b/underscore"),
        (15, 6, "axb/c/lookalike"),
    ] {
        gitlab_project(&pool, group, id, path).await;
    }
    let names = |forge, owner: &'static str| {
        let pool = pool.clone();
        async move {
            immutabot::storage::report::repositories(&pool, forge, owner, None)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(Forge::GitLab, "a").await, ["top", "middle", "deep"]);
    assert_eq!(names(Forge::GitLab, "a/B").await, ["middle", "deep"]);
    assert_eq!(names(Forge::GitLab, "a_b").await, ["underscore"]);
    assert_eq!(names(Forge::GitHub, "a").await, ["on-github"]);
}
