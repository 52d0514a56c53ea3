//! The GitHub client against a minimal ad-hoc server on loopback: just enough routes to prove
//! token caching and refresh, authenticated pagination over absolute links, retries of 5xx,
//! timeouts and rate limits, pacing, and how 404, 422 and GraphQL errors surface. (The full
//! stateful fake GitHub lives under tests/support/fake_github/.)

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use immutabot::forge::github::{GitHubApp, GitHubError, GitHubSettings, RetryPolicy};
use immutabot::forge::{CheckOutput, Conclusion, FileStatus, ReviewComment};
use immutabot::ids::{CommitSha, InstallationId, PrNumber, RepoName};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = include_str!("data/test-app-key.pem");
const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const BASE: &str = "0123456789abcdef0123456789abcdef01234567";

/// What the server saw: every request's method, path and Authorization, and how many tokens
/// it minted.
#[derive(Default)]
struct Seen {
    requests: Vec<(String, String, String)>,
    tokens_minted: usize,
    hits: HashMap<String, usize>,
    /// Requests that lacked a header every GitHub request must carry.
    missing_headers: Vec<String>,
}

#[derive(Clone)]
struct Server {
    seen: Arc<Mutex<Seen>>,
    origin: String,
}

impl Server {
    /// Records the request and returns how often this method+path was hit, this time included.
    fn record(&self, method: &Method, uri: &OriginalUri, headers: &HeaderMap) -> usize {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut seen = self.seen.lock().unwrap();
        let path = uri.0.path().to_string();
        let has = |name: &str, want: Option<&str>| {
            let value = headers.get(name).and_then(|v| v.to_str().ok());
            value.is_some_and(|v| want.is_none_or(|w| v == w))
        };
        if !has("x-github-api-version", Some("2022-11-28"))
            || !has("user-agent", None)
            || !has("accept", None)
        {
            seen.missing_headers.push(format!("{method} {path}"));
        }
        seen.requests.push((method.to_string(), path.clone(), auth));
        let hits = seen.hits.entry(format!("{method} {path}")).or_default();
        *hits += 1;
        *hits
    }

    /// The installation token the request carries, if it is one this server minted.
    fn token_of(headers: &HeaderMap) -> Option<String> {
        let auth = headers.get("authorization")?.to_str().ok()?;
        let token = auth.strip_prefix("Bearer ")?;
        token.starts_with("ghs_").then(|| token.to_string())
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"message": "Bad credentials"})),
    )
        .into_response()
}

/// The API prefix a request came in under ("" or "/api/v3").
fn prefix(uri: &OriginalUri) -> &'static str {
    if uri.0.path().starts_with("/api/v3/") {
        "/api/v3"
    } else {
        ""
    }
}

async fn access_token(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    server.record(&method, &uri, &headers);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // An App JWT: three base64url parts, the header naming RS256.
    if !auth.starts_with("Bearer ey") || auth.matches('.').count() != 2 {
        return unauthorized();
    }
    let mut seen = server.seen();
    seen.tokens_minted += 1;
    let token = format!("ghs_{}", seen.tokens_minted);
    let expires_at = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    (
        StatusCode::CREATED,
        axum::Json(json!({"token": token, "expires_at": expires_at, "permissions": {}})),
    )
        .into_response()
}

async fn pull(
    State(server): State<Server>,
    Path((_owner, repo, _number)): Path<(String, String, u64)>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    let hits = server.record(&method, &uri, &headers);
    let Some(token) = Server::token_of(&headers) else {
        return unauthorized();
    };
    match (repo.as_str(), hits) {
        ("flaky", 1) => return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        ("limited", 1) => {
            return (
                StatusCode::FORBIDDEN,
                [("retry-after", "1")],
                axum::Json(json!({"message": "You have exceeded a secondary rate limit."})),
            )
                .into_response();
        }
        ("forbidden", _) => {
            return (
                StatusCode::FORBIDDEN,
                axum::Json(json!({"message": "Resource not accessible by integration"})),
            )
                .into_response();
        }
        ("slow", 1) => tokio::time::sleep(Duration::from_secs(2)).await,
        // The first token was revoked behind our back.
        ("revoked", _) if token == "ghs_1" => return unauthorized(),
        _ => {}
    }
    axum::Json(json!({
        "number": 1, "state": "open", "draft": true,
        "head": {"sha": HEAD, "ref": "feature", "repo": {"full_name": "o/r"}},
        "base": {"sha": BASE, "ref": "main", "repo": {"full_name": "o/r"}}
    }))
    .into_response()
}

