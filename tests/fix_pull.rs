//! The fix-all pull request end to end: deliveries through the real router into a fresh
//! database, the worker running scan and fix-pull jobs with the real GitHub client against
//! the stateful fake GitHub, which keeps every blob, tree, commit, ref, pull request and
//! comment the bot makes.

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

use app::{App, Options, REPO, REPO_ID, SPACE};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fake_github::{BOT_LOGIN, PullRequest};
use immutabot::config::Config;
use immutabot::jobs::fix_pull::BRANCH;
use immutabot::jobs::fix_pull::policy::FixPullSettings;
use immutabot::scan::files::Recording;
use manifests::{C1, C2, C3, COMPOSE, DEPLOYMENT, JOB, OPT_IN, dropped_lines, still_to_fix};
use service::{count, fixture};
use sqlx::PgPool;
use std::collections::BTreeMap;

/// The shared App on Hello-World and Space, with this file's fix-all pull requests.
struct Harness(App);

impl std::ops::Deref for Harness {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

async fn harness(pool: PgPool) -> Harness {
    harness_with(pool, FixPullSettings::default()).await
}

async fn harness_with(pool: PgPool, settings: FixPullSettings) -> Harness {
    Harness(App::start_with(pool, Options::with_space().fix_pulls(settings)).await)
}

impl Harness {
    /// Hello-World, opted in: a writable Deployment, a Compose file with one read-only and
    /// one writable service, and a README.
    fn first_commit(&self) {
        self.commit(
            C1,
            &[
                (".immutabot.yml", OPT_IN),
                ("deploy/web.yaml", DEPLOYMENT),
                ("compose.yaml", COMPOSE),
                ("README.md", "hello\n"),
            ],
        );
    }

    /// main moves to [`C2`]: a new writable Job, the README gone, the rest as it was.
    async fn push_a_new_job(&self) {
        self.commit(
            C2,
            &[
                (".immutabot.yml", OPT_IN),
                ("deploy/web.yaml", DEPLOYMENT),
                ("compose.yaml", COMPOSE),
                ("k8s/job.yaml", JOB),
            ],
        );
        self.push("push-c2", C2).await;
    }

    /// The fix-all pull requests of `repo`, oldest first.
    fn fix_pulls(&self, repo: &str) -> Vec<PullRequest> {
        self.fake
            .pulls(repo)
            .into_iter()
            .filter(|p| p.head_ref == BRANCH)
            .collect()
    }

    fn only_fix_pull(&self) -> PullRequest {
        let pulls = self.fix_pulls(REPO);
        assert_eq!(pulls.len(), 1, "{pulls:#?}");
        pulls.into_iter().next().unwrap()
    }

    /// Asks for the fix-all pull request as the CLI does, and runs it.
    async fn ask(&self) {
        immutabot::jobs::fix_pull::request(
            &self.pool,
            "Codertocat",
            "Hello-World",
            immutabot::queue::job::FixTrigger::Cli,
        )
        .await
        .unwrap();
        self.drain().await;
    }
}

fn text(files: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(files[path].clone()).unwrap()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_repository_with_writable_units_gets_one_fix_pull_request_that_checks_clean(
    pool: PgPool,
) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;

    let pr = h.only_fix_pull();
    assert_eq!(pr.state, "open");
    assert_eq!(
        (pr.base_ref.as_str(), pr.user.as_str()),
        ("main", BOT_LOGIN)
    );
    let head = h.fake.branch_head(REPO, BRANCH).unwrap();
    assert_eq!(pr.head_sha, head);
    let commit = h.fake.commit(REPO, &head).expect("made through the API");
    assert_eq!(commit.parents, [C1]);
    assert_eq!(commit.author, BOT_LOGIN);

    // The files, applied, check clean, and are what `check --fix` makes of each.
    let before = h.fake.files_of(REPO, C1);
    let after = h.fake.files_of(REPO, &head);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    assert_eq!(still_to_fix(&after), Vec::<String>::new());
    assert!(!still_to_fix(&before).is_empty());
    for (path, old) in &before {
        let old = String::from_utf8(old.clone()).unwrap();
        let new = text(&after, path);
        if !immutabot::analyze::is_candidate(path) || path == ".immutabot.yml" {
            assert_eq!(new, old, "{path} is not ours to change");
            continue;
        }
        let empty = immutabot::scan::files::TreeFiles::default();
        let fixed = immutabot::cli::fix::fix_bytes(old.clone().into_bytes(), |b| {
            immutabot::analyze::analyze(path, b, &Config::default(), &Recording::new(&empty))
        });
        assert_eq!(
            new.as_bytes(),
            fixed.bytes,
            "{path}: what check --fix makes"
        );
        assert_eq!(dropped_lines(&old, &new), Vec::<String>::new(), "{path}");
    }
    assert_ne!(text(&after, "deploy/web.yaml"), DEPLOYMENT);
    assert!(text(&after, "deploy/web.yaml").contains("      # The shop's front end.\n"));

    let stored: (i64, String, String, String) = sqlx::query_as(
        "select number, head_sha, base_sha, state from fix_pulls where repository_id = $1",
    )
    .bind(REPO_ID)
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (pr.number as i64, head.clone(), C1.into(), "open".into())
    );
    let open = immutabot::storage::fix_pulls::open_for(&h.pool, REPO_ID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        open.url,
        format!("https://github.com/{REPO}/pull/{}", pr.number)
    );

