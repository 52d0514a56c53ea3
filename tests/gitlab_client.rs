//! The GitLab client against the stateful fake GitLab (tests/support/fake_gitlab): each test
//! is one promise the client makes to the review pipeline, errors and retries included, and
//! every real webhook payload we keep is read into the event it stands for.

#[path = "support/fake_gitlab/mod.rs"]
mod fake_gitlab;

use fake_gitlab::{Diff, FakeGitLab, Fault, LINE_CODE_MESSAGE};
use immutabot::forge::gitlab::webhook::{self, GitLabEvent};
use immutabot::forge::gitlab::{CommitState, GitLabClient, GitLabError, GitLabSettings};
use immutabot::forge::retry::RetryPolicy;
use immutabot::forge::{ChangedFile, EntryKind, FileStatus, ReviewComment};
use immutabot::ids::{CommitSha, MergeRequestIid, ProjectId};
use secrecy::SecretString;
use std::time::{Duration, Instant};

const TOKEN: &str = "glpat-immutabot-test";
const BOT: &str = "project_7_bot_1";
const P: i64 = 7;
const IID: i64 = 3;
const BASE: &str = "1111111111111111111111111111111111111111";
const START: &str = "2222222222222222222222222222222222222222";
const HEAD: &str = "3333333333333333333333333333333333333333";

const OLD: &str = "services:\n  web:\n    image: nginx\n    ports:\n      - 80:80\n";
const NEW: &str = "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - 80:80\n  worker:\n    image: busybox\n";

fn sha(s: &str) -> CommitSha {
    CommitSha::parse(s).unwrap()
}

fn settings(url: &str, token: &str) -> GitLabSettings {
    GitLabSettings {
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            secondary_fallback: Duration::from_millis(50),
            max_wait: Duration::from_secs(5),
        },
        request_timeout: Duration::from_secs(5),
        diff_refs_delay: Duration::from_millis(10),
        write_interval: Duration::from_millis(5),
        ..GitLabSettings::new(url, SecretString::from(token.to_string()))
    }
}

/// A fake with project 7 and merge request !3 changing `compose.yaml`, and a client for it.
async fn setup(diffs: Vec<Diff>) -> (FakeGitLab, GitLabClient) {
    let fake = FakeGitLab::start().await;
    fake.add_token(TOKEN, BOT)
        .add_project(P, "acme/shop", "main")
        .add_merge_request(P, IID, (BASE, START, HEAD), diffs);
    let client = GitLabClient::new(settings(&fake.url(), TOKEN)).unwrap();
    (fake, client)
}

async fn compose_mr() -> (FakeGitLab, GitLabClient) {
    setup(vec![Diff::modified("compose.yaml", OLD, NEW)]).await
}

fn ids() -> (ProjectId, MergeRequestIid) {
    (ProjectId(P), MergeRequestIid(IID))
}

fn comment(start_line: Option<u32>, line: u32, body: &str) -> ReviewComment {
    ReviewComment {
        path: "compose.yaml".into(),
        start_line,
        line,
        body: body.into(),
    }
}

const SUGGESTION: &str = "**Root file system is writable**\n\n```suggestion\n    image: busybox\n    read_only: true\n```\n\n<!-- immutabot:fingerprint=ab12 -->";

/// The merge request's refs and its one changed file, as the pipeline would read them.
async fn read_mr(client: &GitLabClient) -> (immutabot::forge::gitlab::DiffRefs, ChangedFile) {
    let (p, iid) = ids();
    let mr = client.merge_request(p, iid).await.unwrap();
    let files = client.changed_files(p, iid).await.unwrap();
    (mr.diff_refs, files.into_iter().next().unwrap())
}