fn file(name: &str) -> Value {
    json!({"sha": "x", "filename": name, "status": "added", "additions": 1, "deletions": 0,
           "changes": 1, "patch": "@@ -0,0 +1 @@\n+a"})
}

async fn files_page_1(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    server.record(&method, &uri, &headers);
    if Server::token_of(&headers).is_none() {
        return unauthorized();
    }
    let next = format!(
        "{}{}/repositories/1296269/pulls/1/files?per_page=100&page=2",
        server.origin,
        prefix(&uri)
    );
    let link = format!(r#"<{next}>; rel="next", <{next}>; rel="last""#);
    let files: Vec<Value> = (0..100).map(|i| file(&format!("k8s/{i}.yaml"))).collect();
    ([("link", link)], axum::Json(files)).into_response()
}

async fn files_page_2(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    server.record(&method, &uri, &headers);
    // The octocrab trap: page 2 without the token answers 401.
    if Server::token_of(&headers).is_none() {
        return unauthorized();
    }
    axum::Json(json!([file("compose.yml")])).into_response()
}

async fn contents(
    State(server): State<Server>,
    Path((_owner, _repo, path)): Path<(String, String, String)>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    server.record(&method, &uri, &headers);
    let raw = headers.get("accept").and_then(|v| v.to_str().ok())
        == Some("application/vnd.github.raw+json");
    match (raw, uri.0.query(), path.as_str()) {
        (true, Some(q), "deploy/my app.yaml") if q == format!("ref={HEAD}") => {
            "kind: Pod\n".into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found"})),
        )
            .into_response(),
    }
}

async fn create_check_run(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    server.record(&method, &uri, &headers);
    assert_eq!(body["name"], "immutabot");
    assert_eq!(body["status"], "in_progress");
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": 4, "head_sha": body["head_sha"]})),
    )
        .into_response()
}

async fn update_check_run(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    server.record(&method, &uri, &headers);
    if body["output"]["annotations"].as_array().map_or(0, Vec::len) > 50 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"message": "too many"})),
        )
            .into_response();
    }
    axum::Json(json!({"id": 4})).into_response()
}

async fn review(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    server.record(&method, &uri, &headers);
    let fits = body["comments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["line"].as_u64() == Some(1) && c["side"] == "RIGHT");
    if fits && body["event"] == "COMMENT" {
        return axum::Json(json!({"id": 80, "state": "COMMENTED"})).into_response();
    }
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"message": "Unprocessable Entity",
            "errors": ["Line could not be resolved"], "documentation_url": "https://docs.github.com"})),
    )
        .into_response()
}

async fn graphql(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    server.record(&method, &uri, &headers);
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("resolveReviewThread") {
        return axum::Json(json!({"data": null, "errors": [
            {"type": "NOT_FOUND", "message": "Could not resolve to a node with the global id of 'PRRT_nope'"}
        ]}))
        .into_response();
    }
    let page2 = !body["variables"]["cursor"].is_null();
    let thread = |id: &str| {
        json!({"id": id, "isResolved": false, "isOutdated": false, "path": "a.yml",
        "comments": {"nodes": [{"author": {"login": "immutabot[bot]"}, "body": "hi"}]}})
    };
    let (nodes, next) = if page2 {
        (
            vec![thread("PRRT_2")],
            json!({"hasNextPage": false, "endCursor": null}),
        )
    } else {
        (
            vec![thread("PRRT_1")],
            json!({"hasNextPage": true, "endCursor": "c1"}),
        )
    };
    axum::Json(
        json!({"data": {"repository": {"pullRequest": {"reviewThreads":
        {"pageInfo": next, "nodes": nodes}}}}}),
    )
    .into_response()
}

/// Whether the request carries an App JWT rather than an installation token.
fn is_jwt(headers: &HeaderMap) -> bool {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    auth.is_some_and(|a| a.starts_with("Bearer ey") && a.matches('.').count() == 2)
}

