//! GitHub's OAuth web flow and the user endpoints a sign-in reads: `/login/oauth/authorize`
//! and `/login/oauth/access_token` on the web root (never under the Enterprise API prefix),
//! `/user` and `/user/memberships/orgs/{org}` on the API.
//!
//! The authorize page has no person behind it: the test names who "clicks Authorize" with
//! `sign_in_as` (or `deny_next` for "Cancel"), and a GET of the authorize URL then answers
//! the redirect GitHub would send. Codes are single use and live ten minutes; a refused code
//! gets GitHub's `200` with `{"error": …}`. Unsure of GitHub: the text of the 403 for a token
//! without `read:org` (the status and the shape are GitHub's).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::super::FakeGitHub;
use super::{ApiResult, Shared, error, json_response};

/// What the fake knows of the OAuth App and its users.
#[derive(Debug, Default)]
pub struct OAuthState {
    /// The registered OAuth App: client id, secret, callback URL.
    pub app: Option<(String, String, String)>,
    /// Users by login.
    pub users: BTreeMap<String, u64>,
    /// (org, login), both lower-cased → `active` or `pending`.
    pub memberships: BTreeMap<(String, String), String>,
    /// Organisations that restrict OAuth App access (and have not approved this one).
    pub restricted: BTreeSet<String>,
    /// Who approves the next authorization (`None`: nobody is signed in at GitHub).
    pub signing_in: Option<String>,
    /// The next authorization is cancelled by the user.
    pub deny_next: bool,
    /// Codes not yet exchanged.
    pub codes: HashMap<String, Code>,
    /// User tokens issued: token → (login, scopes).
    pub tokens: HashMap<String, (String, String)>,
    /// Counter for codes and tokens.
    pub issued: u64,
}

/// A code GitHub handed to the browser.
#[derive(Debug, Clone)]
pub struct Code {
    pub login: String,
    pub redirect_uri: String,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
}

/// The routes on GitHub's web root.
pub fn web() -> Router<Shared> {
    Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
}

fn page(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<!doctype html><title>GitHub</title><p>{text}</p>"),
    )
        .into_response()
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", q.finish())
}

/// `GET /login/oauth/authorize?client_id&redirect_uri&scope&state`: GitHub's consent page,
/// answered as if the user clicked (see the module doc).
async fn authorize(
    AxState(shared): AxState<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut st = shared.lock();
    let o = &mut st.oauth;
    let Some((client_id, _, callback)) = o.app.clone() else {
        return page(StatusCode::NOT_FOUND, "Not Found");
    };
    if q.get("client_id") != Some(&client_id) {
        return page(StatusCode::NOT_FOUND, "Not Found");
    }
    let state = q.get("state").cloned().unwrap_or_default();
    let redirect_uri = q.get("redirect_uri").cloned().unwrap_or(callback.clone());
    // GitHub wants the redirect URI under the registered callback URL (same host and port,
    // path below); otherwise it sends the browser to the callback with the error.
    if !redirect_uri.starts_with(&callback) {
        return redirect(with_query(
            &callback,
            &[
                ("error", "redirect_uri_mismatch"),
                (
                    "error_description",
                    "The redirect_uri MUST match the registered callback URL for this application.",
                ),
                ("state", &state),
            ],
        ));
    }
    if std::mem::take(&mut o.deny_next) {
        return redirect(with_query(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The user has denied your application access.",
                ),
                ("state", &state),
            ],
        ));
    }
    let Some(login) = o.signing_in.clone() else {
        return page(StatusCode::OK, "Sign in to GitHub to continue.");
    };
    o.issued += 1;
    let code = format!("{:0>20x}", o.issued * 0x9e37_79b9);
    o.codes.insert(
        code.clone(),
        Code {
            login,
            redirect_uri: redirect_uri.clone(),
            scope: q.get("scope").cloned().unwrap_or_default(),
            expires_at: Utc::now() + chrono::Duration::minutes(10),
        },
    );
    redirect(with_query(
        &redirect_uri,
        &[("code", &code), ("state", &state)],
    ))
}

/// GitHub's answer to a refused exchange: `200` with an error object.
fn token_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "error": error,
            "error_description": description,
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
        }),
    )
}

