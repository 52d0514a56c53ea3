//! The fix-all merge request on GitLab, end to end: push hooks through the real router into
//! a fresh database, the worker running scan and fix-pull jobs with the real GitLab client
//! against the stateful fake GitLab, which keeps every commit, branch, merge request and
//! note the bot makes. The same job as GitHub's fix-all pull request (`tests/fix_pull.rs`),
//! through the Commits API: one request writes the files, the commit and the branch.

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

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use fake_gitlab::{Fault, MergeRequest};
use gitlab_app::{BOT, GitLabApp, PATH, PROJECT};
use immutabot::jobs::fix_pull::BRANCH;
use immutabot::queue::job::FixTrigger;
use manifests::{C1, C2, C3, COMPOSE, DEPLOYMENT, JOB, OPT_IN, dropped_lines, still_to_fix};
use sqlx::PgPool;

const THEIRS: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
/// The display name of the bot user, the author of its commits.
const BOT_NAME: &str = "immutabot (payments)";

const FILES: &[(&str, &str)] = &[
    (".immutabot.yml", OPT_IN),
    ("deploy/web.yaml", DEPLOYMENT),
    ("compose.yaml", COMPOSE),
    ("README.md", "hello\n"),
];

async fn app(pool: PgPool) -> GitLabApp {
    let app = GitLabApp::start(pool, PATH).await;
    app.fake.set_name(BOT, BOT_NAME);
    app
}

/// The project opted in, with a writable Deployment and a writable Compose service, pushed.
async fn first_push(app: &GitLabApp) {
    app.commit(C1, FILES);
    app.push(C1).await;
}

/// The fix-all merge requests, oldest first.
fn fix_requests(app: &GitLabApp) -> Vec<MergeRequest> {
    app.fake
        .merge_requests(PROJECT)
        .into_iter()
        .filter(|m| m.source_branch == BRANCH)
        .collect()
}

fn only_fix_request(app: &GitLabApp) -> MergeRequest {
    let all = fix_requests(app);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap()
}

/// Asks for the fix-all merge request as `immutabot fix-pr acme/payments/shop` does, and
/// runs it.
async fn ask(app: &GitLabApp) {
    let asked =
        immutabot::jobs::fix_pull::request(&app.pool, "acme/payments", "shop", FixTrigger::Cli)
            .await
            .unwrap();
    assert!(
        matches!(asked, immutabot::jobs::fix_pull::Requested::Queued(_, ref r) if r == PATH),
        "{asked:?}"
    );
    app.drain().await;
}

fn text(app: &GitLabApp, sha: &str, path: &str) -> String {
    String::from_utf8(app.fake.file(PROJECT, sha, path).unwrap_or_default()).unwrap()
}

