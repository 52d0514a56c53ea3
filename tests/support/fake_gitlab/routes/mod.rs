//! The HTTP face of the fake: the route table, GitLab's error and paging shapes, and the layer
//! every request passes through (token check, scripted faults, the request log).

mod commits;
mod discussions;
mod merge_requests;
mod repository;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::faults::{self, Fault};
use super::state::{RequestRecord, State};

pub type Shared = Arc<Mutex<State>>;

/// A poisoned lock only means another test thread panicked; the data is still usable.
pub fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn router(shared: Shared) -> Router {
    let mr = "/projects/{id}/merge_requests/{iid}";
    let api = Router::new()
        .route("/user", get(repository::user))
        .route("/projects/{id}", get(repository::project))
        .route(
            "/projects/{id}/repository/branches/{branch}",
            get(repository::branch),
        )
        .route(
            "/projects/{id}/repository/files/{path}/raw",
            get(repository::raw_file),
        )
        .route("/projects/{id}/repository/tree", get(repository::tree))
        .route(
            "/projects/{id}/repository/blobs/{sha}/raw",
            get(repository::blob),
        )
        .route(
            "/projects/{id}/statuses/{sha}",
            post(merge_requests::set_status),
        )
        .route("/projects/{id}/repository/commits", post(commits::create))
        .route(
            "/projects/{id}/repository/commits/{sha}",
            get(commits::commit),
        )
        .route(
            "/projects/{id}/merge_requests",
            get(merge_requests::list).post(merge_requests::create),
        )
        .route(
            mr,
            get(merge_requests::merge_request).put(merge_requests::edit),
        )
        .route(&format!("{mr}/diffs"), get(merge_requests::diffs))
        .route(
            &format!("{mr}/notes"),
            get(merge_requests::list_notes).post(merge_requests::create_note),
        )
        .route(
            &format!("{mr}/notes/{{note}}"),
            put(merge_requests::edit_note),
        )
        .route(
            &format!("{mr}/discussions"),
            get(discussions::list).post(discussions::create),
        )
        .route(
            &format!("{mr}/discussions/{{discussion}}"),
            put(discussions::resolve),
        );
    Router::new()
        .nest("/api/v4", api)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "404 Not Found") })
        .layer(middleware::from_fn_with_state(shared.clone(), around))
        .with_state(shared)
}

/// An error answer, `?`-friendly.
#[derive(Debug)]
pub struct ApiError(StatusCode, Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.0, self.1)
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// GitLab's error shape: `{"message": "404 Project Not Found"}`.
pub fn error(status: StatusCode, message: &str) -> ApiError {
    ApiError(status, json!({ "message": message }))
}

/// GitLab's answer to a missing parameter: `{"error": "body is missing"}`.
pub fn missing(param: &str) -> ApiError {
    ApiError(
        StatusCode::BAD_REQUEST,
        json!({ "error": format!("{param} is missing") }),
    )
}

pub fn json_response(status: StatusCode, value: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// One page of `items` with GitLab's offset-paging headers (`per_page` default 20, at most
/// 100; `x-next-page` empty on the last page) and a `Link` header.
pub fn paged(items: Vec<Value>, query: &HashMap<String, String>, path: &str) -> Response {
    let number = |k: &str| query.get(k).and_then(|v| v.parse::<usize>().ok());
    let per_page = number("per_page").unwrap_or(20).clamp(1, 100);
    let page = number("page").unwrap_or(1).max(1);
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let next = if page < pages {
        (page + 1).to_string()
    } else {
        String::new()
    };
    let mut response = json_response(StatusCode::OK, Value::Array(slice));
    let link_to =
        |p: usize, rel: &str| format!("<{path}?page={p}&per_page={per_page}>; rel=\"{rel}\"");
    let mut links = vec![link_to(1, "first"), link_to(pages, "last")];
    if page < pages {
        links.insert(0, link_to(page + 1, "next"));
    }
    let headers = [
        ("x-page", page.to_string()),
        ("x-per-page", per_page.to_string()),
        ("x-total", total.to_string()),
        ("x-total-pages", pages.to_string()),
        ("x-next-page", next),
        (
            "x-prev-page",
            if page > 1 {
                (page - 1).to_string()
            } else {
                String::new()
            },
        ),
        ("link", links.join(", ")),
    ];
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The username of the request's token; 401 as GitLab answers it otherwise.
pub fn user_of(state: &State, headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    headers
        .get("private-token")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| state.tokens.get(t).cloned())
        .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "401 Unauthorized"))
}

/// Takes the first scripted fault that matches this request, if any.
fn take_fault(state: &mut State, method: &str, path: &str) -> Option<Fault> {
    let bare = path.strip_prefix("/api/v4").unwrap_or(path);
    let rule = state.faults.iter_mut().find(|r| {
        r.remaining > 0
            && (r.method == "*" || r.method == method)
            && faults::matches(&r.pattern, bare)
    });
    match rule {
        Some(rule) => {
            rule.remaining -= 1;
            Some(rule.fault.clone())
        }
        None => state.random_faults.as_mut().and_then(|r| r.pick()),
    }
}

/// Every request: the token first (401 before anything else, faults included), then a
/// scripted fault if one matches (after the work when it says so), else the route; then log.
async fn around(AxState(shared): AxState<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let token = req
        .headers()
        .get("private-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let req = Request::from_parts(parts, Body::from(body.clone()));
    let (authorized, fault) = {
        let mut st = lock(&shared);
        let authorized = user_of(&st, req.headers()).is_ok();
        let fault = authorized
            .then(|| take_fault(&mut st, &method, req.uri().path()))
            .flatten();
        (authorized, fault)
    };
    let response = match (authorized, fault) {
        (false, _) => error(StatusCode::UNAUTHORIZED, "401 Unauthorized").into_response(),
        (true, Some(f)) if f.pass => {
            if let Some(d) = f.delay {
                tokio::time::sleep(d).await;
            }
            next.run(req).await
        }
        (true, Some(f)) => {
            if f.after_work {
                next.run(req).await;
            }
            if let Some(d) = f.delay {
                tokio::time::sleep(d).await;
            }
            f.response()
        }
        (true, None) => next.run(req).await,
    };
    lock(&shared).requests.push(RequestRecord {
        method,
        path,
        status: response.status().as_u16(),
        token,
        body: body.to_vec(),
    });
    response
}
