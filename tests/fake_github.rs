//! The fake GitHub (tests/support/fake_github), exercised over real HTTP with octocrab's raw
//! client, so what passes here is what the bot's client will see.

#[path = "support/fake_github/mod.rs"]
mod fake_github;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fake_github::{Auth, FakeGitHub, Fault, FileChange, make_jwt, valid_jwt};
use serde_json::{Value, json};

const APP: u64 = 4242;
const INST: u64 = 42;
const REPO: &str = "Codertocat/Hello-World";
const REPO_ID: u64 = 186853002;

/// What a call got back.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
    fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

/// One request with exactly the given Authorization value (octocrab adds none of its own).
async fn call(method: &str, url: &str, auth: Option<&str>, body: Option<Value>) -> Answer {
    call_with(method, url, auth, body, "application/vnd.github+json").await
}

async fn call_with(
    method: &str,
    url: &str,
    auth: Option<&str>,
    body: Option<Value>,
    accept: &str,
) -> Answer {
    let client = octocrab::Octocrab::builder().build().unwrap();
    let mut req = http::Request::builder()
        .method(method)
        .uri(url)
        .header("accept", accept)
        .header("user-agent", "fake-github-test")
        .header("x-github-api-version", "2022-11-28");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    if !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    let resp = client
        .execute(req.body(body).unwrap())
        .await
        .expect("the fake answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = client.body_to_string(resp).await.unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// A fake with one installation on one repository and a token for it.
async fn fake() -> (FakeGitHub, String) {
    let gh = FakeGitHub::start(APP).await;
    gh.add_repo(REPO, REPO_ID).add_installation(INST, &[REPO]);
    let token = mint(&gh).await;
    (gh, token)
}

async fn mint(gh: &FakeGitHub) -> String {
    let url = format!("{}/app/installations/{INST}/access_tokens", gh.url());
    let a = call(
        "POST",
        &url,
        Some(&format!("Bearer {}", valid_jwt(APP))),
        None,
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.json()["token"].as_str().unwrap().to_string()
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

const OLD: &str = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\n";
const NEW: &str = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\nO\np\n";

#[tokio::test]
async fn a_valid_jwt_mints_an_installation_token() {
    let (gh, token) = fake().await;
    assert!(token.starts_with("ghs_"));
    assert_eq!(gh.access_tokens_minted(), 1);
    let log = gh.requests();
    assert_eq!(log[0].auth, Auth::Jwt);
    assert_eq!(
        log[0].path,
        format!("/app/installations/{INST}/access_tokens")
    );
    // Unknown installation: GitHub's 404.
    let url = format!("{}/app/installations/999/access_tokens", gh.url());
    let a = call("POST", &url, bearer(&valid_jwt(APP)).as_deref(), None).await;
    assert_eq!((a.status, a.message().as_str()), (404, "Not Found"));
}

#[tokio::test]
async fn bad_jwts_get_githubs_401s() {
    let (gh, token) = fake().await;
    let url = format!("{}/app/installations/{INST}/access_tokens", gh.url());
    let now = Utc::now().timestamp();
    let cases = [
        (
            make_jwt(APP, now - 60, now + 900),
            "'Expiration time' claim ('exp') is too far in the future",
        ),
        (
            make_jwt(APP, now - 600, now - 10),
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ),
        (
            make_jwt(APP, now + 120, now + 300),
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ),
        (
            make_jwt(APP + 1, now - 60, now + 540),
            "A JSON web token could not be decoded",
        ),
        (
            format!("{}x", valid_jwt(APP)),
            "A JSON web token could not be decoded",
        ),
        (token, "A JSON web token could not be decoded"),
    ];
    for (jwt, message) in cases {
        let a = call("POST", &url, bearer(&jwt).as_deref(), None).await;
        assert_eq!((a.status, a.message()), (401, message.to_string()));
    }
    // A JWT must come as Bearer.
    let a = call(
        "POST",
        &url,
        Some(&format!("token {}", valid_jwt(APP))),
        None,
    )
    .await;
    assert_eq!(a.status, 401);
    assert_eq!(gh.access_tokens_minted(), 1);
}

#[tokio::test]
async fn octocrabs_app_auth_works_against_the_fake() {
    let gh = FakeGitHub::start(APP).await;
    gh.add_repo(REPO, REPO_ID).add_installation(INST, &[REPO]);
    gh.add_pull_request(
        REPO,
        1,
        "b1",
        "main",
        "h1",
        [FileChange::added("k8s/app.yaml", "a: 1\n")],
    );
    let pem = std::fs::read(fake_github::TEST_APP_KEY_PEM).unwrap();
    let key = octocrab::jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
    let app = octocrab::Octocrab::builder()
        .base_uri(gh.url())
        .unwrap()
        .app(APP.into(), key)
        .build()
        .unwrap();
    let inst = app.installation(INST.into()).unwrap();
    let pr: Value = inst
        .get(format!("/repos/{REPO}/pulls/1"), None::<&()>)
        .await
        .unwrap();
    assert_eq!(pr["head"]["sha"], "h1");
    let _: Value = inst
        .get(format!("/repos/{REPO}/pulls/1"), None::<&()>)
        .await
        .unwrap();
    assert_eq!(gh.access_tokens_minted(), 1, "octocrab reuses its token");
    // A token GitHub no longer accepts: octocrab drops it on the 401, mints, retries once.
    gh.expire_tokens();
    let _: Value = inst
        .get(format!("/repos/{REPO}/pulls/1"), None::<&()>)
        .await
        .unwrap();
    assert_eq!(gh.access_tokens_minted(), 2);
    let statuses: Vec<u16> = gh.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 200, 200, 401, 201, 200]);
}

#[tokio::test]
async fn installation_calls_need_a_live_token_of_the_right_installation() {
    let (gh, token) = fake().await;
    gh.add_pull_request(
        REPO,
        1,
        "b1",
        "main",
        "h1",
        [FileChange::added("a.yaml", "a: 1\n")],
    );
    let url = format!("{}/repos/{REPO}/pulls/1", gh.url());
    assert_eq!(
        call("GET", &url, bearer(&token).as_deref(), None)
            .await
            .status,
        200
    );
    assert_eq!(
        call("GET", &url, Some(&format!("token {token}")), None)
            .await
            .status,
        200
    );
    let none = call("GET", &url, None, None).await;
    assert_eq!(
        (none.status, none.message().as_str()),
        (401, "Requires authentication")
    );
    let forged = call("GET", &url, Some("Bearer ghs_forged"), None).await;
    assert_eq!(
        (forged.status, forged.message().as_str()),
        (401, "Bad credentials")
    );
    // A short-lived token works, then does not.
    let short = gh.issue_token(INST, Duration::from_millis(300));
    assert_eq!(
        call("GET", &url, bearer(&short).as_deref(), None)
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        call("GET", &url, bearer(&short).as_deref(), None)
            .await
            .message(),
        "Bad credentials"
    );
    // Another installation's token does not see the repository.
    gh.add_installation(7, &[]);
    let other = gh.issue_token(7, Duration::from_secs(60));
    assert_eq!(
        call("GET", &url, bearer(&other).as_deref(), None)
            .await
            .status,
        404
    );
    // expire_tokens forces a refresh.
    gh.expire_tokens();
    assert_eq!(
        call("GET", &url, bearer(&token).as_deref(), None)
            .await
            .status,
        401
    );
    assert_eq!(gh.requests().last().unwrap().auth, Auth::Token(token));
}

#[tokio::test]
async fn pull_request_shape() {
    let (gh, token) = fake().await;
    gh.add_pull_request(REPO, 3, "base1", "main", "head1", Vec::<FileChange>::new());
    gh.set_pr_state(REPO, 3, "closed").set_draft(REPO, 3, true);
    let a = call(
        "GET",
        &format!("{}/repos/{REPO}/pulls/3", gh.url()),
        bearer(&token).as_deref(),
        None,
    )
    .await;
    let pr = a.json();
    assert_eq!(
        (
            pr["number"].clone(),
            pr["state"].clone(),
            pr["draft"].clone()
        ),
        (json!(3), json!("closed"), json!(true))
    );
    assert_eq!(pr["base"]["sha"], "base1");
    assert_eq!(pr["base"]["ref"], "main");
    assert_eq!(pr["head"]["repo"]["full_name"], REPO);
    let missing = call(
        "GET",
        &format!("{}/repos/{REPO}/pulls/4", gh.url()),
        bearer(&token).as_deref(),
        None,
    )
    .await;
    assert_eq!(
        (missing.status, missing.message().as_str()),
        (404, "Not Found")
    );
}

/// `rel="next"` from a Link header.
fn next_link(a: &Answer) -> Option<String> {
    a.header("link")
        .split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .map(|l| {
            l.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_string()
        })
}

async fn paginate(prefix: &str) {
    let gh = FakeGitHub::start_with_prefix(APP, prefix).await;
    gh.add_repo(REPO, REPO_ID).add_installation(INST, &[REPO]);
    let token = mint(&gh).await;
    let files: Vec<FileChange> = (0..150)
        .map(|i| FileChange::added(&format!("f{i:03}.yaml"), "a: 1\n"))
        .collect();
    gh.add_pull_request(REPO, 1, "b", "main", "h", files);
    let first = format!("{}/repos/{REPO}/pulls/1/files?per_page=100", gh.url());
    let a = call("GET", &first, bearer(&token).as_deref(), None).await;
    assert_eq!(a.json().as_array().unwrap().len(), 100);
    let next = next_link(&a).expect("a next page");
    assert_eq!(
        next,
        format!(
            "{}/repositories/{REPO_ID}/pulls/1/files?per_page=100&page=2",
            gh.url()
        )
    );
    assert!(a.header("link").contains("&page=2>; rel=\"last\""));
    let b = call("GET", &next, bearer(&token).as_deref(), None).await;
    let page2 = b.json();
    assert_eq!(page2.as_array().unwrap().len(), 50);
    assert_eq!(page2[0]["filename"], "f100.yaml");
    assert_eq!(page2[0]["patch"], "@@ -0,0 +1 @@\n+a: 1");
    assert_eq!(
        (page2[0]["additions"].clone(), page2[0]["status"].clone()),
        (json!(1), json!("added"))
    );
    assert_eq!(next_link(&b), None);
    assert!(b.header("link").contains("rel=\"prev\""));
    let log = gh.requests();
    let second = log.last().unwrap();
    assert_eq!(
        second.path,
        format!("{prefix}/repositories/{REPO_ID}/pulls/1/files?per_page=100&page=2")
    );
    assert_eq!(second.auth, Auth::Token(token));
}

#[tokio::test]
async fn files_are_paged_with_absolute_links_in_the_repository_id_form() {
    paginate("").await;
}

#[tokio::test]
async fn enterprise_prefix_is_kept_in_links_and_graphql_moves_to_api_graphql() {
    paginate("/api/v3").await;
    let gh = FakeGitHub::start_with_prefix(APP, "/api/v3").await;
    assert!(gh.url().ends_with("/api/v3"));
    assert!(gh.graphql_url().ends_with("/api/graphql"));
    let unprefixed = format!(
        "{}/app/hook/deliveries",
        gh.url().trim_end_matches("/api/v3")
    );
    assert_eq!(call("GET", &unprefixed, None, None).await.status, 404);
}

#[tokio::test]
async fn contents_raw_json_and_404() {
    let (gh, token) = fake().await;
    gh.set_file(REPO, "h1", "k8s/my app.yaml", "kind: Pod\n");
    let url = format!(
        "{}/repos/{REPO}/contents/k8s/my%20app.yaml?ref=h1",
        gh.url()
    );
    let raw = call_with(
        "GET",
        &url,
        bearer(&token).as_deref(),
        None,
        "application/vnd.github.raw+json",
    )
    .await;
    assert_eq!((raw.status, raw.body.as_str()), (200, "kind: Pod\n"));
    let j = call("GET", &url, bearer(&token).as_deref(), None)
        .await
        .json();
    assert_eq!(
        (j["encoding"].clone(), j["content"].clone()),
        (json!("base64"), json!("a2luZDogUG9kCg==\n"))
    );
    let other_ref = url.replace("ref=h1", "ref=h2");
    let a = call_with(
        "GET",
        &other_ref,
        bearer(&token).as_deref(),
        None,
        "application/vnd.github.raw+json",
    )
    .await;
    assert_eq!((a.status, a.message().as_str()), (404, "Not Found"));
}

fn annotation(i: usize) -> Value {
    json!({"path": "a.yaml", "start_line": i, "end_line": i, "annotation_level": "warning", "title": "t", "message": "m"})
}

#[tokio::test]
async fn check_runs_append_annotations_and_refuse_githubs_limits() {
    let (gh, token) = fake().await;
    let base = format!("{}/repos/{REPO}/check-runs", gh.url());
    let auth = bearer(&token);
    let created = call(
        "POST",
        &base,
        auth.as_deref(),
        Some(json!({"name": "immutabot", "head_sha": "h1", "status": "in_progress"})),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"].as_u64().unwrap();
    let url = format!("{base}/{id}");
    let out = |n: usize, summary: String| json!({"status": "completed", "conclusion": "failure", "output": {"title": "T", "summary": summary, "annotations": (0..n).map(annotation).collect::<Vec<_>>()}});
    let too_many = call("PATCH", &url, auth.as_deref(), Some(out(51, "s".into()))).await;
    assert_eq!(too_many.status, 422);
    // 65535 two-byte characters are fine: GitHub counts characters.
    let fits = call(
        "PATCH",
        &url,
        auth.as_deref(),
        Some(out(50, "é".repeat(65535))),
    )
    .await;
    assert_eq!(fits.status, 200, "{}", fits.body);
    let too_long = call(
        "PATCH",
        &url,
        auth.as_deref(),
        Some(out(1, "x".repeat(65536))),
    )
    .await;
    assert_eq!(
        (too_long.status, too_long.message().as_str()),
        (
            422,
            "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied."
        )
    );
    assert_eq!(
        call("PATCH", &url, auth.as_deref(), Some(out(10, "s".into())))
            .await
            .status,
        200
    );
    let runs = gh.check_runs(REPO);
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].annotations.len(), runs[0].outputs.len()), (60, 2));
    assert_eq!(
        (runs[0].status.as_str(), runs[0].conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    let missing = call(
        "PATCH",
        &format!("{base}/999999"),
        auth.as_deref(),
        Some(out(0, "s".into())),
    )
    .await;
    assert_eq!(missing.status, 404);
}

/// A PR whose one file has two hunks: new lines 1–5 (line 2 changed) and 12–16 (15 changed).
async fn pr_with_two_hunks() -> (FakeGitHub, String) {
    let (gh, token) = fake().await;
    gh.add_pull_request(
        REPO,
        1,
        "b1",
        "main",
        "h1",
        [FileChange::modified("k8s/app.yaml", OLD, NEW)],
    );
    (gh, token)
}

async fn review(gh: &FakeGitHub, token: &str, body: Value) -> Answer {
    let url = format!("{}/repos/{REPO}/pulls/1/reviews", gh.url());
    call("POST", &url, bearer(token).as_deref(), Some(body)).await
}

fn comment(path: &str, line: u64, start: Option<u64>) -> Value {
    let mut c =
        json!({"path": path, "line": line, "side": "RIGHT", "body": "use readOnlyRootFilesystem"});
    if let Some(s) = start {
        c["start_line"] = json!(s);
        c["start_side"] = json!("RIGHT");
    }
    c
}

#[tokio::test]
async fn reviews_are_all_or_nothing_against_the_diff() {
    let (gh, token) = pr_with_two_hunks().await;
    let patch = gh.pull_request(REPO, 1).files[0].patch.clone().unwrap();
    assert!(
        patch.starts_with("@@ -1,5 +1,5 @@\n a\n-b\n+B\n"),
        "{patch}"
    );
    let bad = [
        comment("k8s/app.yaml", 8, None),     // between the hunks
        comment("k8s/app.yaml", 4, Some(4)),  // start_line not before line
        comment("k8s/app.yaml", 13, Some(3)), // start_line in the other hunk
        comment("other.yaml", 2, None),       // not a file of the PR
    ];
    for c in bad {
        let body = json!({"commit_id": "h1", "event": "COMMENT", "body": "b", "comments": [comment("k8s/app.yaml", 2, None), c]});
        let a = review(&gh, &token, body).await;
        assert_eq!(
            (a.status, a.message().as_str()),
            (422, "Unprocessable Entity"),
            "{}",
            a.body
        );
    }
    assert!(gh.reviews(REPO, 1).is_empty());
    let ok = json!({"commit_id": "h1", "event": "COMMENT", "body": "b", "comments": [comment("k8s/app.yaml", 2, None), comment("k8s/app.yaml", 16, Some(12))]});
    let a = review(&gh, &token, ok).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        (a.json()["state"].clone(), a.json()["commit_id"].clone()),
        (json!("COMMENTED"), json!("h1"))
    );
    assert_eq!(gh.reviews(REPO, 1)[0].comments.len(), 2);
    let threads = gh.threads(REPO, 1);
    assert_eq!(threads.len(), 2);
    assert!(threads[0].id.starts_with("PRRT_"));
    assert_eq!(threads[0].comments[0].author, "immutabot[bot]");
}

#[tokio::test]
async fn a_review_without_event_stays_pending_and_blocks_the_next() {
    let (gh, token) = pr_with_two_hunks().await;
    let a = review(
        &gh,
        &token,
        json!({"body": "b", "comments": [comment("k8s/app.yaml", 2, None)]}),
    )
    .await;
    assert_eq!(
        (a.status, a.json()["state"].clone()),
        (200, json!("PENDING"))
    );
    assert!(gh.threads(REPO, 1).is_empty());
    let b = review(&gh, &token, json!({"event": "COMMENT", "body": "b"})).await;
    assert_eq!(b.status, 422);
    assert_eq!(
        b.json()["errors"][0],
        "User can only have one pending review per pull request"
    );
}

async fn graphql(gh: &FakeGitHub, token: &str, query: &str, variables: Value) -> Value {
    let a = call(
        "POST",
        &gh.graphql_url(),
        bearer(token).as_deref(),
        Some(json!({"query": query, "variables": variables})),
    )
    .await;
    assert_eq!(a.status, 200, "GraphQL answers 200 even for errors");
    a.json()
}

const THREADS: &str = "query($owner:String!,$name:String!,$number:Int!,$cursor:String){repository(owner:$owner,name:$name){pullRequest(number:$number){reviewThreads(first:100,after:$cursor){pageInfo{hasNextPage endCursor}nodes{id isResolved isOutdated path comments(first:50){nodes{author{login}body}}}}}}}";
const RESOLVE: &str = "mutation($threadId:ID!){resolveReviewThread(input:{threadId:$threadId}){thread{id isResolved}}}";

#[tokio::test]
async fn threads_page_resolve_reply_and_go_outdated() {
    let (gh, token) = pr_with_two_hunks().await;
    gh.add_pull_request(
        REPO,
        2,
        "b1",
        "main",
        "h1",
        [FileChange::added("other.yaml", "x: 1\n")],
    );
    let comments = json!([
        comment("k8s/app.yaml", 2, None),
        comment("k8s/app.yaml", 15, None),
        comment("k8s/app.yaml", 3, None)
    ]);
    assert_eq!(
        review(
            &gh,
            &token,
            json!({"event": "COMMENT", "body": "b", "comments": comments})
        )
        .await
        .status,
        200
    );
    gh.set_thread_page_size(2);
    let vars = |cursor: Value| json!({"owner": "Codertocat", "name": "Hello-World", "number": 1, "cursor": cursor});
    let p1 = graphql(&gh, &token, THREADS, vars(Value::Null)).await;
    let rt = &p1["data"]["repository"]["pullRequest"]["reviewThreads"];
    assert_eq!(
        (
            rt["nodes"].as_array().unwrap().len(),
            rt["pageInfo"]["hasNextPage"].clone()
        ),
        (2, json!(true))
    );
    let p2 = graphql(
        &gh,
        &token,
        THREADS,
        vars(rt["pageInfo"]["endCursor"].clone()),
    )
    .await;
    let rt2 = &p2["data"]["repository"]["pullRequest"]["reviewThreads"];
    assert_eq!(
        (
            rt2["nodes"].as_array().unwrap().len(),
            rt2["pageInfo"]["hasNextPage"].clone()
        ),
        (1, json!(false))
    );
    let first = rt["nodes"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        rt["nodes"][0]["comments"]["nodes"][0]["author"]["login"],
        "immutabot[bot]"
    );

    let r = graphql(&gh, &token, RESOLVE, json!({"threadId": first})).await;
    assert_eq!(
        r,
        json!({"data": {"resolveReviewThread": {"thread": {"id": first, "isResolved": true}}}})
    );
    let unknown = graphql(&gh, &token, RESOLVE, json!({"threadId": "PRRT_nope"})).await;
    assert!(
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("PRRT_nope")
    );
    gh.reply(&first, "octocat", "we need a writable root here");
    assert_eq!(gh.threads(REPO, 1)[0].comments.len(), 2);

    // A push that changes the file outdates its threads; other PRs are untouched.
    gh.push(
        REPO,
        1,
        "h2",
        [FileChange::modified("k8s/app.yaml", OLD, "changed\n")],
    );
    assert!(gh.threads(REPO, 1).iter().all(|t| t.is_outdated));
    let after = graphql(&gh, &token, THREADS, vars(Value::Null)).await;
    assert_eq!(
        after["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"][0]["isOutdated"],
        true
    );
    let other = graphql(&gh, &token, "query { viewer { login } }", json!({})).await;
    assert!(
        other["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("unsupported by the fake: ")
    );
    let missing = graphql(
        &gh,
        &token,
        THREADS,
        json!({"owner": "no", "name": "such", "number": 1, "cursor": null}),
    )
    .await;
    assert_eq!(missing["errors"][0]["type"], "NOT_FOUND");
}

#[tokio::test]
async fn faults_take_precedence_then_things_heal() {
    let (gh, token) = pr_with_two_hunks().await;
    let files = format!("{}/repos/{REPO}/pulls/1/files?per_page=100", gh.url());
    let auth = bearer(&token);
    gh.fail_next(
        "GET",
        "/repos/*/*/pulls/*/files",
        Fault::server_error(500),
        2,
    );
    gh.fail_next(
        "POST",
        "/repos/Codertocat/Hello-World/pulls/1/reviews$",
        Fault::secondary_rate_limit(Some(1)),
        1,
    );
    let reset = Utc::now().timestamp() + 30;
    gh.fail_next(
        "*",
        "/repos/Codertocat/Hello-World/check-runs",
        Fault::rate_limited(429, reset),
        1,
    );
    assert_eq!(call("GET", &files, auth.as_deref(), None).await.status, 500);
    assert_eq!(
        call("GET", &files, None, None).await.status,
        500,
        "faults come before auth"
    );
    assert_eq!(call("GET", &files, auth.as_deref(), None).await.status, 200);

    let r = review(&gh, &token, json!({"event": "COMMENT", "body": "b"})).await;
    assert_eq!((r.status, r.header("retry-after")), (403, "1".to_string()));
    assert!(r.message().contains("secondary rate limit"));
    assert_eq!(
        review(&gh, &token, json!({"event": "COMMENT", "body": "b"}))
            .await
            .status,
        200
    );

    let c = call(
        "POST",
        &format!("{}/repos/{REPO}/check-runs", gh.url()),
        auth.as_deref(),
        Some(json!({"name": "n", "head_sha": "h1"})),
    )
    .await;
    assert_eq!(
        (
            c.status,
            c.header("x-ratelimit-remaining"),
            c.header("x-ratelimit-reset")
        ),
        (429, "0".into(), reset.to_string())
    );

    // GitHub's eventual consistency on a new PR's files.
    gh.pr_files_not_found(REPO, 1, 2);
    assert_eq!(call("GET", &files, auth.as_deref(), None).await.status, 404);
    let by_id = format!("{}/repositories/{REPO_ID}/pulls/1/files", gh.url());
    assert_eq!(call("GET", &by_id, auth.as_deref(), None).await.status, 404);
    let ok = call("GET", &files, auth.as_deref(), None).await;
    assert_eq!(ok.status, 200);
    // Rate-limit headers on every answer, counting down.
    let again = call("GET", &files, auth.as_deref(), None).await;
    let left = |a: &Answer| a.header("x-ratelimit-remaining").parse::<u64>().unwrap();
    assert_eq!(left(&ok) - 1, left(&again));
    assert_eq!(
        (
            again.header("x-ratelimit-limit"),
            again.header("x-ratelimit-resource")
        ),
        ("5000".into(), "core".into())
    );

    // A spent primary limit: 403 until reset.
    gh.set_rate_limit("core", 0, Utc::now().timestamp() + 60);
    let spent = call("GET", &files, auth.as_deref(), None).await;
    assert_eq!(
        (spent.status, spent.header("x-ratelimit-remaining")),
        (403, "0".into())
    );
}

/// What a small webhook receiver saw: (event, guid, signature, body).
type Seen = Arc<Mutex<Vec<(String, String, String, Vec<u8>)>>>;

/// A receiver that answers 503 to the first delivery and 200 afterwards.
async fn receiver() -> (String, Seen) {
    use axum::http::HeaderMap;
    let seen: Seen = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/webhook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
                let mut s = store.lock().unwrap();
                s.push((
                    h("x-github-event"),
                    h("x-github-delivery"),
                    h("x-hub-signature-256"),
                    body.to_vec(),
                ));
                if s.len() == 1 {
                    http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn deliveries_are_logged_and_redelivered_with_the_same_guid() {
    let (gh, _) = fake().await;
    let (url, seen) = receiver().await;
    let secret = "It's a Secret to Everybody";
    gh.set_webhook(&url, secret);
    // The fields the deliveries log reads, in the shape of a real pull_request delivery.
    let payload = br#"{"action":"opened","number":2,"installation":{"id":42},"repository":{"id":186853002,"full_name":"Codertocat/Hello-World"}}"#.to_vec();
    assert_eq!(
        gh.deliver("pull_request", "guid-1", payload.clone()).await,
        503
    );

    let jwt = bearer(&valid_jwt(APP));
    let list = call(
        "GET",
        &format!("{}/app/hook/deliveries?per_page=100", gh.url()),
        jwt.as_deref(),
        None,
    )
    .await;
    let first = list.json()[0].clone();
    assert_eq!(
        (
            first["guid"].clone(),
            first["status_code"].clone(),
            first["action"].clone()
        ),
        (json!("guid-1"), json!(503), json!("opened"))
    );
    assert_eq!(first["status"], "Invalid HTTP Response: 503");
    let id = first["id"].as_u64().unwrap();

    let again = call(
        "POST",
        &format!("{}/app/hook/deliveries/{id}/attempts", gh.url()),
        jwt.as_deref(),
        None,
    )
    .await;
    assert_eq!((again.status, again.body.as_str()), (202, "{}"));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for (event, guid, sig, body) in &seen {
        assert_eq!((event.as_str(), guid.as_str()), ("pull_request", "guid-1"));
        assert_eq!(body, &payload);
        assert_eq!(sig, &fake_github::signature(secret, &payload));
    }
    // GitHub's published test vector.
    assert_eq!(
        fake_github::signature(secret, b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
    let log = gh.deliveries();
    assert_eq!(
        (log[1].redelivery, log[1].status_code, log[1].guid.as_str()),
        (true, 200, "guid-1")
    );
    assert_ne!(log[0].id, log[1].id);

    // Newest first, paged by cursor.
    let page = call(
        "GET",
        &format!("{}/app/hook/deliveries?per_page=1", gh.url()),
        jwt.as_deref(),
        None,
    )
    .await;
    assert_eq!(page.json()[0]["redelivery"], true);
    let next = next_link(&page).expect("a next page");
    assert!(next.starts_with(&gh.url()));
    assert_eq!(
        call("GET", &next, jwt.as_deref(), None).await.json()[0]["redelivery"],
        false
    );
    // Nothing listening: status 0.
    gh.set_webhook("http://127.0.0.1:9/webhook", secret);
    assert_eq!(
        gh.deliver("pull_request", "guid-2", b"{}".to_vec()).await,
        0
    );
    assert_eq!(gh.deliveries().last().unwrap().status_code, 0);
    // App endpoints refuse installation tokens and unknown deliveries.
    let missing = call(
        "POST",
        &format!("{}/app/hook/deliveries/999999/attempts", gh.url()),
        jwt.as_deref(),
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
}

#[test]
fn patches_look_like_githubs() {
    assert_eq!(
        fake_github::github_patch("", "a\nb\n"),
        "@@ -0,0 +1,2 @@\n+a\n+b"
    );
    assert_eq!(
        fake_github::github_patch("a\n", "a\nb"),
        "@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file"
    );
    let two = fake_github::github_patch(OLD, NEW);
    assert_eq!(two.matches("@@ -").count(), 2);
    assert!(!two.ends_with('\n') && !two.contains("+++"));
    assert_eq!(
        FileChange::removed("x", "a\n").patch.as_deref(),
        Some("@@ -1 +0,0 @@\n-a")
    );
}
