//! Signing in to the report with GitHub: `GET /login` sends the browser to GitHub with a
//! random `state` bound to it by a sealed cookie, `GET /oauth/callback` checks that state
//! (constant time, once only), exchanges the code, asks GitHub whether the user is a member
//! of the organisation whose report it is, and on yes sets the session cookie; `POST
//! /logout` removes it.
//!
//! A session covers the owners it was checked for, each until `IMMUTABOT_SESSION_LIFETIME`
//! has passed; then the report sends the browser through GitHub again, which checks the
//! membership anew. The GitHub token is used for the check and dropped.

use super::AppState;
use super::sign_in_pages::{self, login_href};
use crate::auth::session::{self, STATE_LIFETIME_SECS, Session, SessionKey, SignInState};
use crate::auth::{constant_time, return_path};
use crate::forge::github::oauth::{GitHubOAuth, Membership, OAuthError};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{TimeZone, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tracing::{info, warn};

/// What signing in needs: GitHub's OAuth endpoints, the cookie key, where GitHub sends the
/// browser back, and how long a membership check holds.
pub struct SignIn {
    /// The OAuth client.
    pub github: GitHubOAuth,
    /// Seals the session and state cookies.
    pub key: SessionKey,
    /// This service's public URL (the callback is `{public_url}/oauth/callback`).
    pub public_url: String,
    /// How long a session covers an owner before membership is checked again.
    pub lifetime: Duration,
}

impl SignIn {
    fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.public_url.trim_end_matches('/'))
    }
}

/// The sign-in routes (404 while sign-in is not configured).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login))
        .route("/oauth/callback", get(callback))
        .route("/logout", post(logout))
}

/// Query of `GET /login`.
#[derive(Deserialize)]
pub struct LoginQuery {
    owner: Option<String>,
    next: Option<String>,
}

/// Query of `GET /oauth/callback`.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Whether `name` could be a GitHub login (user or organisation).
pub fn login_like(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 39
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn not_configured() -> Response {
    (
        StatusCode::NOT_FOUND,
        "signing in with GitHub is not configured on this service\n",
    )
        .into_response()
}

async fn login(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let Some(sign_in) = state.sign_in.as_deref() else {
        return not_configured();
    };
    let owner = q.owner.unwrap_or_default();
    if !login_like(&owner) {
        return (
            StatusCode::BAD_REQUEST,
            "owner must be a GitHub organisation or user login\n",
        )
            .into_response();
    }
    let next = match q.next {
        None => format!("/report/{owner}"),
        Some(next) => match return_path::same_site(&next) {
            Some(next) => next.to_string(),
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    "next must be a path of this service's report (/report/…)\n",
                )
                    .into_response();
            }
        },
    };
    let now = Utc::now().timestamp();
    let started = SignInState {
        state: crate::setup::random_hex(32),
        owner,
        next,
        until: now + STATE_LIFETIME_SECS,
    };
    let location = sign_in
        .github
        .authorize_url(&sign_in.redirect_uri(), &started.state);
    let cookie = session::state_cookie(&sign_in.key, &started, now);
    redirect(&location, &[cookie])
}

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(sign_in) = state.sign_in.as_deref() else {
        return not_configured();
    };
    let now = Utc::now().timestamp();
    let previous = session::session(&sign_in.key, &headers, now);
    let signed_in_as = previous.as_ref().map(|s| s.login.clone());
    let refuse = |status, title: &str, why: &str, retry: Option<&str>| {
        with_cookies(
            sign_in_pages::refused(status, title, why, retry, signed_in_as.as_deref()),
            &[session::clear_state()],
        )
    };
    let Some(started) = session::sign_in_state(&sign_in.key, &headers, now) else {
        warn!("sign-in callback without a valid sign-in cookie refused");
        return refuse(
            StatusCode::FORBIDDEN,
            "This sign-in was not started here",
            "It was started in another browser, took longer than ten minutes, or was already finished. Open the report again to sign in.",
            None,
        );
    };
    let retry = login_href(&started.owner, &started.next);
    let given = q.state.unwrap_or_default();
    if !constant_time::eq(given.as_bytes(), started.state.as_bytes()) {
        warn!("sign-in callback with a wrong state refused");
        return refuse(
            StatusCode::FORBIDDEN,
            "This sign-in was not started here",
            "GitHub sent back a state this browser did not ask for.",
            Some(&retry),
        );
    }
    let expires = Utc
        .timestamp_opt(started.until, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let digest = Sha256::digest(started.state.as_bytes());
    match crate::storage::sign_in_states::use_once(&state.pool, &digest, expires).await {
        Ok(true) => {}
        Ok(false) => {
            warn!("sign-in callback replayed");
            return refuse(
                StatusCode::FORBIDDEN,
                "This sign-in was already used",
                "Each sign-in finishes once. Open the report again to sign in.",
                Some(&retry),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "recording a sign-in state failed");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is unavailable",
                "Try again in a moment.",
                Some(&retry),
            );
        }
    }
    if let Some(error) = q.error {
        let why = format!(
            "GitHub did not authorise the sign-in ({}).",
            error
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect::<String>()
        );
        return refuse(StatusCode::FORBIDDEN, "Not signed in", &why, Some(&retry));
    }
    let Some(code) = q.code.filter(|c| !c.is_empty() && c.len() <= 256) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Not signed in",
            "GitHub sent no code.",
            Some(&retry),
        );
    };
    let checked = check(sign_in, &code, &started.owner).await;
    let login = match checked {
        Ok((login, Membership::Active)) => login,
        Ok((login, membership)) => {
            info!(%login, owner = %started.owner, ?membership, "sign-in refused: not a member");
            let why = not_member(&login, &started.owner, membership);
            return refuse(StatusCode::FORBIDDEN, "Not a member", &why, Some(&retry));
        }
        Err(OAuthError::Refused(code)) => {
            warn!(error = %code, "GitHub refused the sign-in code");
            let why = format!("GitHub refused the sign-in ({code}). Try again.");
            return refuse(StatusCode::FORBIDDEN, "Not signed in", &why, Some(&retry));
        }
        Err(OAuthError::Unavailable(e)) => {
            warn!(error = %format!("{e:#}"), "sign-in: GitHub unavailable");
            return refuse(
                StatusCode::BAD_GATEWAY,
                "GitHub could not be asked",
                "GitHub did not answer the membership check. Try again in a moment.",
                Some(&retry),
            );
        }
    };
    let until = now + sign_in.lifetime.as_secs() as i64;
    let session = Session::grant(previous, &login, &started.owner, until, now);
    info!(%login, owner = %started.owner, "signed in to the report");
    let cookies = [
        session::session_cookie(&sign_in.key, &session, now),
        session::clear_state(),
    ];
    redirect(&started.next, &cookies)
}