#[tokio::test]
async fn a_merge_request_is_read_with_its_diff_refs() {
    let (fake, client) = compose_mr().await;
    let (p, iid) = ids();
    let mr = client.merge_request(p, iid).await.unwrap();
    assert_eq!(mr.diff_refs.base_sha, sha(BASE));
    assert_eq!(mr.diff_refs.start_sha, sha(START));
    assert_eq!(mr.diff_refs.head_sha, sha(HEAD));
    assert_eq!(mr.pull.head_sha, sha(HEAD));
    assert_eq!(
        mr.pull.base_sha,
        sha(START),
        "the target branch's tip the diff is against"
    );
    assert_eq!(mr.pull.base_ref, "main");
    assert!(mr.pull.open && !mr.pull.draft);
    let r = &fake.requests()[0];
    assert_eq!(r.path, "/api/v4/projects/7/merge_requests/3");
    assert_eq!(r.token.as_deref(), Some(TOKEN));
}

#[tokio::test]
async fn null_diff_refs_just_after_creation_are_read_again() {
    let (fake, client) = compose_mr().await;
    fake.null_diff_refs(P, IID, 3);
    let (p, iid) = ids();
    let mr = client.merge_request(p, iid).await.unwrap();
    assert_eq!(mr.diff_refs.head_sha, sha(HEAD));
    assert_eq!(
        fake.requests().len(),
        4,
        "three null answers, then the refs"
    );

    fake.null_diff_refs(P, IID, 100);
    let err = client.merge_request(p, iid).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("diff_refs not ready after 6 reads"),
        "{err}"
    );
}

#[tokio::test]
async fn diffs_are_read_page_by_page() {
    let diffs: Vec<Diff> = (0..250)
        .map(|i| Diff::added(&format!("k8s/app-{i:03}.yaml"), "kind: Pod\n"))
        .collect();
    let (fake, client) = setup(diffs).await;
    let (p, iid) = ids();
    let files = client.changed_files(p, iid).await.unwrap();
    assert_eq!(files.len(), 250);
    assert_eq!(files[249].path, "k8s/app-249.yaml");
    assert!(files.iter().all(|f| f.status == FileStatus::Added));
    let pages: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        pages,
        [
            "/api/v4/projects/7/merge_requests/3/diffs?per_page=100",
            "/api/v4/projects/7/merge_requests/3/diffs?per_page=100&page=2",
            "/api/v4/projects/7/merge_requests/3/diffs?per_page=100&page=3",
        ]
    );
}

#[tokio::test]
async fn a_too_large_file_is_not_in_the_diff_rather_than_unchanged() {
    let renamed = Diff {
        old_path: "old/deploy.yaml".into(),
        renamed_file: true,
        ..Diff::modified("k8s/deploy.yaml", OLD, NEW)
    };
    let deleted = Diff {
        deleted_file: true,
        ..Diff::modified("gone.yaml", OLD, "")
    };
    let (_fake, client) = setup(vec![Diff::too_large("big.yaml"), renamed, deleted]).await;
    let (p, iid) = ids();
    let files = client.changed_files(p, iid).await.unwrap();
    assert_eq!(files[0].path, "big.yaml");
    assert_eq!(files[0].patch, None);
    assert_eq!(files[0].status, FileStatus::Modified);
    assert_eq!(files[1].status, FileStatus::Renamed);
    assert_eq!(files[1].previous_path.as_deref(), Some("old/deploy.yaml"));
    assert!(files[1].patch.as_deref().unwrap().starts_with("@@ -1,"));
    assert_eq!(files[2].status, FileStatus::Removed);
}

#[tokio::test]
async fn files_trees_and_blobs_at_a_commit() {
    let (fake, client) = compose_mr().await;
    fake.set_file(P, HEAD, "deploy/my app/web.yaml", "kind: Pod\n")
        .set_file(P, HEAD, "compose.yaml", NEW);
    let (p, _) = ids();
    let got = client
        .file_at(p, "deploy/my app/web.yaml", &sha(HEAD))
        .await
        .unwrap();
    assert_eq!(got.as_deref(), Some(&b"kind: Pod\n"[..]));
    assert_eq!(
        fake.requests()[0].path,
        format!("/api/v4/projects/7/repository/files/deploy%2Fmy%20app%2Fweb.yaml/raw?ref={HEAD}")
    );
    assert_eq!(
        client.file_at(p, "missing.yaml", &sha(HEAD)).await.unwrap(),
        None
    );
    assert!(
        client
            .file_at(p, "../etc/passwd", &sha(HEAD))
            .await
            .is_err()
    );

    let tree = client.tree(p, &sha(HEAD)).await.unwrap();
    assert!(!tree.truncated);
    let paths: Vec<(&str, EntryKind)> = tree
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.kind))
        .collect();
    assert_eq!(
        paths,
        [
            ("compose.yaml", EntryKind::Blob),
            ("deploy", EntryKind::Tree),
            ("deploy/my app", EntryKind::Tree),
            ("deploy/my app/web.yaml", EntryKind::Blob),
        ]
    );
    let blob = client.blob(p, &tree.entries[0].sha).await.unwrap();
    assert_eq!(blob, NEW.as_bytes());
}

