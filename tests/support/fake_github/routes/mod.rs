//! The HTTP face of the fake: the route table, and the layer every request passes through
//! (scripted faults, rate-limit headers, the request log).

pub mod app;
mod checks;
mod git;
mod graphql;
pub mod oauth;
mod repos;
mod reviews;
mod writes;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use chrono::Utc;
use octocrab::jsonwebtoken::DecodingKey;
use serde_json::{Value, json};

use super::auth;
use super::faults::{self, Fault};
use super::state::{RateLimit, RequestRecord, State};

/// What every handler gets: the state, the App's public key, and a client for webhooks.
#[derive(Clone)]
pub struct Shared {
    pub state: Arc<Mutex<State>>,
    pub key: Arc<DecodingKey>,
    pub http: octocrab::Octocrab,
}

impl Shared {
    /// A poisoned lock only means another test thread panicked; the data is still usable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn router(shared: Shared, prefix: &str) -> Router {
    let api = Router::new()
        .route(
            "/app/installations/{id}/access_tokens",
            post(app::access_token),
        )
        .route("/app/hook/deliveries", get(app::list_deliveries))
        .route(
            "/app-manifests/{code}/conversions",
            post(app::convert_manifest),
        )
        .route("/app/hook/deliveries/{id}/attempts", post(app::redeliver))
        .route(
            "/repos/{owner}/{repo}/pulls/{number}",
            get(repos::pull).patch(writes::update_pull),
        )
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(writes::list_pulls).post(writes::create_pull),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(writes::list_comments).post(writes::create_comment),
        )
        .route("/repos/{owner}/{repo}/git/blobs", post(writes::create_blob))
        .route("/repos/{owner}/{repo}/git/trees", post(writes::create_tree))
        .route(
            "/repos/{owner}/{repo}/git/commits",
            post(writes::create_commit),
        )
        .route(
            "/repos/{owner}/{repo}/git/commits/{sha}",
            get(writes::get_commit),
        )
        .route("/repos/{owner}/{repo}/git/refs", post(writes::create_ref))
        .route(
            "/repos/{owner}/{repo}/git/refs/{*name}",
            patch(writes::update_ref),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/files",
            get(repos::files_by_name),
        )
        .route(
            "/repositories/{id}/pulls/{number}/files",
            get(repos::files_by_id),
        )
        .route(
            "/repos/{owner}/{repo}/contents/{*path}",
            get(repos::contents),
        )
        .route("/repos/{owner}/{repo}", get(git::repository))
        .route("/repos/{owner}/{repo}/git/ref/{*name}", get(git::git_ref))
        .route("/repos/{owner}/{repo}/git/trees/{sha}", get(git::tree))
        .route("/repos/{owner}/{repo}/git/blobs/{sha}", get(git::blob))
        .route(
            "/installation/repositories",
            get(git::installation_repositories),
        )
        .route("/repos/{owner}/{repo}/check-runs", post(checks::create))
        .route(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs",
            get(checks::list_for_ref),
        )
        .route(
            "/repos/{owner}/{repo}/check-runs/{id}",
            patch(checks::update),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}/reviews",
            post(reviews::create).get(reviews::list),
        )
        .route("/user", get(oauth::user))
        .route("/user/memberships/orgs/{org}", get(oauth::membership));
    let graphql = post(graphql::graphql);
    let app = if prefix.is_empty() {
        api.route("/graphql", graphql)
    } else {
        // Enterprise serves REST under /api/v3 but GraphQL at /api/graphql (not under v3).
        Router::new()
            .nest(prefix, api)
            .route(&graphql_path(prefix), graphql)
    };
    app.merge(oauth::web())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), around))
        .with_state(shared)
}

/// Where GraphQL lives for a REST prefix: `/graphql`, or `/api/graphql` for `/api/v3`.
pub fn graphql_path(prefix: &str) -> String {
    match prefix.strip_suffix("/v3") {
        Some(base) => format!("{base}/graphql"),
        None => format!("{prefix}/graphql"),
    }
}

async fn not_found() -> ApiError {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// An error answer: small to move around (clippy's `result_large_err`), and `?`-friendly.
#[derive(Debug)]
pub struct ApiError(StatusCode, Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.0, self.1)
    }
}

/// What handlers return.
pub type ApiResult = Result<Response, ApiError>;

/// GitHub's error shape.
pub fn error(status: StatusCode, message: &str) -> ApiError {
    ApiError(
        status,
        json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        }),
    )
}