/// Exchanges the code, reads the user, and checks their membership of `owner` (a user's own
/// report needs no check). The token goes no further than this function.
async fn check(
    sign_in: &SignIn,
    code: &str,
    owner: &str,
) -> Result<(String, Membership), OAuthError> {
    let token = sign_in
        .github
        .exchange(code, &sign_in.redirect_uri())
        .await?;
    let login = sign_in.github.login(&token).await?;
    if login.eq_ignore_ascii_case(owner) {
        return Ok((login, Membership::Active));
    }
    let membership = sign_in.github.membership(&token, owner).await?;
    Ok((login, membership))
}

fn not_member(login: &str, owner: &str, membership: Membership) -> String {
    match membership {
        Membership::Pending => format!(
            "{login} is invited to {owner} but has not accepted yet; accept the invitation on GitHub, then sign in again."
        ),
        Membership::Restricted => format!(
            "{owner} restricts OAuth App access and has not approved this service's App, so {login}'s membership cannot be checked; an owner of {owner} can approve it on GitHub."
        ),
        Membership::Active | Membership::None => {
            format!("{login} is not a member of {owner}, whose report this is.")
        }
    }
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(sign_in) = state.sign_in.as_deref() else {
        return not_configured();
    };
    // Another site's form must not sign anyone out.
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if origin.is_some_and(|o| !same_origin(o, &sign_in.public_url)) {
        return (
            StatusCode::FORBIDDEN,
            "sign out from this service's pages\n",
        )
            .into_response();
    }
    let res = (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        "signed out\n",
    )
        .into_response();
    with_cookies(res, &[session::clear_session()])
}

/// Whether a request's `Origin` is this service's public URL (scheme, host and port).
fn same_origin(origin: &str, public_url: &str) -> bool {
    let public = public_url.trim_end_matches('/');
    let public = match public.find("://") {
        Some(i) => match public[i + 3..].find('/') {
            Some(j) => &public[..i + 3 + j],
            None => public,
        },
        None => public,
    };
    origin.eq_ignore_ascii_case(public)
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(location) {
        Ok(v) => {
            res.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => return (StatusCode::BAD_REQUEST, "bad redirect\n").into_response(),
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_cookies(res, cookies)
}

fn with_cookies(mut res: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_and_origins() {
        assert!(login_like("acme-corp") && login_like("A1"));
        for bad in ["", "a/b", "a b", "a.csv", &"x".repeat(40)] {
            assert!(!login_like(bad), "{bad}");
        }
        assert!(same_origin(
            "https://bot.example.com",
            "https://bot.example.com/"
        ));
        assert!(same_origin(
            "https://bot.example.com",
            "https://bot.example.com/x"
        ));
        assert!(!same_origin(
            "https://evil.example",
            "https://bot.example.com"
        ));
        assert!(!same_origin("null", "https://bot.example.com"));
    }
}