#[tokio::test]
async fn the_default_branch_head_of_a_project() {
    let (fake, client) = compose_mr().await;
    fake.set_branch(P, "main", START);
    let (branch, head) = client.default_branch_head(ProjectId(P)).await.unwrap();
    assert_eq!((branch.as_str(), head), ("main", sha(START)));
    let err = client.default_branch_head(ProjectId(99)).await.unwrap_err();
    assert!(matches!(err, GitLabError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn an_added_line_gets_a_discussion_with_a_gitlab_suggestion() {
    let (fake, client) = compose_mr().await;
    let (refs, file) = read_mr(&client).await;
    let (p, iid) = ids();
    // NEW's lines 6-7 (`worker:`, `image: busybox`) are added.
    let id = client
        .create_discussion(p, iid, &refs, &file, &comment(Some(6), 7, SUGGESTION))
        .await
        .unwrap();
    let discussions = fake.discussions(P, IID);
    assert_eq!(discussions.len(), 1);
    assert_eq!(discussions[0].id, id);
    let body = &discussions[0].notes[0].body;
    assert!(
        body.contains("```suggestion:-1+0\n    image: busybox\n    read_only: true\n```"),
        "{body}"
    );
    assert!(body.ends_with("<!-- immutabot:fingerprint=ab12 -->"));
    let position = discussions[0].position.clone().unwrap();
    assert_eq!(position["position_type"], "text");
    assert_eq!(position["base_sha"], BASE);
    assert_eq!(position["start_sha"], START);
    assert_eq!(position["head_sha"], HEAD);
    assert_eq!(position["old_path"], "compose.yaml");
    assert_eq!(position["new_path"], "compose.yaml");
    assert_eq!(position["new_line"], 7);
    assert!(
        position.get("old_line").is_none(),
        "an added line has no old number"
    );
    assert_eq!(position["line_range"]["start"]["type"], "new");
    assert_eq!(position["line_range"]["end"]["type"], "new");
}

#[tokio::test]
async fn a_context_line_position_carries_both_numbers() {
    let (fake, client) = compose_mr().await;
    let (refs, file) = read_mr(&client).await;
    let (p, iid) = ids();
    // Line 4 (`ports:`) is unchanged context, old line 4 too; line 2 (`web:`) likewise.
    client
        .create_discussion(
            p,
            iid,
            &refs,
            &file,
            &comment(None, 4, "```suggestion\n    ports: []\n```"),
        )
        .await
        .unwrap();
    let position = fake.discussions(P, IID)[0].position.clone().unwrap();
    assert_eq!(
        (position["old_line"].as_u64(), position["new_line"].as_u64()),
        (Some(4), Some(4))
    );
    assert!(
        fake.discussions(P, IID)[0].notes[0]
            .body
            .starts_with("```suggestion:-0+0\n")
    );

    // A range from a context line to an added one: both ends by line code.
    client
        .create_discussion(
            p,
            iid,
            &refs,
            &file,
            &comment(Some(2), 3, "```suggestion\nx\ny\n```"),
        )
        .await
        .unwrap();
    let position = fake.discussions(P, IID)[1].position.clone().unwrap();
    assert_eq!(position["line_range"]["start"]["type"], "old");
    assert_eq!(position["line_range"]["end"]["type"], "new");
}

#[tokio::test]
async fn a_position_outside_the_diff_is_refused_with_gitlabs_message() {
    let (fake, client) = setup(vec![
        Diff::modified(
            "compose.yaml",
            &format!("{OLD}{}", "# pad\n".repeat(20)),
            &format!("{NEW}{}", "# pad\n".repeat(20)),
        ),
        Diff::too_large("big.yaml"),
    ])
    .await;
    let (refs, file) = read_mr(&client).await;
    let (p, iid) = ids();
    let err = client
        .create_discussion(
            p,
            iid,
            &refs,
            &file,
            &comment(None, 25, "far below the hunk"),
        )
        .await
        .unwrap_err();
    match err {
        GitLabError::Refused { status, message } => {
            assert_eq!(status, 400);
            assert_eq!(message, LINE_CODE_MESSAGE);
        }
        other => panic!("{other:?}"),
    }
    let big = client.changed_files(p, iid).await.unwrap().remove(1);
    let on_big = ReviewComment {
        path: "big.yaml".into(),
        ..comment(None, 1, "x")
    };
    let err = client
        .create_discussion(p, iid, &refs, &big, &on_big)
        .await
        .unwrap_err();
    assert!(matches!(err, GitLabError::Refused { .. }), "{err:?}");
    assert!(fake.discussions(P, IID).is_empty());
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 2, "a refusal is not retried");
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried_into_one_discussion() {
    let (fake, client) = compose_mr().await;
    let (refs, file) = read_mr(&client).await;
    let (p, iid) = ids();
    fake.fail_next(
        "POST",
        "/projects/7/merge_requests/3/discussions",
        Fault::gitlab_error(502),
        1,
    )
    .fail_next(
        "POST",
        "/projects/7/merge_requests/3/discussions",
        Fault::gitlab_rate_limited(1),
        1,
    );
    let started = Instant::now();
    client
        .create_discussion(p, iid, &refs, &file, &comment(None, 7, SUGGESTION))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after was honoured"
    );
    assert_eq!(fake.discussions(P, IID).len(), 1);
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 3);
}

#[tokio::test]
async fn a_lost_answer_after_the_work_does_not_post_twice() {
    let (fake, client) = compose_mr().await;
    let (refs, file) = read_mr(&client).await;
    let (p, iid) = ids();
    fake.fail_next(
        "POST",
        "/projects/7/merge_requests/3/discussions",
        Fault::gitlab_error(500).after_work(),
        1,
    );
    let id = client
        .create_discussion(p, iid, &refs, &file, &comment(None, 7, SUGGESTION))
        .await
        .unwrap();
    let discussions = fake.discussions(P, IID);
    assert_eq!(discussions.len(), 1, "found, not posted again");
    assert_eq!(discussions[0].id, id);
}

#[tokio::test]
async fn reads_are_retried_after_5xx_and_give_up_in_the_end() {
    let (fake, client) = compose_mr().await;
    let (p, iid) = ids();
    fake.fail_next(
        "GET",
        "/projects/7/merge_requests/3/diffs",
        Fault::gitlab_error(503),
        2,
    );
    assert_eq!(client.changed_files(p, iid).await.unwrap().len(), 1);
    fake.fail_next(
        "GET",
        "/projects/7/merge_requests/3/diffs",
        Fault::gitlab_error(500),
        10,
    );
    let err = client.changed_files(p, iid).await.unwrap_err();
    assert!(
        matches!(err, GitLabError::Status { status: 500, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn threads_show_replies_and_resolve() {
    let (fake, client) = compose_mr().await;
    let (refs, file) = read_mr(&client).await;
    let (p, iid) = ids();
    let id = client
        .create_discussion(p, iid, &refs, &file, &comment(None, 7, SUGGESTION))
        .await
        .unwrap();
    fake.reply(P, IID, &id, "alice", "We need a writable /data here.");
    let threads = client.discussions(p, iid).await.unwrap();
    assert_eq!(threads.len(), 1);
    let t = &threads[0];
    assert_eq!(
        (t.id.as_str(), t.path.as_str(), t.is_resolved),
        (id.as_str(), "compose.yaml", false)
    );
    let authors: Vec<&str> = t.comments.iter().map(|c| c.author.as_str()).collect();
    assert_eq!(authors, [BOT, "alice"]);
    assert_eq!(
        t.comments[0].body,
        fake.discussions(P, IID)[0].notes[0].body
    );

    client.resolve_discussion(p, iid, &id).await.unwrap();
    assert!(fake.discussions(P, IID)[0].resolved);
    assert!(client.discussions(p, iid).await.unwrap()[0].is_resolved);
    assert!(client.resolve_discussion(p, iid, "../../x").await.is_err());
}

#[tokio::test]
async fn the_summary_note_is_edited_in_place() {
    let (fake, client) = compose_mr().await;
    let (p, iid) = ids();
    let marker = "<!-- immutabot:summary -->";
    let first = client
        .upsert_note(p, iid, marker, &format!("2 findings\n{marker}"))
        .await
        .unwrap();
    let second = client
        .upsert_note(p, iid, marker, &format!("1 finding\n{marker}"))
        .await
        .unwrap();
    assert_eq!(first, second);
    let notes = fake.notes(P, IID);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].body, format!("1 finding\n{marker}"));
    assert_eq!(notes[0].author, BOT);
    let puts = fake.requests().iter().filter(|r| r.method == "PUT").count();
    assert_eq!(puts, 1);

    // The same text again: nothing is written.
    fake.clear_requests();
    client
        .upsert_note(p, iid, marker, &format!("1 finding\n{marker}"))
        .await
        .unwrap();
    assert!(fake.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn a_summary_note_whose_answer_was_lost_is_found_not_posted_again() {
    let (fake, client) = compose_mr().await;
    let (p, iid) = ids();
    let marker = "<!-- immutabot:summary -->";
    fake.fail_next(
        "POST",
        "/projects/7/merge_requests/3/notes",
        Fault::gitlab_error(502).after_work(),
        1,
    );
    let id = client
        .upsert_note(p, iid, marker, &format!("2 findings\n{marker}"))
        .await
        .unwrap();
    let notes = fake.notes(P, IID);
    assert_eq!(notes.len(), 1, "found, not posted again");
    assert_eq!(notes[0].id, id.0);
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn a_repeated_status_transition_is_not_an_error() {
    let (fake, client) = compose_mr().await;
    let (p, _) = ids();
    let head = sha(HEAD);
    client
        .set_status(p, &head, CommitState::Pending, "Reviewing", None)
        .await
        .unwrap();
    client
        .set_status(p, &head, CommitState::Pending, "Reviewing", None)
        .await
        .unwrap();
    client
        .set_status(
            p,
            &head,
            CommitState::Success,
            "No writable root file systems",
            Some("https://immutabot.example/r"),
        )
        .await
        .unwrap();
    let states: Vec<String> = fake.statuses(P).iter().map(|s| s.state.clone()).collect();
    assert_eq!(states, ["pending", "success"]);
    assert!(fake.statuses(P).iter().all(|s| s.name == "immutabot"));
    let refused = fake.requests().iter().filter(|r| r.status == 400).count();
    assert_eq!(refused, 1, "GitLab did say no once");
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_not_retried() {
    let (fake, _) = compose_mr().await;
    let client = GitLabClient::new(settings(&fake.url(), "glpat-wrong")).unwrap();
    let (p, iid) = ids();
    let err = client.merge_request(p, iid).await.unwrap_err();
    match err {
        GitLabError::Unauthorized {
            status, message, ..
        } => {
            assert_eq!(status, 401);
            assert_eq!(message, "401 Unauthorized");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn calls_go_to_the_configured_instance_only() {
    let (fake, client) = compose_mr().await;
    fake.set_file(P, HEAD, "a.yaml", "x");
    let (p, _) = ids();
    client.tree(p, &sha(HEAD)).await.unwrap();
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v4/"))
    );
    assert!(GitLabClient::new(settings("ftp://gitlab.example.com", TOKEN)).is_err());
    assert!(GitLabClient::new(settings(&fake.url(), "")).is_err());
    assert!(GitLabClient::new(settings(&fake.url(), "bad\ntoken")).is_err());
}

// ---- webhooks ----

/// The real payloads from go-gitlab and Atlantis (tests/data/payloads/SOURCES.md).
const PAYLOADS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/payloads/gitlab");

fn payload(name: &str) -> Vec<u8> {
    std::fs::read(format!("{PAYLOADS}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn event(name: &str) -> GitLabEvent {
    webhook::parse(&payload(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn opened_and_reopened_merge_requests_are_reviewed() {
    let GitLabEvent::Review(mr) = event("gitlab-merge-request-event.json") else {
        panic!("not a review")
    };
    assert_eq!(mr.project_id, ProjectId(4580910));
    assert_eq!(mr.project_path, "lkysow/atlantis-example");
    assert_eq!(mr.iid, MergeRequestIid(12));
    assert_eq!(mr.head_sha, sha("d2eae324ca26242abca45d7b49d582cddb2a4f15"));
    assert_eq!(
        (mr.action.as_str(), mr.target_branch.as_str()),
        ("open", "main")
    );
    assert!(
        matches!(event("merge_request.json"), GitLabEvent::Review(m) if m.action == "open" && m.iid == MergeRequestIid(1))
    );

    let mut reopened: serde_json::Value =
        serde_json::from_slice(&payload("merge_request.json")).unwrap();
    reopened["object_attributes"]["action"] = "reopen".into();
    let reopened = webhook::parse(reopened.to_string().as_bytes()).unwrap();
    assert!(matches!(reopened, GitLabEvent::Review(m) if m.action == "reopen"));
}

#[test]
fn an_update_with_new_commits_is_reviewed() {
    for name in [
        "gitlab-merge-request-event-update-new-commit.json",
        "service_merge_request.json",
    ] {
        let GitLabEvent::Review(mr) = event(name) else {
            panic!("{name}: not a review")
        };
        assert_eq!(mr.action, "update", "{name}");
    }
    let GitLabEvent::Review(mr) = event("gitlab-merge-request-event-update-new-commit.json") else {
        unreachable!()
    };
    assert_eq!(mr.head_sha, sha("5ff66a1f7404deee915b50998c340e96d995f048"));
}

#[test]
fn updates_without_new_commits_and_other_actions_are_ignored() {
    for name in [
        "gitlab-merge-request-event-update-title.json",
        "gitlab-merge-request-event-update-labels.json",
        "gitlab-merge-request-event-mark-as-ready.json",
        "gitlab-merge-request-event-update-target-branch.json",
        "group_merge_request.json",
    ] {
        assert!(
            matches!(event(name), GitLabEvent::Ignored(_)),
            "{name}: {:?}",
            event(name)
        );
    }
}

#[test]
fn a_push_to_the_default_branch_is_a_scan_and_elsewhere_ignored() {
    let GitLabEvent::Push(push) = event("push.json") else {
        panic!("not a scan")
    };
    assert_eq!(push.project_id, ProjectId(15));
    assert_eq!(push.project_path, "mike/diaspora");
    assert_eq!(push.default_branch, "master");
    assert_eq!(push.after, sha("da1560886d4f094c3e6c9ef40349f7d38b5d27d7"));

    let mut elsewhere: serde_json::Value = serde_json::from_slice(&payload("push.json")).unwrap();
    elsewhere["ref"] = "refs/heads/feature".into();
    let ignored = webhook::parse(elsewhere.to_string().as_bytes()).unwrap();
    assert!(matches!(ignored, GitLabEvent::Ignored(why) if why.contains("refs/heads/feature")));
    elsewhere["ref"] = "refs/heads/master".into();
    elsewhere["after"] = "0000000000000000000000000000000000000000".into();
    assert!(matches!(
        webhook::parse(elsewhere.to_string().as_bytes()).unwrap(),
        GitLabEvent::Ignored(_)
    ));
}

#[test]
fn notes_pipelines_and_token_events_are_ignored() {
    for name in [
        "note_merge_request.json",
        "pipeline.json",
        "resource_access_token_project.json",
    ] {
        assert!(matches!(event(name), GitLabEvent::Ignored(_)), "{name}");
    }
}

#[test]
fn every_saved_payload_parses() {
    let mut n = 0;
    for entry in std::fs::read_dir(PAYLOADS).unwrap() {
        let path = entry.unwrap().path();
        let body = std::fs::read(&path).unwrap();
        webhook::parse(&body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert!(n >= 13, "{n} payloads");
}

#[test]
fn deliveries_dedupe_by_event_uuid_else_by_merge_request_and_head() {
    let open = event("gitlab-merge-request-event.json");
    assert_eq!(
        webhook::dedupe_key(Some("7b3e0f2a-uuid"), &open).as_deref(),
        Some("gitlab:7b3e0f2a-uuid")
    );
    assert_eq!(
        webhook::dedupe_key(None, &open).as_deref(),
        Some("gitlab:4580910:mr:12:d2eae324ca26242abca45d7b49d582cddb2a4f15")
    );
    assert_eq!(
        webhook::dedupe_key(Some("x"), &event("pipeline.json")),
        None
    );
}

#[test]
fn a_token_mismatch_is_rejected() {
    let secrets = vec![b"s3cret".to_vec()];
    assert!(webhook::token_matches(Some(b"s3cret"), &secrets));
    assert!(!webhook::token_matches(Some(b"s3cre"), &secrets));
    assert!(!webhook::token_matches(None, &secrets));
}

#[test]
fn malformed_payloads_are_errors() {
    for body in [
        &b"not json"[..],
        b"{\"object_kind\":\"merge_request\"}",
        b"{\"object_kind\":\"push\",\"ref\":1}",
    ] {
        assert!(
            webhook::parse(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

// ---- the adapter the review pipeline drives ----

#[tokio::test]
async fn the_merge_request_as_a_change_request() {
    use immutabot::forge::gitlab::{GitLabMergeRequest, SUMMARY_MARKER};
    use immutabot::forge::review::ChangeRequest;
    use immutabot::forge::{CheckOutput, Conclusion};

    let (fake, client) = compose_mr().await;
    let (p, iid) = ids();
    let mr = GitLabMergeRequest::new(client, p, iid);
    let head = mr.current().await.unwrap().head_sha;
    let status = mr.start_status(&head, None).await.unwrap();
    assert_eq!(mr.changed_files().await.unwrap().len(), 1);
    let comments = [
        comment(None, 7, SUGGESTION),
        comment(None, 20, "line 20 is outside the hunk"),
        ReviewComment {
            path: "elsewhere.yaml".into(),
            ..comment(None, 1, "not in the diff")
        },
    ];
    let posting = mr.post_comments(&head, "", &comments, "key").await.unwrap();
    assert_eq!(posting.posted, 1);
    let refused: Vec<usize> = posting.refused.iter().map(|r| r.index).collect();
    assert_eq!(refused, [1, 2]);
    assert_eq!(posting.refused[0].message, LINE_CODE_MESSAGE);
    assert_eq!(fake.discussions(P, IID).len(), 1);

    let output = |title: &str| CheckOutput {
        title: title.into(),
        summary: "summary".into(),
        annotations: Vec::new(),
    };
    mr.finish_status(&head, status, Conclusion::Failure, &output("1 finding"))
        .await
        .unwrap();
    mr.finish_status(
        &head,
        status,
        Conclusion::Failure,
        &output("still 1 finding"),
    )
    .await
    .unwrap();
    let notes = fake.notes(P, IID);
    assert_eq!(notes.len(), 1, "edited in place");
    assert!(notes[0].body.starts_with("**still 1 finding**"));
    assert!(notes[0].body.ends_with(SUMMARY_MARKER));
    let states: Vec<String> = fake.statuses(P).iter().map(|s| s.state.clone()).collect();
    assert_eq!(
        states,
        ["pending", "failed"],
        "the repeated `failed` was not an error"
    );
}
