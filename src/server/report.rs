//! `/report/{owner}` (HTML, or CSV with `.csv`), `/report/{owner}/{repo}`, and their JSON
//! under `/api/report/…`. Every route sits behind [`access::require_token`], and a token
//! reads only its own owner: any other owner is answered 404, as if it did not exist.

use super::AppState;
use super::access::{self, Grant};
use crate::report::queries::{self, ReportError, View, WebRoots};
use crate::report::{csv, html};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router, middleware};
use chrono::Utc;

/// The report's routes, guarded by a token.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/report/{owner}", get(owner_page))
        .route("/report/{owner}/{repo}", get(repository_page))
        .route(
            "/report/{owner}/{repo}/fix-pull-request",
            post(fix_pull_request),
        )
        .route("/api/report/{owner}", get(owner_json))
        .route("/api/report/{owner}/{repo}", get(repository_json))
        .route_layer(middleware::from_fn_with_state(state, access::require_token))
}

/// Content Security Policy of the pages: inline style and script only, nothing fetched.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `?team=@org/team`: the owner's report narrowed to one team's units.
#[derive(Debug, serde::Deserialize)]
struct TeamQuery {
    team: Option<String>,
}

impl TeamQuery {
    /// The view it asks for; `None` for a team no forge could name.
    fn view(&self, state: &AppState) -> Option<View<'_>> {
        let team = self
            .team
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if team.is_some_and(|t| !nameable(t)) {
            return None;
        }
        Some(View {
            team,
            fix_target_days: state.fix_target_days,
            ..View::default()
        })
    }
}

async fn owner_page(
    State(state): State<AppState>,
    Extension(grant): Extension<Grant>,
    Path(owner): Path<String>,
    Query(query): Query<TeamQuery>,
) -> Response {
    // `/report/acme.csv` lands here: GitHub logins never contain a dot, so the suffix is ours.
    let (owner, as_csv) = match owner.strip_suffix(".csv") {
        Some(o) => (o.to_string(), true),
        None => (owner, false),
    };
    if !grant.covers(&owner) || !nameable(&owner) {
        return not_found();
    }
    let Some(view) = query.view(&state) else {
        return (StatusCode::BAD_REQUEST, "not a team name\n").into_response();
    };
    match queries::owner_report_with(&state.pool, &owner, Utc::now(), view).await {
        Ok(r) if as_csv => with_headers(
            csv::repositories(&r),
            "text/csv; charset=utf-8",
            Some(&format!("attachment; filename=\"{}.csv\"", r.owner)),
        ),
        Ok(r) => with_headers(html::owner_page(&r), "text/html; charset=utf-8", None),
        Err(e) => error(e),
    }
}

async fn repository_page(
    State(state): State<AppState>,
    Extension(grant): Extension<Grant>,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    if !grant.covers(&owner) || !nameable(&repo) {
        return not_found();
    }
    match queries::repository_report(&state.pool, &owner, &repo, web_roots(&state)).await {
        Ok(r) => {
            let button = state.fix_pull_requests != crate::jobs::fix_pull::policy::Mode::Off;
            let page = html::repository_page(&r, button);
            with_headers(page, "text/html; charset=utf-8", None)
        }
        Err(e) => error(e),
    }
}

/// The button on the repository page: queues its fix-all pull request, then back to the
/// page. Cross-site forms cannot post here with the browser's credentials: the token cookie
/// is `SameSite=Strict`, the session's `Lax`; an `Origin` of another site is refused too.
async fn fix_pull_request(
    State(state): State<AppState>,
    Extension(grant): Extension<Grant>,
    Path((owner, repo)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    if !grant.covers(&owner) || !nameable(&owner) || !nameable(&repo) {
        return not_found();
    }
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response();
    }
    if state.fix_pull_requests == crate::jobs::fix_pull::policy::Mode::Off {
        let why = "fix-all pull requests are off here (IMMUTABOT_FIX_PULL_REQUESTS=off)\n";
        return (StatusCode::CONFLICT, why).into_response();
    }
    let trigger = crate::queue::job::FixTrigger::Report;
    match crate::jobs::fix_pull::request(&state.pool, &owner, &repo, trigger).await {
        Ok(crate::jobs::fix_pull::Requested::Unknown) => not_found(),
        Ok(_) => {
            let page = format!("/report/{}/{}", segment(&owner), segment(&repo));
            no_store((StatusCode::SEE_OTHER, [(header::LOCATION, page)]).into_response())
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "could not queue a fix pull request");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// Whether the request's `Origin`, when it has one, is this host.
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    host.is_some() && origin_host == host
}

/// A name as one path segment of the redirect: what is not a GitHub name character is
/// percent-encoded.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn owner_json(
    State(state): State<AppState>,
    Extension(grant): Extension<Grant>,
    Path(owner): Path<String>,
    Query(query): Query<TeamQuery>,
) -> Response {
    if !grant.covers(&owner) || !nameable(&owner) {
        return not_found();
    }
    let Some(view) = query.view(&state) else {
        return (StatusCode::BAD_REQUEST, "not a team name\n").into_response();
    };
    match queries::owner_report_with(&state.pool, &owner, Utc::now(), view).await {
        Ok(r) => no_store(Json(r).into_response()),
        Err(e) => error(e),
    }
}

async fn repository_json(
    State(state): State<AppState>,
    Extension(grant): Extension<Grant>,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    if !grant.covers(&owner) || !nameable(&repo) {
        return not_found();
    }
    match queries::repository_report(&state.pool, &owner, &repo, web_roots(&state)).await {
        Ok(r) => no_store(Json(r).into_response()),
        Err(e) => error(e),
    }
}

fn web_roots(state: &AppState) -> WebRoots<'_> {
    WebRoots {
        github: &state.forge_web_url,
        gitlab: state.gitlab.as_ref().map(|g| &*g.web_url),
    }
}

fn with_headers(body: String, content_type: &'static str, disposition: Option<&str>) -> Response {
    let mut res = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            // Links to the forge must not tell it which private report they came from.
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response();
    if let Some(v) = disposition.and_then(|d| HeaderValue::from_str(d).ok()) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    no_store(res)
}

/// The report names private repositories: no shared cache may keep it.
fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// Whether a path segment could name an owner or repository on some forge: none allows a
/// control character, and Postgres refuses a NUL in text (a 503 before this check).
fn nameable(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && !name.chars().any(char::is_control)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such owner or repository\n").into_response()
}

fn error(e: ReportError) -> Response {
    match e {
        ReportError::NotFound => not_found(),
        ReportError::Database(e) => {
            tracing::error!(error = %e, "report query failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}