fn delivery(id: i64, guid: &str, at: &str, status: u16) -> Value {
    json!({"id": id, "guid": guid, "delivered_at": at, "redelivery": false, "duration": 0.1,
           "status": "x", "status_code": status, "event": "pull_request", "action": "opened",
           "installation_id": 42, "repository_id": 1})
}

async fn deliveries(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    server.record(&method, &uri, &headers);
    if !is_jwt(&headers) {
        return unauthorized();
    }
    let query = uri.0.query().unwrap_or("");
    if !query.contains("cursor=") {
        let next = format!(
            "{}/app/hook/deliveries?per_page=100&cursor=p2",
            server.origin
        );
        let page = json!([
            delivery(6, "a", "2026-11-28T10:30:00Z", 200),
            delivery(5, "c", "2026-11-28T10:20:00Z", 0),
        ]);
        return (
            [("link", format!(r#"<{next}>; rel="next""#))],
            axum::Json(page),
        )
            .into_response();
    }
    let next = format!(
        "{}/app/hook/deliveries?per_page=100&cursor=p3",
        server.origin
    );
    let page = json!([
        delivery(4, "b", "2026-11-28T10:15:00Z", 502),
        delivery(3, "a", "2026-11-28T10:05:00Z", 500),
        delivery(2, "d", "2026-11-28T09:00:00Z", 500),
    ]);
    // Page 3 must never be asked for: page 2 already reaches back past `since`.
    (
        [("link", format!(r#"<{next}>; rel="next""#))],
        axum::Json(page),
    )
        .into_response()
}

async fn redeliver(
    State(server): State<Server>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    server.record(&method, &uri, &headers);
    if !is_jwt(&headers) {
        return unauthorized();
    }
    (StatusCode::ACCEPTED, axum::Json(json!({}))).into_response()
}

fn routes() -> Router<Server> {
    Router::new()
        .route("/app/hook/deliveries", get(deliveries))
        .route("/app/hook/deliveries/{id}/attempts", post(redeliver))
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .route("/repos/{owner}/{repo}/pulls/{number}", get(pull))
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/files",
            get(files_page_1),
        )
        .route("/repositories/{id}/pulls/{number}/files", get(files_page_2))
        .route("/repos/{owner}/{repo}/contents/{*path}", get(contents))
        .route("/repos/{owner}/{repo}/check-runs", post(create_check_run))
        .route(
            "/repos/{owner}/{repo}/check-runs/{id}",
            axum::routing::patch(update_check_run),
        )
        .route("/repos/{owner}/{repo}/pulls/{number}/reviews", post(review))
        .route("/graphql", post(graphql))
}

/// Starts the server; `api_prefix` is "" or "/api/v3" (Enterprise Server's layout).
async fn start(api_prefix: &str) -> (Server, GitHubApp) {
    start_with(api_prefix, Duration::from_millis(1)).await
}

async fn start_with(api_prefix: &str, write_interval: Duration) -> (Server, GitHubApp) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let server = Server {
        seen: Arc::default(),
        origin: origin.clone(),
    };
    let app = Router::new()
        .merge(routes())
        .nest("/api/v3", routes())
        .with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut settings = GitHubSettings::new(
        format!("{origin}{api_prefix}"),
        12345,
        SecretString::from(KEY.to_string()),
    );
    settings.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        secondary_fallback: Duration::from_millis(50),
        max_wait: Duration::from_secs(5),
    };
    settings.write_interval = write_interval;
    settings.request_timeout = Duration::from_millis(500);
    (server, GitHubApp::new(settings).unwrap())
}

fn repo(name: &str) -> RepoName {
    RepoName::parse(&format!("o/{name}")).unwrap()
}

fn head() -> CommitSha {
    CommitSha::parse(HEAD).unwrap()
}

#[tokio::test]
async fn the_token_is_minted_once_and_reused() {
    let (server, app) = start("").await;
    let installation = app.installation(InstallationId(42)).unwrap();
    let pr = installation
        .pull_request(&repo("r"), PrNumber(1))
        .await
        .unwrap();
    assert_eq!(pr.head_sha.as_str(), HEAD);
    assert_eq!(pr.base_ref, "main");
    assert!(pr.open && pr.draft);
    installation
        .pull_request(&repo("r"), PrNumber(1))
        .await
        .unwrap();
    // A second handle on the same installation shares the cached token.
    let again = app.installation(InstallationId(42)).unwrap();
    again.pull_request(&repo("r"), PrNumber(1)).await.unwrap();

    let seen = server.seen();
    assert_eq!(seen.tokens_minted, 1);
    assert!(
        seen.missing_headers.is_empty(),
        "{:?}",
        seen.missing_headers
    );
    let pulls: Vec<_> = seen
        .requests
        .iter()
        .filter(|r| r.1 == "/repos/o/r/pulls/1")
        .collect();
    assert_eq!(pulls.len(), 3);
    assert!(pulls.iter().all(|r| r.2 == "Bearer ghs_1"));
}

#[tokio::test]
async fn page_two_of_the_files_keeps_the_token() {
    for api_prefix in ["", "/api/v3"] {
        let (server, app) = start(api_prefix).await;
        let installation = app.installation(InstallationId(42)).unwrap();
        let files = installation
            .changed_files(&repo("r"), PrNumber(1))
            .await
            .unwrap();
        assert_eq!(files.len(), 101, "{api_prefix}");
        assert_eq!(files[100].path, "compose.yml");
        assert_eq!(files[0].status, FileStatus::Added);
        assert_eq!(files[0].patch.as_deref(), Some("@@ -0,0 +1 @@\n+a"));
        let seen = server.seen();
        let page2 = seen
            .requests
            .iter()
            .find(|r| r.1.ends_with("/repositories/1296269/pulls/1/files"))
            .unwrap();
        assert_eq!(
            page2.1,
            format!("{api_prefix}/repositories/1296269/pulls/1/files")
        );
        assert_eq!(page2.2, "Bearer ghs_1");
    }
}

#[tokio::test]
async fn a_server_error_is_retried() {
    let (server, app) = start("").await;
    let installation = app.installation(InstallationId(1)).unwrap();
    installation
        .pull_request(&repo("flaky"), PrNumber(1))
        .await
        .unwrap();
    assert_eq!(server.seen().hits["GET /repos/o/flaky/pulls/1"], 2);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let (server, app) = start("").await;
    let installation = app.installation(InstallationId(1)).unwrap();
    installation
        .pull_request(&repo("slow"), PrNumber(1))
        .await
        .unwrap();
    assert_eq!(server.seen().hits["GET /repos/o/slow/pulls/1"], 2);
}

#[tokio::test]
async fn retry_after_is_waited_out() {
    let (server, app) = start("").await;
    let installation = app.installation(InstallationId(1)).unwrap();
    let started = Instant::now();
    installation
        .pull_request(&repo("limited"), PrNumber(1))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.seen().hits["GET /repos/o/limited/pulls/1"], 2);
}

#[tokio::test]
async fn a_plain_403_is_not_retried() {
    let (server, app) = start("").await;
    let installation = app.installation(InstallationId(1)).unwrap();
    let err = installation
        .pull_request(&repo("forbidden"), PrNumber(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GitHubError::Status { status: 403, message, .. } if message == "Resource not accessible by integration"),
        "{err:?}"
    );
    assert_eq!(server.seen().hits["GET /repos/o/forbidden/pulls/1"], 1);
}

#[tokio::test]
async fn a_401_mints_a_new_token_once() {
    let (server, app) = start("").await;
    let installation = app.installation(InstallationId(7)).unwrap();
    installation
        .pull_request(&repo("revoked"), PrNumber(1))
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen.tokens_minted, 2);
    let auths: Vec<&str> = seen
        .requests
        .iter()
        .filter(|r| r.1 == "/repos/o/revoked/pulls/1")
        .map(|r| r.2.as_str())
        .collect();
    assert_eq!(auths, ["Bearer ghs_1", "Bearer ghs_2"]);
}

#[tokio::test]
async fn a_review_outside_the_diff_is_unprocessable() {
    let (_server, app) = start("").await;
    let installation = app.installation(InstallationId(1)).unwrap();
    let comment = |line| ReviewComment {
        path: "a.yml".into(),
        start_line: None,
        line,
        body: "b".into(),
    };
    let id = installation
        .create_review(
            &repo("r"),
            PrNumber(1),
            &head(),
            "summary k1",
            &[comment(1)],
            "k1",
        )
        .await
        .unwrap();
    assert_eq!(id, 80);
    let err = installation
        .create_review(
            &repo("r"),
            PrNumber(1),
            &head(),
            "summary k2",
            &[comment(9)],
            "k2",
        )
        .await
        .unwrap_err();
    match err {
        GitHubError::Unprocessable { message } => {
            assert_eq!(message, "Unprocessable Entity: Line could not be resolved")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn graphql_errors_surface_and_threads_are_paged() {
    let (_server, app) = start("").await;
    let installation = app.installation(InstallationId(1)).unwrap();
    let threads = installation
        .review_threads(&repo("r"), PrNumber(1))
        .await
        .unwrap();
    let ids: Vec<&str> = threads.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["PRRT_1", "PRRT_2"]);
    let err = installation.resolve_thread("PRRT_nope").await.unwrap_err();
    assert!(matches!(err, GitHubError::Other(_)), "{err:?}");
    assert!(
        err.to_string().contains("Could not resolve to a node"),
        "{err}"
    );
}

#[tokio::test]
async fn files_are_fetched_raw_and_missing_ones_are_none() {
    let (_server, app) = start("").await;
    let installation = app.installation(InstallationId(1)).unwrap();
    let found = installation
        .file_at(&repo("r"), "deploy/my app.yaml", &head())
        .await
        .unwrap();
    assert_eq!(found.as_deref(), Some(&b"kind: Pod\n"[..]));
    let missing = installation
        .file_at(&repo("r"), "nope.yaml", &head())
        .await
        .unwrap();
    assert_eq!(missing, None);
    assert!(
        installation
            .file_at(&repo("r"), "../etc/passwd", &head())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn check_runs_complete_in_batches_and_writes_are_paced() {
    let interval = Duration::from_millis(150);
    let (server, app) = start_with("", interval).await;
    let installation = app.installation(InstallationId(1)).unwrap();
    let run = installation
        .create_check_run(&repo("r"), &head())
        .await
        .unwrap();
    let annotation = immutabot::forge::Annotation {
        path: "a.yml".into(),
        start_line: 1,
        end_line: 1,
        annotation_level: immutabot::forge::AnnotationLevel::Warning,
        title: "t".into(),
        message: "m".into(),
        raw_details: None,
    };
    let output = CheckOutput {
        title: "T".into(),
        summary: "S".into(),
        annotations: vec![annotation; 75],
    };
    let started = Instant::now();
    installation
        .complete_check_run(&repo("r"), run, Conclusion::Failure, &output)
        .await
        .unwrap();
    // Two PATCHes, each after the previous write by at least the interval.
    assert!(started.elapsed() >= interval * 2, "{:?}", started.elapsed());
    assert_eq!(server.seen().hits["PATCH /repos/o/r/check-runs/4"], 2);
}

#[tokio::test]
async fn bad_settings_are_refused_clearly() {
    let settings =
        |url: &str, key: &str| GitHubSettings::new(url, 1, SecretString::from(key.to_string()));
    let err = GitHubApp::new(settings("ftp://x", KEY)).unwrap_err();
    assert!(err.to_string().contains("http"), "{err}");
    let err = GitHubApp::new(settings("https://api.github.com?x=1", KEY)).unwrap_err();
    assert!(err.to_string().contains("query"), "{err}");
    let err = GitHubApp::new(settings("https://api.github.com", "not a key")).unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");
    assert!(GitHubApp::new(settings("https://ghe.example.com/api/v3", KEY)).is_ok());
}

#[tokio::test]
async fn failed_deliveries_are_the_latest_failed_attempts() {
    let (server, app) = start("").await;
    let since = "2026-11-28T10:00:00Z".parse().unwrap();
    let failed = app.failed_deliveries(since).await.unwrap();
    let ids: Vec<i64> = failed.iter().map(|d| d.id).collect();
    // "a" was redelivered successfully; "d" is older than `since`.
    assert_eq!(ids, [4, 5]);
    assert_eq!(failed[0].guid, "b");
    app.redeliver(4).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.hits["GET /app/hook/deliveries"], 2);
    assert_eq!(seen.hits["POST /app/hook/deliveries/4/attempts"], 1);
    assert!(
        seen.missing_headers.is_empty(),
        "{:?}",
        seen.missing_headers
    );
}