    insta::assert_snapshot!("fix_pull_body", pr.body);

    // Asked again with nothing changed: nothing is written.
    h.fake.clear_requests();
    h.ask().await;
    assert_eq!(h.only_fix_pull().head_sha, head);
    let writes: Vec<String> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        writes.iter().all(|w| w.contains("access_tokens")),
        "{writes:?}"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_push_to_the_default_branch_makes_the_branch_again_on_the_new_head(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;
    let first = h.only_fix_pull();

    // main moves: a new writable Job, the rest as it was.
    h.commit(
        C2,
        &[
            (".immutabot.yml", OPT_IN),
            ("deploy/web.yaml", DEPLOYMENT),
            ("compose.yaml", COMPOSE),
            ("README.md", "hello again\n"),
            ("k8s/job.yaml", JOB),
        ],
    );
    h.push("push-c2", C2).await;

    let pr = h.only_fix_pull();
    assert_eq!(pr.number, first.number, "the same pull request, updated");
    let head = h.fake.branch_head(REPO, BRANCH).unwrap();
    assert_ne!(head, first.head_sha);
    assert_eq!(pr.head_sha, head);
    assert_eq!(h.fake.commit(REPO, &head).unwrap().parents, [C2]);
    let after = h.fake.files_of(REPO, &head);
    assert_eq!(text(&after, "README.md"), "hello again\n");
    assert_eq!(still_to_fix(&after), Vec::<String>::new());
    assert!(pr.body.contains("`k8s/job.yaml`"), "{}", pr.body);
    assert!(pr.body.contains("c2c2c2c2c2c2"), "{}", pr.body);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_commit_by_someone_else_on_the_branch_is_never_overwritten(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;
    let pr = h.only_fix_pull();

    let theirs = h
        .fake
        .push_as(REPO, BRANCH, "alice", &[("README.md", "alice was here\n")]);
    h.push_a_new_job().await;

    assert_eq!(h.fake.branch_head(REPO, BRANCH).unwrap(), theirs);
    let comments = h.fake.issue_comments(REPO, pr.number);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert!(
        comments[0].body.starts_with("Someone else pushed"),
        "{}",
        comments[0].body
    );
    insta::assert_snapshot!("fix_pull_foreign_push", comments[0].body);

    // Another run says nothing more and still leaves the branch alone.
    h.ask().await;
    assert_eq!(h.fake.branch_head(REPO, BRANCH).unwrap(), theirs);
    assert_eq!(h.fake.issue_comments(REPO, pr.number).len(), 1);
    assert_eq!(h.fix_pulls(REPO).len(), 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_fixed_repository_has_its_pull_request_closed_with_a_note(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;
    let pr = h.only_fix_pull();

    // Someone fixed main by hand (the pull request's own files, say).
    let fixed = h.fake.files_of(REPO, &pr.head_sha);
    for (path, bytes) in &fixed {
        h.fake.set_file(REPO, C2, path, bytes.clone());
    }
    h.fake.set_default_branch(REPO, "main", C2);
    h.push("push-c2", C2).await;

    let closed = h.only_fix_pull();
    assert_eq!(closed.state, "closed");
    let comments = h.fake.issue_comments(REPO, pr.number);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.starts_with("Nothing is left to fix"),
        "{}",
        comments[0].body
    );
    let (state, by_us): (String, bool) =
        sqlx::query_as("select state, closed_by_us from fix_pulls where repository_id = $1")
            .bind(REPO_ID)
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), by_us), ("closed", true));
    assert_eq!(
        immutabot::storage::fix_pulls::open_for(&h.pool, REPO_ID)
            .await
            .unwrap(),
        None
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_pull_request_a_person_closed_comes_back_only_when_the_findings_change(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;
    let pr = h.only_fix_pull();
    h.fake.set_pr_state(REPO, pr.number, "closed");

    // The default branch moves, but what there is to fix is the same.
    h.commit(
        C2,
        &[
            (".immutabot.yml", OPT_IN),
            ("deploy/web.yaml", DEPLOYMENT),
            ("compose.yaml", COMPOSE),
            ("README.md", "moved\n"),
        ],
    );
    h.push("push-c2", C2).await;
    h.ask().await;
    let pulls = h.fix_pulls(REPO);
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].state, "closed");
    assert!(h.fake.issue_comments(REPO, pr.number).is_empty());

