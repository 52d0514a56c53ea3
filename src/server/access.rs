//! The credential in front of `/report` and `/api`: a bearer token, the cookie a browser
//! got for one, or a session after signing in with GitHub (`super::oauth`).
//!
//! A browser cannot send an `Authorization` header when someone opens a link, so
//! `?token=…` is accepted once: the answer is a redirect to the same page without it that
//! sets an HttpOnly, SameSite=Strict cookie. The token then leaves the address bar, the
//! history and any access log after that first request.
//!
//! Order: an `Authorization` header decides alone (scripts get what they always got); then a
//! session that covers the owner in the path; then the token cookie. Without any, a report
//! page answers 401 with a "Sign in with GitHub" link when sign-in is configured.

use super::AppState;
use crate::auth::{session, tokens};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The cookie that carries a token in a browser.
pub const COOKIE: &str = "immutabot_token";

/// Whom the request's token lets it read (set by [`require_token`]).
#[derive(Debug, Clone)]
pub struct Grant {
    /// The owner named by the token.
    pub owner: String,
}

impl Grant {
    /// Whether the grant covers `owner` (GitHub logins are case-insensitive).
    pub fn covers(&self, owner: &str) -> bool {
        self.owner.eq_ignore_ascii_case(owner)
    }
}

/// Answers 401 unless a valid token comes with the request; otherwise passes a [`Grant`] on.
pub async fn require_token(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(token) = query_token(req.uri().query()) {
        let https = req
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
        let path = req.uri().path().to_string();
        return exchange_for_cookie(&state, &path, https, &token).await;
    }
    let header_token = bearer(req.headers());
    if header_token.is_none()
        && let Some(owner) = session_owner(&state, req.headers(), req.uri().path())
    {
        req.extensions_mut().insert(Grant { owner });
        return next.run(req).await;
    }
    let Some(token) = header_token.or_else(|| cookie(req.headers())) else {
        return unauthorized_page(
            &state,
            &req,
            "send Authorization: Bearer <token> (immutabot token create)",
        );
    };
    match tokens::owner_of(&state.pool, &token).await {
        Ok(Some(owner)) => {
            req.extensions_mut().insert(Grant { owner });
            next.run(req).await
        }
        Ok(None) => unauthorized_page(&state, &req, "unknown or revoked token"),
        Err(e) => {
            tracing::error!(error = %e, "token lookup failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// Answers `?token=` with a redirect to `path` that sets the cookie (`Secure` behind TLS).
async fn exchange_for_cookie(state: &AppState, path: &str, https: bool, token: &str) -> Response {
    match tokens::owner_of(&state.pool, token).await {
        Ok(Some(_)) => {}
        Ok(None) => return unauthorized("unknown or revoked token"),
        Err(e) => {
            tracing::error!(error = %e, "token lookup failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response();
        }
    }
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800{}",
        if https { "; Secure" } else { "" }
    );
    let mut res = StatusCode::SEE_OTHER.into_response();
    let location = HeaderValue::from_str(path).unwrap_or(HeaderValue::from_static("/"));
    res.headers_mut().insert(header::LOCATION, location);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The owner in the path when the request's session covers it, as the session names it.
fn session_owner(state: &AppState, headers: &HeaderMap, path: &str) -> Option<String> {
    let sign_in = state.sign_in.as_deref()?;
    let owner = owner_in_path(path)?;
    let now = chrono::Utc::now().timestamp();
    let session = session::session(&sign_in.key, headers, now)?;
    session.covers(owner, now).map(str::to_string)
}

/// The owner segment of `/report/{owner}[.csv][/…]` or `/api/report/{owner}[/…]`, as sent
/// (percent-encoded names are no GitHub login, so they match no session).
fn owner_in_path(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/report/")
        .or_else(|| path.strip_prefix("/api/report/"))?;
    let first = rest.split('/').next()?;
    Some(first.strip_suffix(".csv").unwrap_or(first))
}

/// 401: for a report page with sign-in configured, the page with the sign-in link (the
/// bearer challenge kept); otherwise the plain answer scripts have always had.
fn unauthorized_page(state: &AppState, req: &Request, why: &'static str) -> Response {
    let path = req.uri().path();
    let owner = path
        .starts_with("/report/")
        .then(|| owner_in_path(path))
        .flatten()
        .filter(|o| super::oauth::login_like(o));
    match (state.sign_in.as_deref(), owner) {
        (Some(sign_in), Some(owner)) => {
            let now = chrono::Utc::now().timestamp();
            let login = session::session(&sign_in.key, req.headers(), now).map(|s| s.login);
            let why = match &login {
                Some(login) => format!(
                    "You are signed in as {login}, but not for {owner}: sign in again to have your membership of {owner} checked."
                ),
                None => "Sign in to read it.".to_string(),
            };
            super::sign_in_pages::sign_in(owner, path, &why, login.as_deref())
        }
        _ => unauthorized(why),
    }
}

fn unauthorized(why: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"immutabot\"")],
        format!("{why}\n"),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_string())
        })
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_the_first_segment_of_a_report_path() {
        assert_eq!(owner_in_path("/report/acme"), Some("acme"));
        assert_eq!(owner_in_path("/report/acme.csv"), Some("acme"));
        assert_eq!(owner_in_path("/report/acme/shop"), Some("acme"));
        assert_eq!(owner_in_path("/api/report/Acme/shop"), Some("Acme"));
        assert_eq!(owner_in_path("/reports/acme"), None);
    }

    #[test]
    fn credentials_are_read_from_header_cookie_and_query() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer imbt_x".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("imbt_x"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(
            header::COOKIE,
            "a=1; immutabot_token=imbt_y".parse().unwrap(),
        );
        assert_eq!(cookie(&h).as_deref(), Some("imbt_y"));
        assert_eq!(
            query_token(Some("x=1&token=imbt_z")).as_deref(),
            Some("imbt_z")
        );
        assert_eq!(query_token(Some("tokens=1")), None);
    }
}