/// 422 with GitHub's validation shape: `{"message":"Unprocessable Entity","errors":[…]}`.
pub fn unprocessable(errors: &[&str]) -> ApiError {
    ApiError(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "message": "Unprocessable Entity",
            "errors": errors,
            "documentation_url": "https://docs.github.com/rest",
            "status": "422",
        }),
    )
}

/// 422 the way the Checks API words it: one message, no `errors` list.
pub fn invalid_request(detail: &str) -> ApiError {
    ApiError(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "message": format!("Invalid request.\n\n{detail}"),
            "documentation_url": "https://docs.github.com/rest/checks/runs",
            "status": "422",
        }),
    )
}

pub fn json_response(status: StatusCode, value: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

/// The budget of `resource`, refilled once its reset time has passed.
fn rate_limit<'a>(state: &'a mut State, resource: &str) -> &'a mut RateLimit {
    let now = Utc::now().timestamp();
    let rl = state
        .rate_limits
        .entry(resource.to_string())
        .or_insert(RateLimit {
            limit: 5000,
            remaining: 5000,
            reset: now + 3600,
        });
    if rl.reset <= now {
        rl.remaining = rl.limit;
        rl.reset = now + 3600;
    }
    rl
}

/// Every request: buffer the body (for the log), answer a scripted fault if one matches, else
/// refuse when the rate limit is spent, else route; then add rate-limit headers and log.
async fn around(AxState(shared): AxState<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let auth = auth::classify(req.headers());
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let req = Request::from_parts(parts, Body::from(body.clone()));
    let bare = req.uri().path().to_string();
    let resource = if bare.ends_with("/graphql") {
        "graphql"
    } else {
        "core"
    };

    let (fault, spent) = {
        let mut st = shared.lock();
        let stripped = bare
            .strip_prefix(st.prefix.as_str())
            .unwrap_or(&bare)
            .to_string();
        let fault = st
            .faults
            .iter_mut()
            .find(|r| {
                r.remaining > 0
                    && (r.method == "*" || r.method == method)
                    && (faults::matches(&r.pattern, &stripped)
                        || faults::matches(&r.pattern, &bare))
            })
            .map(|r| {
                r.remaining -= 1;
                r.fault.clone()
            })
            .or_else(|| st.random_faults.as_mut().and_then(|r| r.pick()));
        let spent = rate_limit(&mut st, resource).remaining == 0;
        (fault, spent)
    };
    let mut response = match fault {
        Some(f) if f.pass => {
            if let Some(d) = f.delay {
                tokio::time::sleep(d).await;
            }
            next.run(req).await
        }
        Some(f) => {
            // The work is done, then its answer is lost (GitHub's front end failing after the
            // back end acted).
            if f.after_work {
                next.run(req).await;
            }
            if let Some(d) = f.delay {
                tokio::time::sleep(d).await;
            }
            f.response()
        }
        None if spent => error(
            StatusCode::FORBIDDEN,
            "API rate limit exceeded for installation ID 1.",
        )
        .into_response(),
        None => next.run(req).await,
    };

    let mut st = shared.lock();
    let rl = rate_limit(&mut st, resource);
    rl.remaining = rl.remaining.saturating_sub(1);
    let values = [
        ("x-ratelimit-limit", rl.limit.to_string()),
        ("x-ratelimit-remaining", rl.remaining.to_string()),
        ("x-ratelimit-used", (rl.limit - rl.remaining).to_string()),
        ("x-ratelimit-reset", rl.reset.to_string()),
        ("x-ratelimit-resource", resource.to_string()),
    ];
    for (name, value) in values {
        // A scripted fault's own values win.
        if !response.headers().contains_key(name) {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_str(&value).expect("ascii"));
        }
    }
    st.requests.push(RequestRecord {
        method,
        path,
        status: response.status().as_u16(),
        auth,
        body: body.to_vec(),
    });
    response
}

/// `per_page` (default 30, at most 100) and `page` (from 1) of a paged listing, as GitHub reads
/// them.
pub fn page_params(q: &std::collections::HashMap<String, String>) -> (usize, usize) {
    let number = |k: &str| q.get(k).and_then(|v| v.parse::<usize>().ok());
    (
        number("per_page").unwrap_or(30).clamp(1, 100),
        number("page").unwrap_or(1).max(1),
    )
}

/// The request body as JSON, or GitHub's 400 for anything else.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|_| error(StatusCode::BAD_REQUEST, "Problems parsing JSON"))
}