    // A new finding: a new pull request, the branch made again from the new head.
    h.commit(
        C3,
        &[
            (".immutabot.yml", OPT_IN),
            ("deploy/web.yaml", DEPLOYMENT),
            ("compose.yaml", COMPOSE),
            ("k8s/job.yaml", JOB),
        ],
    );
    h.push("push-c3", C3).await;
    let pulls = h.fix_pulls(REPO);
    assert_eq!(pulls.len(), 2, "{pulls:#?}");
    assert_eq!(
        pulls[0].state, "closed",
        "the closed one is never re-opened"
    );
    assert_eq!(pulls[1].state, "open");
    let head = h.fake.branch_head(REPO, BRANCH).unwrap();
    assert_eq!(h.fake.commit(REPO, &head).unwrap().parents, [C3]);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn repositories_that_did_not_opt_in_get_none_unless_asked(pool: PgPool) {
    let h = harness(pool).await;
    h.commit(C1, &[("deploy/web.yaml", DEPLOYMENT)]);
    h.install().await;
    assert!(h.fix_pulls(REPO).is_empty());
    assert_eq!(
        count(
            &h.pool,
            "select count(*) from jobs where kind = 'fix_pull_request'"
        )
        .await,
        0
    );
    h.ask().await;
    assert_eq!(h.only_fix_pull().state, "open");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_rate_per_installation_holds_back_the_next_repository(pool: PgPool) {
    let settings = FixPullSettings {
        per_hour: 1,
        ..Default::default()
    };
    let h = harness_with(pool, settings).await;
    h.first_commit();
    h.commit_on(
        SPACE,
        C3,
        &[(".immutabot.yml", OPT_IN), ("deploy/web.yaml", DEPLOYMENT)],
    );
    h.install().await;
    assert_eq!(h.only_fix_pull().state, "open");

    let status = h
        .send(
            "installation_repositories",
            "added",
            fixture("installation_repositories/added"),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // One round only: the held-back job is retried later, not now.
    let w = h.worker("w1");
    while w.step().await.unwrap() {}
    assert!(h.fix_pulls(SPACE).is_empty());
    let (state, error): (String, String) = sqlx::query_as(
        "select state, last_error from jobs where kind = 'fix_pull_request' and dedupe_key <> $1",
    )
    .bind(format!("fix:{REPO_ID}"))
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(state, "queued");
    assert!(error.starts_with("rate limited: 1 repositories"), "{error}");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_report_button_and_the_cli_queue_the_fix_pull_request(pool: PgPool) {
    let h = harness(pool).await;
    h.commit(C1, &[("deploy/web.yaml", DEPLOYMENT)]);
    h.install().await;
    let token = immutabot::auth::tokens::create(&h.pool, "Codertocat", None)
        .await
        .unwrap()
        .token;
    let page = h.get("/report/Codertocat/Hello-World", &token).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"<form method="post" action="Hello-World/fix-pull-request""#),
        "{}",
        page.body
    );
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("form-action 'self'"), "{csp}");

    let post = |token: Option<&str>, origin: Option<&str>| {
        let mut req = Request::post("/report/Codertocat/Hello-World/fix-pull-request")
            .header(header::HOST, "bot.example.com");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        req.body(Body::empty()).unwrap()
    };
    assert_eq!(
        service::send(&h.router, post(None, None)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let other = immutabot::auth::tokens::create(&h.pool, "someone-else", None)
        .await
        .unwrap()
        .token;
    assert_eq!(
        service::send(&h.router, post(Some(&other), None))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        service::send(&h.router, post(Some(&token), Some("https://evil.example")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let answer = service::send(
        &h.router,
        post(Some(&token), Some("https://bot.example.com")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.headers[header::LOCATION],
        "/report/Codertocat/Hello-World"
    );
    let queued = "select count(*) from jobs where kind = 'fix_pull_request' and state = 'queued'";
    assert_eq!(count(&h.pool, queued).await, 1);
    h.drain().await;
    assert_eq!(h.only_fix_pull().state, "open");

    // `immutabot fix-pr` queues it too (and says what it did).
    let run = |target: &str| h.cli(&["fix-pr", target]);
    let out = run("codertocat/hello-world");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("queued  Codertocat/Hello-World (job"),
        "{stdout}"
    );
    assert_eq!(count(&h.pool, queued).await, 1);
    let out = run("codertocat/nope");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no installed GitHub repository"));
    let out = run("not a repo");
    assert_eq!(out.status.code(), Some(2));
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_charts_fix_goes_where_its_author_edits_and_renders_read_only(pool: PgPool) {
    let h = harness(pool).await;
    for (path, bytes) in tools::shared_files("charts/hello-world", "charts/hello-world") {
        h.fake.set_file(REPO, C1, &path, bytes);
    }
    h.fake
        .set_file(REPO, C1, ".immutabot.yml", OPT_IN.as_bytes().to_vec());
    h.fake.set_default_branch(REPO, "main", C1);
    h.install().await;

    let pr = h.only_fix_pull();
    let before = h.fake.files_of(REPO, C1);
    let after = h.fake.files_of(REPO, &pr.head_sha);
    let changed: Vec<&String> = after
        .iter()
        .filter(|(path, bytes)| before.get(*path) != Some(*bytes))
        .map(|(path, _)| path)
        .collect();
    assert!(
        !changed.is_empty() && changed.iter().all(|p| p.starts_with("charts/hello-world/")),
        "{changed:?}"
    );
    assert!(pr.body.contains("`charts/hello-world/"), "{}", pr.body);

    // The default branch takes the fix: the chart renders read-only, the pull request closes.
    for (path, bytes) in &after {
        h.fake.set_file(REPO, C2, path, bytes.clone());
    }
    h.fake.set_default_branch(REPO, "main", C2);
    h.push("push-c2", C2).await;
    assert_eq!(h.only_fix_pull().state, "closed");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn with_fix_pull_requests_off_the_report_shows_no_button_and_refuses_a_post(pool: PgPool) {
    let h = harness(pool).await;
    h.commit(C1, &[("deploy/web.yaml", DEPLOYMENT)]);
    h.install().await;
    let mut state = service::state(h.pool.clone());
    state.fix_pull_requests = immutabot::jobs::fix_pull::policy::Mode::Off;
    let router = service::router(state);
    let token = immutabot::auth::tokens::create(&h.pool, "Codertocat", None)
        .await
        .unwrap()
        .token;
    let page = service::get_as(&router, "/report/Codertocat/Hello-World", &token).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Deployment/web"), "{}", page.body);
    assert!(!page.body.contains("fix-pull-request"), "{}", page.body);
    let answer = service::send(
        &router,
        Request::post("/report/Codertocat/Hello-World/fix-pull-request")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert!(
        answer.body.contains("IMMUTABOT_FIX_PULL_REQUESTS=off"),
        "{}",
        answer.body
    );
    let queued = "select count(*) from jobs where kind = 'fix_pull_request' and state = 'queued'";
    assert_eq!(count(&h.pool, queued).await, 0);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_push_racing_the_bots_update_is_never_overwritten(pool: PgPool) {
    let h = harness(pool).await;
    h.first_commit();
    h.install().await;
    let pr = h.only_fix_pull();

    // main moves; alice pushes to the branch after the bot looked at it, before it moves it.
    h.fake
        .push_before_next_swap(REPO, BRANCH, "alice", &[("README.md", "alice was here\n")]);
    h.push_a_new_job().await;

    let theirs = h.fake.branch_head(REPO, BRANCH).unwrap();
    assert_ne!(theirs, pr.head_sha, "alice's push landed");
    assert_eq!(h.fake.commit(REPO, &theirs).unwrap().author, "alice");
    let (state, error): (String, String) = sqlx::query_as(
        "select state, last_error from jobs where kind = 'fix_pull_request' order by id desc limit 1",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(state, "queued", "retried later");
    assert!(error.contains("moved to"), "{error}");

    // The retry sees alice's commit and says so instead of replacing it.
    sqlx::query("update jobs set run_after = now() where state = 'queued'")
        .execute(&h.pool)
        .await
        .unwrap();
    h.drain().await;
    assert_eq!(h.fake.branch_head(REPO, BRANCH).unwrap(), theirs);
    let comments = h.fake.issue_comments(REPO, pr.number);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    assert!(
        comments[0].body.starts_with("Someone else pushed"),
        "{}",
        comments[0].body
    );
}