/// `POST /login/oauth/access_token` with `client_id`, `client_secret`, `code` and
/// `redirect_uri` in the form body (or the query), JSON when asked with `Accept`.
async fn access_token(
    AxState(shared): AxState<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    params.extend(query);
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    let mut st = shared.lock();
    let o = &mut st.oauth;
    let Some((client_id, secret, _)) = o.app.clone() else {
        return page(StatusCode::NOT_FOUND, "Not Found");
    };
    if get("client_id") != client_id || get("client_secret") != secret {
        return token_error(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    // A code is gone once tried, right or wrong redirect URI.
    let code = o.codes.remove(&get("code"));
    let Some(code) = code.filter(|c| c.expires_at > Utc::now()) else {
        return token_error(
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        );
    };
    if params.contains_key("redirect_uri") && get("redirect_uri") != code.redirect_uri {
        return token_error(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        );
    }
    o.issued += 1;
    let token = format!("gho_{:0>36}", o.issued);
    o.tokens
        .insert(token.clone(), (code.login.clone(), code.scope.clone()));
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if json {
        json_response(
            StatusCode::OK,
            json!({"access_token": token, "scope": code.scope, "token_type": "bearer"}),
        )
    } else {
        let body = with_query(
            "",
            &[
                ("access_token", &token),
                ("scope", &code.scope),
                ("token_type", "bearer"),
            ],
        );
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            body.trim_start_matches('?').to_string(),
        )
            .into_response()
    }
}

/// The login and scopes of the request's user token, or GitHub's 401.
fn user_of(shared: &Shared, headers: &HeaderMap) -> Result<(String, String), super::ApiError> {
    let cred = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .map(|(_, c)| c.trim().to_string());
    let Some(cred) = cred else {
        return Err(error(StatusCode::UNAUTHORIZED, "Requires authentication"));
    };
    shared
        .lock()
        .oauth
        .tokens
        .get(&cred)
        .cloned()
        .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "Bad credentials"))
}

/// `GET /user`.
pub async fn user(AxState(shared): AxState<Shared>, headers: HeaderMap) -> ApiResult {
    let (login, _) = user_of(&shared, &headers)?;
    let id = shared.lock().oauth.users.get(&login).copied().unwrap_or(0);
    Ok(json_response(
        StatusCode::OK,
        json!({"login": login, "id": id, "type": "User", "site_admin": false}),
    ))
}

/// `GET /user/memberships/orgs/{org}`: the user's own membership, private ones included.
pub async fn membership(
    AxState(shared): AxState<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let (login, scopes) = user_of(&shared, &headers)?;
    let st = shared.lock();
    let o = &st.oauth;
    let key = (org.to_ascii_lowercase(), login.to_ascii_lowercase());
    if o.restricted.contains(&key.0) {
        return Err(error(
            StatusCode::FORBIDDEN,
            &format!(
                "Although you appear to have the correct authorization credentials, the `{org}` organization has enabled OAuth App access restrictions, meaning that data access to third-parties is limited. For more information on these restrictions, including how to enable this app, visit https://docs.github.com/articles/restricting-access-to-your-organization-s-data/"
            ),
        ));
    }
    if !scopes
        .split([',', ' '])
        .any(|s| s == "read:org" || s == "admin:org")
    {
        return Err(error(
            StatusCode::FORBIDDEN,
            "You need at least read:org scope or user scope to list your organization memberships.",
        ));
    }
    match o.memberships.get(&key) {
        Some(state) => Ok(json_response(
            StatusCode::OK,
            json!({
                "url": format!("{}/orgs/{org}/memberships/{login}", st.base_url),
                "state": state,
                "role": "member",
                "organization_url": format!("{}/orgs/{org}", st.base_url),
                "organization": {"login": org},
                "user": {"login": login},
            }),
        )),
        None => Err(error(StatusCode::NOT_FOUND, "Not Found")),
    }
}

impl FakeGitHub {
    /// GitHub's web root (the OAuth pages live there, never under the API prefix).
    pub fn web_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers the OAuth App the service signs in with.
    pub fn oauth_app(&self, client_id: &str, secret: &str, callback_url: &str) -> &Self {
        self.lock().oauth.app = Some((client_id.into(), secret.into(), callback_url.into()));
        self
    }

    /// A GitHub user.
    pub fn add_user(&self, login: &str) -> &Self {
        let mut st = self.lock();
        let id = st.next_id();
        st.oauth.users.insert(login.into(), id);
        self
    }

    /// `login` belongs to `org`: `active`, or `pending` (invited).
    pub fn add_member(&self, org: &str, login: &str, state: &str) -> &Self {
        self.lock().oauth.memberships.insert(
            (org.to_ascii_lowercase(), login.to_ascii_lowercase()),
            state.into(),
        );
        self
    }

    /// `login` leaves `org`.
    pub fn remove_member(&self, org: &str, login: &str) -> &Self {
        self.lock()
            .oauth
            .memberships
            .remove(&(org.to_ascii_lowercase(), login.to_ascii_lowercase()));
        self
    }

    /// `org` restricts OAuth App access: membership answers 403.
    pub fn restrict_oauth_apps(&self, org: &str) -> &Self {
        self.lock()
            .oauth
            .restricted
            .insert(org.to_ascii_lowercase());
        self
    }

    /// Who is signed in at GitHub and clicks "Authorize" from now on.
    pub fn sign_in_as(&self, login: &str) -> &Self {
        self.lock().oauth.signing_in = Some(login.into());
        self
    }

    /// The next authorization is cancelled by the user.
    pub fn deny_next_authorization(&self) -> &Self {
        self.lock().oauth.deny_next = true;
        self
    }

    /// Every user token issued so far.
    pub fn user_tokens(&self) -> Vec<String> {
        self.lock().oauth.tokens.keys().cloned().collect()
    }
}
