//! Full-repository scans end to end: signed deliveries through the real router into a fresh
//! database, the worker running scan jobs with the real GitHub client against the stateful
//! fake GitHub, and what the compliance report reads afterwards (`scans`, `unit_states`).

#[path = "support/app.rs"]
mod app;
#[path = "support/fake_github/mod.rs"]
mod fake_github;
#[path = "support/manifests.rs"]
mod manifests;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;
#[path = "support/tools.rs"]
mod tools;

use app::{App, INSTALLATION, Options, REPO, REPO_ID, SPACE, SPACE_ID, push_event as push};
use axum::http::StatusCode;
use fake_github::{FakeGitHub, Fault};
use immutabot::jobs::JobContext;
use manifests::COMPOSE;
use service::{count, fixture};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

const C1: &str = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
const C2: &str = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
const C3: &str = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";

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

const GITLAB_CI: &str = "\
build:
  image: rust:1.94
  script:
    - cargo build
";

/// The shared App on Hello-World and Space, with this file's first commit.
struct Harness(App);

impl std::ops::Deref for Harness {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

async fn harness(pool: PgPool) -> Harness {
    Harness(App::start_with(pool, Options::with_space()).await)
}

impl Harness {
    /// The first commit of Hello-World: a writable Deployment, a Compose file with one
    /// read-only and one writable service, a CI file and a README.
    fn first_commit(&self) {
        self.commit(
            C1,
            &[
                ("deploy/web.yaml", DEPLOYMENT),
                ("compose.yaml", COMPOSE),
                (".gitlab-ci.yml", GITLAB_CI),
                ("README.md", "hello\n"),
            ],
        );
    }

    /// Requests for blobs since the log was last cleared.
    fn blob_requests(&self) -> Vec<String> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.path_only().contains("/git/blobs/"))
            .map(|r| r.path)
            .collect()
    }
}

/// A unit as the report reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct UnitState {
    id: i64,
    path: String,
    workload: String,
    container: Option<String>,
    state: String,
    rules: Vec<String>,
    has_fix: bool,
    valid_from_scan: i64,
    valid_to_scan: Option<i64>,
}

async fn units(pool: &PgPool, repo_id: i64) -> Vec<UnitState> {
    sqlx::query_as(
        "select id, path, workload, container, state, rules, fix is not null as has_fix,
                valid_from_scan, valid_to_scan
           from unit_states where repository_id = $1 order by id",
    )
    .bind(repo_id)
    .fetch_all(pool)
    .await
    .unwrap()
}

fn current(all: &[UnitState]) -> Vec<(&str, &str, &str)> {
    let mut v: Vec<_> = all
        .iter()
        .filter(|u| u.valid_to_scan.is_none())
        .map(|u| (u.path.as_str(), u.workload.as_str(), u.state.as_str()))
        .collect();
    v.sort();
    v
}