fn writes(app: &GitLabApp) -> Vec<String> {
    app.fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path_only()))
        .collect()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_project_with_writable_units_gets_one_fix_merge_request_that_checks_clean(pool: PgPool) {
    let app = app(pool).await;
    first_push(&app).await;

    let mr = only_fix_request(&app);
    assert_eq!(
        (mr.state.as_str(), mr.target_branch.as_str()),
        ("opened", "main")
    );
    let head = app.fake.branch_head(PROJECT, BRANCH).unwrap();
    assert_eq!(mr.head_sha, head);
    let commit = app
        .fake
        .commit(PROJECT, &head)
        .expect("made through the API");
    assert_eq!(commit.parents, [C1]);
    assert_eq!(commit.author_name, BOT_NAME);

    // The files, applied, check clean, and differ from the originals only by added lines.
    let after: Vec<(String, String)> = FILES
        .iter()
        .map(|(p, _)| (p.to_string(), text(&app, &head, p)))
        .collect();
    assert_eq!(
        still_to_fix(after.iter().map(|(p, t)| (p, t))),
        Vec::<String>::new()
    );
    for ((path, before), (_, new)) in FILES.iter().zip(&after) {
        assert_eq!(dropped_lines(before, new), Vec::<String>::new(), "{path}");
        if !immutabot::analyze::is_candidate(path) || *path == ".immutabot.yml" {
            assert_eq!(new, before, "{path} is not ours to change");
        } else {
            assert_ne!(new, before, "{path} is patched");
        }
    }
    assert!(text(&app, &head, "deploy/web.yaml").contains("      # The shop's front end.\n"));

    let stored: (i64, String, String, String, String) = sqlx::query_as(
        "select f.number, f.url, f.head_sha, f.base_sha, f.state
           from fix_pulls f join repositories r on r.id = f.repository_id
          where r.forge = 'gitlab' and r.forge_id = $1",
    )
    .bind(PROJECT)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let url = format!("{}/{PATH}/-/merge_requests/{}", app.fake.url(), mr.iid);
    assert_eq!(
        stored,
        (mr.iid, url, head.clone(), C1.into(), "open".into())
    );
    let body = mr.description.replace(&head, "HEAD");
    assert!(
        body.contains("This merge request makes them read-only"),
        "{body}"
    );
    insta::assert_snapshot!("fix_merge_request_body", body);

    // Asked again with nothing changed: nothing is written.
    app.fake.clear_requests();
    ask(&app).await;
    assert_eq!(only_fix_request(&app).head_sha, head);
    assert_eq!(writes(&app), Vec::<String>::new());
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_push_to_the_default_branch_makes_the_branch_again_on_the_new_head(pool: PgPool) {
    let app = app(pool).await;
    first_push(&app).await;
    let first = only_fix_request(&app);

    app.commit(C2, FILES);
    app.fake
        .set_file(PROJECT, C2, "README.md", "hello again\n")
        .set_file(PROJECT, C2, "k8s/job.yaml", JOB);
    app.push(C2).await;

    let mr = only_fix_request(&app);
    assert_eq!(mr.iid, first.iid, "the same merge request, updated");
    let head = app.fake.branch_head(PROJECT, BRANCH).unwrap();
    assert_ne!(head, first.head_sha);
    assert_eq!(app.fake.commit(PROJECT, &head).unwrap().parents, [C2]);
    assert_eq!(text(&app, &head, "README.md"), "hello again\n");
    let job = text(&app, &head, "k8s/job.yaml");
    assert_eq!(still_to_fix([("k8s/job.yaml", job)]), Vec::<String>::new());
    assert!(
        mr.description.contains("`k8s/job.yaml`"),
        "{}",
        mr.description
    );
    assert!(
        mr.description.contains("c2c2c2c2c2c2"),
        "{}",
        mr.description
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_commit_by_someone_else_on_the_branch_is_never_overwritten(pool: PgPool) {
    let app = app(pool).await;
    first_push(&app).await;
    let mr = only_fix_request(&app);

    app.fake.push_branch(
        PROJECT,
        BRANCH,
        THEIRS,
        "Alice",
        &[("README.md", "alice was here\n")],
    );
    app.commit(C2, FILES);
    app.fake.set_file(PROJECT, C2, "k8s/job.yaml", JOB);
    app.push(C2).await;

    assert_eq!(app.fake.branch_head(PROJECT, BRANCH).unwrap(), THEIRS);
    let notes = app.fake.notes(PROJECT, mr.iid);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].body.starts_with("Someone else pushed"),
        "{}",
        notes[0].body
    );
    assert!(
        notes[0]
            .body
            .contains("no longer updates this merge request"),
        "{}",
        notes[0].body
    );

    // Another run says nothing more and still leaves the branch alone.
    ask(&app).await;
    assert_eq!(app.fake.branch_head(PROJECT, BRANCH).unwrap(), THEIRS);
    assert_eq!(app.fake.notes(PROJECT, mr.iid).len(), 1);
    assert_eq!(fix_requests(&app).len(), 1);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_fixed_project_has_its_merge_request_closed_with_a_note(pool: PgPool) {
    let app = app(pool).await;
    first_push(&app).await;
    let mr = only_fix_request(&app);

    // Someone fixed main by hand: the merge request's own files, say.
    let fixed: Vec<(String, String)> = FILES
        .iter()
        .map(|(p, _)| (p.to_string(), text(&app, &mr.head_sha, p)))
        .collect();
    let fixed: Vec<(&str, &str)> = fixed
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    app.commit(C2, &fixed);
    app.push(C2).await;

    let closed = only_fix_request(&app);
    assert_eq!(closed.state, "closed");
    let notes = app.fake.notes(PROJECT, mr.iid);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].body.starts_with("Nothing is left to fix"),
        "{}",
        notes[0].body
    );
    assert!(
        notes[0].body.contains("closes this merge request"),
        "{}",
        notes[0].body
    );
    let (state, by_us): (String, bool) =
        sqlx::query_as("select state, closed_by_us from fix_pulls")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), by_us), ("closed", true));
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_merge_request_a_person_closed_comes_back_only_when_the_findings_change(pool: PgPool) {
    let app = app(pool).await;
    first_push(&app).await;
    let mr = only_fix_request(&app);
    app.fake.set_merge_request_state(PROJECT, mr.iid, "closed");

    // The default branch moves, but what there is to fix is the same.
    app.commit(C2, FILES);
    app.fake.set_file(PROJECT, C2, "README.md", "moved\n");
    app.push(C2).await;
    ask(&app).await;
    assert_eq!(fix_requests(&app).len(), 1, "not re-opened");
    assert_eq!(app.fake.branch_head(PROJECT, BRANCH).unwrap(), mr.head_sha);

    // New findings: a new merge request, the old branch (only ever ours) made again.
    app.commit(C3, FILES);
    app.fake.set_file(PROJECT, C3, "k8s/job.yaml", JOB);
    app.push(C3).await;
    let all = fix_requests(&app);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(
        (all[0].state.as_str(), all[1].state.as_str()),
        ("closed", "opened")
    );
    let head = app.fake.branch_head(PROJECT, BRANCH).unwrap();
    assert_eq!(all[1].head_sha, head);
    assert_eq!(app.fake.commit(PROJECT, &head).unwrap().parents, [C3]);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn lost_answers_make_one_commit_and_one_merge_request(pool: PgPool) {
    let app = app(pool).await;
    app.commit(C1, FILES);
    // GitLab did the work each time, but the answer never came back.
    app.fake
        .fail_next(
            "POST",
            "/projects/*/repository/commits$",
            Fault::gitlab_error(502).after_work(),
            1,
        )
        .fail_next(
            "POST",
            "/projects/*/merge_requests$",
            Fault::gitlab_error(502).after_work(),
            1,
        );
    app.push(C1).await;

    let mr = only_fix_request(&app);
    let posts = |pattern: &str| {
        app.fake
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path_only().ends_with(pattern))
            .count()
    };
    assert_eq!(
        posts("/repository/commits"),
        1,
        "found again, not sent twice"
    );
    assert_eq!(posts("/merge_requests"), 1, "found again, not sent twice");
    assert_eq!(mr.head_sha, app.fake.branch_head(PROJECT, BRANCH).unwrap());
    let (state,): (String,) =
        sqlx::query_as("select state from jobs where kind = 'fix_pull_request'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(state, "done");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn the_report_button_and_the_cli_queue_the_fix_merge_request(pool: PgPool) {
    let app = app(pool).await;
    // Not opted in: only asking makes one.
    app.commit(C1, &[("deploy/web.yaml", DEPLOYMENT)]);
    app.push(C1).await;
    assert!(fix_requests(&app).is_empty());

    let token = immutabot::auth::tokens::create(&app.pool, "acme", None)
        .await
        .unwrap()
        .token;
    let page = service::get_as(&app.router, "/report/acme/payments%2Fshop", &token).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(r#"<form method="post" action="payments%2Fshop/fix-pull-request""#),
        "{}",
        page.body
    );
    let answer = service::send(
        &app.router,
        Request::post("/report/acme/payments%2Fshop/fix-pull-request")
            .header(header::HOST, "bot.example.com")
            .header(header::ORIGIN, "https://bot.example.com")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    app.drain().await;
    assert_eq!(only_fix_request(&app).state, "opened");

    // `immutabot fix-pr` takes the project's full path.
    let url = service::database_url(&app.pool);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .args(["fix-pr", "acme/payments/shop"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("queued  {PATH} (job")),
        "{stdout}"
    );
}