/// (commit, state, files, units, read_only, writable) of each scan, oldest first.
async fn scans(pool: &PgPool, repo_id: i64) -> Vec<(i64, String, String, i32, i32, i32, i32)> {
    sqlx::query_as(
        "select id, commit_sha, state, files, units, read_only, writable
           from scans where repository_id = $1 order by id",
    )
    .bind(repo_id)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn an_installation_scans_its_repositories_at_the_default_branch_head(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;

    let s = scans(&h.pool, REPO_ID).await;
    assert_eq!(s.len(), 1, "{s:?}");
    let (_, commit, state, files, n, read_only, writable) = s[0].clone();
    assert_eq!(
        (commit.as_str(), state.as_str()),
        (C1, "done"),
        "scanned at the head of main"
    );
    // The CI file is YAML but not ours; the README is not a candidate.
    assert_eq!((files, n, read_only, writable), (2, 3, 1, 2));

    let all = units(&h.pool, REPO_ID).await;
    assert_eq!(
        current(&all),
        [
            ("compose.yaml", "db", "true"),
            ("compose.yaml", "worker", "false"),
            ("deploy/web.yaml", "Deployment/web", "false"),
        ]
    );
    let web = all.iter().find(|u| u.workload == "Deployment/web").unwrap();
    assert_eq!(web.container.as_deref(), Some("nginx"));
    assert!(web.rules.contains(&"writable-root-filesystem".to_string()));
    assert!(web.has_fix, "the suggested patch is stored");
    let db = all.iter().find(|u| u.workload == "db").unwrap();
    assert!(db.rules.is_empty() && !db.has_fix);
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from repositories where id = 186853002 and default_branch = 'main'"
        )
        .await,
        1,
        "the default branch GitHub named is remembered"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_fix_pushed_to_the_default_branch_makes_the_unit_read_only_with_no_manual_step(
    pool: PgPool,
) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;
    let before = units(&h.pool, REPO_ID).await;
    assert_eq!(in_report(&h.pool).await, ["Deployment/web", "worker"]);

    h.commit(
        C2,
        &[
            ("deploy/web.yaml", DEPLOYMENT_FIXED),
            ("compose.yaml", COMPOSE),
            (".gitlab-ci.yml", GITLAB_CI),
            ("README.md", "hello\n"),
        ],
    );
    h.push("push-1", C2).await;

    let s = scans(&h.pool, REPO_ID).await;
    assert_eq!(s.len(), 2);
    let (second, commit, state, _, _, read_only, writable) = s[1].clone();
    assert_eq!((commit.as_str(), state.as_str()), (C2, "done"));
    assert_eq!((read_only, writable), (2, 1));

    let after = units(&h.pool, REPO_ID).await;
    assert_eq!(
        current(&after),
        [
            ("compose.yaml", "db", "true"),
            ("compose.yaml", "worker", "false"),
            ("deploy/web.yaml", "Deployment/web", "true"),
        ]
    );
    let old = before
        .iter()
        .find(|u| u.workload == "Deployment/web")
        .unwrap();
    let closed = after.iter().find(|u| u.id == old.id).unwrap();
    assert_eq!(
        (closed.state.as_str(), closed.valid_to_scan),
        ("false", Some(second)),
        "the writable row is closed by the scan of the fix"
    );
    let new = after
        .iter()
        .find(|u| u.workload == "Deployment/web" && u.valid_to_scan.is_none())
        .unwrap();
    assert_eq!(new.valid_from_scan, second);
    assert!(!new.has_fix && new.rules.is_empty());
    // The Compose units did not change: their rows are the same ones.
    assert_eq!(after.len(), before.len() + 1);
    for u in before.iter().filter(|u| u.path == "compose.yaml") {
        assert!(after.contains(u), "{u:?} was rewritten");
    }
    // What the report shows: the Deployment left the writable list by itself.
    assert_eq!(in_report(&h.pool).await, ["worker"]);
}

/// The writable units the repository's report page lists.
async fn in_report(pool: &PgPool) -> Vec<String> {
    let (owner, name) = REPO.split_once('/').unwrap();
    let web = immutabot::report::queries::WebRoots {
        github: "https://github.com",
        gitlab: None,
    };
    immutabot::report::queries::repository_report(pool, owner, name, web)
        .await
        .unwrap()
        .writable_units
        .into_iter()
        .map(|u| u.workload)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_push_to_another_branch_queues_nothing(pool: PgPool) {
    let h = harness(pool).await;
    let status = h
        .send("push", "push-x", push("refs/heads/feature", C2))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&h.pool, "select count(*) from jobs").await, 0);
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from deliveries where guid = 'push-x' and outcome = 'ignored'"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_newer_push_supersedes_a_pending_scan_of_an_older_one(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.commit(C2, &[("deploy/web.yaml", DEPLOYMENT_FIXED)]);
    h.send("push", "p1", push("refs/heads/main", C1)).await;
    h.send("push", "p2", push("refs/heads/main", C2)).await;
    // A redelivery of the newer push is the same work.
    assert_eq!(
        h.send("push", "p2-again", push("refs/heads/main", C2))
            .await,
        StatusCode::OK
    );
    let jobs: Vec<(String, Option<String>)> =
        sqlx::query_as("select state, head_sha from jobs order by id")
            .fetch_all(&h.pool)
            .await
            .unwrap();
    assert_eq!(
        jobs,
        [
            ("superseded".to_string(), Some(C1.to_string())),
            ("queued".to_string(), Some(C2.to_string())),
        ]
    );
    h.drain().await;
    let s = scans(&h.pool, REPO_ID).await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].1, C2);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn an_identical_file_in_another_repository_is_neither_fetched_nor_analysed_again(
    pool: PgPool,
) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;
    let cached = count(&h.pool, "select count(*) from blob_analyses").await;
    assert!(cached >= 3, "every candidate's report is cached ({cached})");

    // Space holds the same Deployment at the same path, and one new file.
    h.commit_on(
        SPACE,
        C3,
        &[
            ("deploy/web.yaml", DEPLOYMENT),
            ("k8s/job.yaml", "kind: Job\n"),
        ],
    );
    h.fake.clear_requests();
    let status = h
        .send(
            "installation_repositories",
            "added",
            fixture("installation_repositories/added"),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    h.drain().await;

    let web = FakeGitHub::blob_id(DEPLOYMENT.as_bytes());
    let fetched = h.blob_requests();
    assert!(
        !fetched.iter().any(|p| p.contains(&web)),
        "the cached blob was fetched again: {fetched:?}"
    );
    assert_eq!(
        fetched.len(),
        1,
        "only the new file is fetched: {fetched:?}"
    );
    assert_eq!(
        count(&h.pool, "select count(*) from blob_analyses").await,
        cached + 1,
        "only the new file is analysed"
    );
    assert_eq!(
        current(&units(&h.pool, SPACE_ID).await),
        [("deploy/web.yaml", "Deployment/web", "false")]
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_truncated_tree_is_walked_folder_by_folder_with_the_same_result(pool: PgPool) {
    let h = harness(pool).await;
    h.commit(
        C1,
        &[
            ("deploy/k8s/prod/web.yaml", DEPLOYMENT),
            ("compose.yaml", COMPOSE),
        ],
    );
    h.fake.truncate_trees(REPO, true);
    h.install().await;

    let trees: Vec<String> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path_only().contains("/git/trees/"))
        .map(|r| r.path)
        .collect();
    // One recursive listing (truncated), then the root and each of its three folders.
    assert_eq!(trees.len(), 5, "{trees:?}");
    assert!(trees[0].ends_with("?recursive=1"));
    assert!(trees[1..].iter().all(|p| !p.contains("recursive")));
    assert_eq!(
        current(&units(&h.pool, REPO_ID).await),
        [
            ("compose.yaml", "db", "true"),
            ("compose.yaml", "worker", "false"),
            ("deploy/k8s/prod/web.yaml", "Deployment/web", "false"),
        ]
    );
    assert_eq!(
        count(&h.pool, "select count(*) from scans where error is null").await,
        1,
        "a completed walk is not noted as partial"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn unchanged_units_add_no_rows_and_a_scanned_commit_is_not_scanned_again(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;
    let rows = count(&h.pool, "select count(*) from unit_states").await;
    assert_eq!(rows, 3);

    // The same commit again (by hand): nothing is fetched, nothing is stored.
    h.fake.clear_requests();
    let queued = immutabot::scan::enqueue::by_name(&h.pool, "codertocat", None)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    h.drain().await;
    assert_eq!(count(&h.pool, "select count(*) from scans").await, 1);
    assert!(h.blob_requests().is_empty());
    assert!(
        !h.fake
            .requests()
            .iter()
            .any(|r| r.path_only().contains("/git/trees/"))
    );

    // A new commit that changes no manifest: a new scan, no new unit rows.
    h.commit(
        C3,
        &[
            ("deploy/web.yaml", DEPLOYMENT),
            ("compose.yaml", COMPOSE),
            (".gitlab-ci.yml", GITLAB_CI),
            ("README.md", "hello again\n"),
        ],
    );
    h.send("push", "push-3", push("refs/heads/main", C3)).await;
    h.drain().await;
    assert_eq!(
        count(&h.pool, "select count(*) from scans where state = 'done'").await,
        2
    );
    assert_eq!(
        count(&h.pool, "select count(*) from unit_states").await,
        rows,
        "storage grows with what changed"
    );
    assert!(
        h.blob_requests().is_empty(),
        "every manifest came from the cache"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn an_invalid_config_is_noted_and_the_defaults_are_used(pool: PgPool) {
    let h = harness(pool).await;
    h.commit(
        C1,
        &[
            ("deploy/web.yaml", DEPLOYMENT),
            (".immutabot.yml", "ignore_path: [deploy/**]\n"),
        ],
    );
    h.install().await;
    let (error,): (Option<String>,) = sqlx::query_as("select error from scans")
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert!(
        error.as_deref().unwrap_or("").contains(".immutabot.yml"),
        "{error:?}"
    );
    assert_eq!(current(&units(&h.pool, REPO_ID).await).len(), 1);

    // A valid one applies: its ignored paths are not scanned.
    h.commit(
        C2,
        &[
            ("deploy/web.yaml", DEPLOYMENT),
            (".immutabot.yml", "ignore_paths: [deploy/**]\n"),
        ],
    );
    h.send("push", "p", push("refs/heads/main", C2)).await;
    h.drain().await;
    assert!(current(&units(&h.pool, REPO_ID).await).is_empty());
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_periodic_rescan_queues_only_stale_repositories(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.commit_on(SPACE, C3, &[("deploy/web.yaml", DEPLOYMENT)]);
    h.install().await;
    let day = Duration::from_secs(86400);

    // Hello-World was just scanned; Space is installed but its event was missed: the round
    // learns of it from GitHub and queues it, and only it.
    let n = immutabot::rescan::once(&h.pool, &h.ctx.github.get().unwrap(), day)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let pending: Vec<(String,)> =
        sqlx::query_as("select dedupe_key from jobs where state = 'queued'")
            .fetch_all(&h.pool)
            .await
            .unwrap();
    assert_eq!(pending, [(format!("scan:{SPACE_ID}"),)]);
    // A second round does not queue it twice.
    assert_eq!(
        immutabot::rescan::once(&h.pool, &h.ctx.github.get().unwrap(), day)
            .await
            .unwrap(),
        0
    );
    h.drain().await;

    // Two days later Hello-World is stale; a removed repository is not rescanned.
    sqlx::query(
        "update scans set finished_at = now() - interval '2 days' where repository_id = $1",
    )
    .bind(REPO_ID)
    .execute(&h.pool)
    .await
    .unwrap();
    let queued = immutabot::scan::enqueue::stale(&h.pool, day).await.unwrap();
    assert_eq!(
        queued.iter().map(|q| q.repo.as_str()).collect::<Vec<_>>(),
        [REPO]
    );
    h.drain().await;
    sqlx::query("update scans set finished_at = now() - interval '2 days'")
        .execute(&h.pool)
        .await
        .unwrap();
    sqlx::query("update repositories set removed_at = now() where id = $1")
        .bind(SPACE_ID)
        .execute(&h.pool)
        .await
        .unwrap();
    let queued = immutabot::scan::enqueue::stale(&h.pool, day).await.unwrap();
    assert_eq!(
        queued.iter().map(|q| q.repo.as_str()).collect::<Vec<_>>(),
        [REPO]
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn immutabot_scan_queues_the_known_repositories_of_an_owner(pool: PgPool) {
    let h = harness(pool).await;
    h.send("installation", "inst", fixture("installation/created"))
        .await;
    h.send(
        "installation_repositories",
        "added",
        fixture("installation_repositories/added"),
    )
    .await;
    // Mark the event's scans done, so that what the command queues is new work.
    sqlx::query("update jobs set state = 'done'")
        .execute(&h.pool)
        .await
        .unwrap();
    let run = |target: &str| h.cli(&["scan", target]);

    let out = run("codertocat");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("queued  Codertocat/Hello-World (job"),
        "{stdout}"
    );
    assert!(stdout.contains("queued  Codertocat/Space (job"), "{stdout}");
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from jobs where state = 'queued' and kind = 'scan_repository'"
        )
        .await,
        2
    );

    let out = run("Codertocat/Space");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pending Codertocat/Space"));

    for nothing in ["someone-else", "Codertocat/nope"] {
        let out = run(nothing);
        assert_eq!(out.status.code(), Some(2), "{nothing}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("no installed repository"));
    }
    assert_eq!(
        count(&h.pool, "select count(*) from jobs where state = 'queued'").await,
        2
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn installation_and_push_deliveries_queue_scans_in_their_transaction(pool: PgPool) {
    let h = harness(pool).await;
    let jobs = |pool: PgPool| async move {
        let rows: Vec<(String, Option<String>, String, serde_json::Value)> =
            sqlx::query_as("select delivery_guid, dedupe_key, kind, payload from jobs order by id")
                .fetch_all(&pool)
                .await
                .unwrap();
        rows
    };
    assert_eq!(
        h.send("installation", "i1", fixture("installation/created"))
            .await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        h.send(
            "installation_repositories",
            "i2",
            fixture("installation_repositories/added")
        )
        .await,
        StatusCode::ACCEPTED
    );
    // Removing repositories and deleting the installation queue nothing.
    assert_eq!(
        h.send(
            "installation_repositories",
            "i3",
            fixture("installation_repositories/removed")
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        h.send("installation", "i4", fixture("installation/deleted"))
            .await,
        StatusCode::OK
    );
    let queued = jobs(h.pool.clone()).await;
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert_eq!(
        (
            queued[0].0.as_str(),
            queued[0].1.as_deref(),
            queued[0].2.as_str()
        ),
        ("i1", Some("scan:186853002"), "scan_repository")
    );
    assert_eq!(
        queued[0].3,
        serde_json::json!({"kind": "scan_repository", "forge": "github",
            "installation": INSTALLATION, "repo_id": REPO_ID,
            "repo": REPO, "commit": null, "branch": null})
    );
    assert_eq!(queued[1].1.as_deref(), Some("scan:186853007"));

    assert_eq!(
        h.send("push", "p1", push("refs/heads/main", C2)).await,
        StatusCode::ACCEPTED
    );
    let mut deleted: serde_json::Value =
        serde_json::from_slice(&push("refs/heads/main", &"0".repeat(40))).unwrap();
    deleted["deleted"] = true.into();
    assert_eq!(
        h.send("push", "p2", serde_json::to_vec(&deleted).unwrap())
            .await,
        StatusCode::OK
    );
    let queued = jobs(h.pool.clone()).await;
    assert_eq!(queued.len(), 3);
    assert_eq!(queued[2].3["commit"], C2);
    assert_eq!(queued[2].3["branch"], "main");
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from deliveries where outcome = 'queued'"
        )
        .await,
        3
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_repository_of_real_charts_and_kustomizations_counts_no_phantom_units(pool: PgPool) {
    let h = harness(pool).await;
    let files: Vec<(String, Vec<u8>)> = ["charts", "kustomize"]
        .into_iter()
        .flat_map(|dir| tools::shared_files(dir, dir))
        .collect();
    for (path, bytes) in &files {
        h.fake.set_file(REPO, C1, path, bytes.clone());
    }
    h.fake.set_default_branch(REPO, "main", C1);
    h.install().await;

    let s = scans(&h.pool, REPO_ID).await;
    assert_eq!(s[0].2, "done", "{s:?}");
    let all = units(&h.pool, REPO_ID).await;
    assert!(
        !all.is_empty(),
        "the kustomizations' Deployments are counted (through their overlays)"
    );
    for u in &all {
        let name = u.path.rsplit('/').next().unwrap();
        assert!(u.workload.contains('/'), "phantom Compose unit: {u:?}");
        assert!(
            !name.starts_with("values") && !name.ends_with("_test.yaml"),
            "{u:?}"
        );
    }
    assert_eq!(s[0].4 as usize, all.len(), "the scan counts what it stored");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_scan_renders_a_chart_once_and_counts_kustomize_overlays_not_their_base(pool: PgPool) {
    let h = harness(pool).await;
    let files = tools::shared_files("charts/hello-world", "charts/hello-world")
        .into_iter()
        .chain(tools::shared_files(
            "kustomize/kustomize-example-ldap",
            "deploy/ldap",
        ));
    for (path, bytes) in files {
        h.fake.set_file(REPO, C1, &path, bytes);
    }
    h.fake.set_default_branch(REPO, "main", C1);
    h.install().await;

    let s = scans(&h.pool, REPO_ID).await;
    assert_eq!(s.len(), 1, "{s:?}");
    let (_, _, state, files, n, read_only, writable) = s[0].clone();
    assert_eq!(state, "done");
    let all = units(&h.pool, REPO_ID).await;
    let mut seen: Vec<(&str, Option<&str>)> = all
        .iter()
        .map(|u| (u.workload.as_str(), u.container.as_deref()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("Deployment/production-ldap", Some("ldap")),
            ("Deployment/release-name-hello-world", Some("hello-world")),
            ("Deployment/staging-ldap", Some("ldap")),
        ],
        "the chart's container once (default values), each overlay's Deployment, not the base's: {all:?}"
    );
    assert_eq!((n, read_only, writable), (3, 0, 3));
    let chart = all
        .iter()
        .find(|u| u.workload.contains("hello-world"))
        .unwrap();
    assert!(
        chart.path.starts_with("charts/hello-world/templates/"),
        "{chart:?}"
    );
    for u in all.iter().filter(|u| u.workload.ends_with("-ldap")) {
        // On the base's resource, where kustomize says it comes from; its finding and patch
        // are on the overlay's kustomization file, which the patch edits.
        assert_eq!(u.path, "deploy/ldap/base/deployment.yaml", "{u:?}");
        assert_eq!(u.rules, ["writable-root-filesystem"], "{u:?}");
        assert!(u.has_fix, "{u:?}");
    }
    // No plain file of the chart or the base: the files with rendered units (the template,
    // the base's resource) and the two overlays' kustomization files holding their patches.
    let paths: std::collections::BTreeSet<&str> = all.iter().map(|u| u.path.as_str()).collect();
    assert_eq!((files as usize, paths.len()), (4, 2), "{all:?}");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn two_scans_at_once_fetch_and_analyse_a_shared_blob_once(pool: PgPool) {
    let h = harness(pool).await;
    h.commit(
        C1,
        &[("deploy/web.yaml", DEPLOYMENT), ("compose.yaml", COMPOSE)],
    );
    h.commit_on(
        SPACE,
        C3,
        &[
            ("deploy/web.yaml", DEPLOYMENT),
            ("k8s/job.yaml", "kind: Job\n"),
        ],
    );
    // Both scans are queued before either runs, and a slow GitHub makes them overlap.
    for (event, guid, payload) in [
        ("installation", "inst", "installation/created"),
        (
            "installation_repositories",
            "added",
            "installation_repositories/added",
        ),
    ] {
        assert_eq!(
            h.send(event, guid, fixture(payload)).await,
            StatusCode::ACCEPTED
        );
    }
    h.fake.fail_next(
        "GET",
        "/repos/*/*/git/blobs/",
        Fault::slow(Duration::from_millis(300)),
        100,
    );
    h.fake.clear_requests();
    let (w1, w2) = (h.worker("w1"), h.worker("w2"));
    let (a, b) = tokio::join!(w1.step(), w2.step());
    assert!(a.unwrap() && b.unwrap(), "each worker ran one scan");
    h.drain().await;

    let web = FakeGitHub::blob_id(DEPLOYMENT.as_bytes());
    let fetched = h.blob_requests();
    let shared = fetched.iter().filter(|p| p.contains(&web)).count();
    assert_eq!(shared, 1, "the shared blob is fetched once: {fetched:?}");
    assert_eq!(fetched.len(), 3, "and each other file once: {fetched:?}");
    assert_eq!(
        count(&h.pool, "select count(*) from blob_analyses").await,
        3,
        "one analysis per blob"
    );
    for repo in [REPO_ID, SPACE_ID] {
        let all = units(&h.pool, repo).await;
        assert!(
            current(&all).contains(&("deploy/web.yaml", "Deployment/web", "false")),
            "{repo}: {all:?}"
        );
    }
    assert!(h.ctx.in_flight.is_empty(), "every claim was let go");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_chart_past_the_render_budget_is_noted_and_keeps_its_units(pool: PgPool) {
    let h = harness(pool).await;
    let chart = tools::shared_files("charts/hello-world", "charts/hello-world");
    for (path, bytes) in &chart {
        h.fake.set_file(REPO, C1, path, bytes.clone());
    }
    h.fake.set_default_branch(REPO, "main", C1);
    h.install().await;
    let before = current(&units(&h.pool, REPO_ID).await)
        .into_iter()
        .map(|(p, w, s)| (p.to_string(), w.to_string(), s.to_string()))
        .collect::<Vec<_>>();
    assert_eq!(before.len(), 1, "{before:?}");

    // The next commit is scanned by a process whose render budget is already spent.
    for (path, bytes) in chart {
        h.fake.set_file(REPO, C2, &path, bytes);
    }
    h.fake
        .set_file(REPO, C2, "deploy/web.yaml", DEPLOYMENT.as_bytes().to_vec());
    h.fake.set_default_branch(REPO, "main", C2);
    let spent = Arc::new(JobContext::new(
        h.pool.clone(),
        h.ctx.github.clone(),
        None,
        h.ctx.renderers.clone().with_job_budget(Duration::ZERO),
    ));
    let status = h.send("push", "push-1", push("refs/heads/main", C2)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    service::drain(&spent).await;

    let s = scans(&h.pool, REPO_ID).await;
    let (_, commit, state, _, n, _, writable) = s[1].clone();
    assert_eq!((commit.as_str(), state.as_str()), (C2, "done"));
    assert_eq!((n, writable), (2, 2), "the chart's unit is still counted");
    let (note,): (Option<String>,) =
        sqlx::query_as("select error from scans order by id desc limit 1")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!(
        note.as_deref(),
        Some(
            "1 file(s) or folder(s) were not analysed in time or within the scan's memory budget; their units keep their last state"
        )
    );
    let all = units(&h.pool, REPO_ID).await;
    let after = current(&all);
    let chart_unit = (
        before[0].0.as_str(),
        before[0].1.as_str(),
        before[0].2.as_str(),
    );
    assert!(
        after.contains(&chart_unit),
        "not closed as fixed: {after:?}"
    );
    assert!(after.contains(&("deploy/web.yaml", "Deployment/web", "false")));
}
