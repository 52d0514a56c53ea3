//! Credentials, checked the way GitHub checks them: an RS256 JWT signed with the App's key
//! for `/app/…`, an unexpired installation token of the right installation for the rest.

use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use octocrab::jsonwebtoken::{self, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::routes::{ApiError, error};
use super::state::{Auth, State};

/// The App's private key used by tests (the fake checks signatures with its public half).
pub const TEST_APP_KEY_PEM: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/test-app-key.pem");
const TEST_APP_PUB_PEM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/test-app-key.pub.pem"
);

/// GitHub's answer to anything wrong with a JWT it cannot trust.
pub const UNDECODABLE: &str = "A JSON web token could not be decoded";
pub const EXP_TOO_FAR: &str = "'Expiration time' claim ('exp') is too far in the future";
pub const EXP_PAST: &str = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
pub const IAT_FUTURE: &str = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
pub const BAD_CREDENTIALS: &str = "Bad credentials";

#[derive(Serialize, Deserialize)]
struct Claims {
    iat: i64,
    exp: i64,
    /// GitHub accepts the App id as a number or a string (or the client id).
    iss: Value,
}

pub fn decoding_key() -> DecodingKey {
    let pem = std::fs::read(TEST_APP_PUB_PEM).expect("tests/data/test-app-key.pub.pem");
    DecodingKey::from_rsa_pem(&pem).expect("a valid RSA public key")
}

/// A JWT for `app_id` with the given claims, signed with the test App key — for tests that
/// want a valid token or one broken in a chosen way.
pub fn make_jwt(app_id: u64, iat: i64, exp: i64) -> String {
    let pem = std::fs::read(TEST_APP_KEY_PEM).expect("tests/data/test-app-key.pem");
    let key = EncodingKey::from_rsa_pem(&pem).expect("a valid RSA private key");
    let claims = Claims {
        iat,
        exp,
        iss: Value::from(app_id),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).expect("JWT encodes")
}

/// A JWT like octocrab makes: issued 60 s ago, expiring in 9 minutes.
pub fn valid_jwt(app_id: u64) -> String {
    let now = Utc::now().timestamp();
    make_jwt(app_id, now - 60, now + 540)
}

/// `(scheme, credential)` of the Authorization header, scheme lower-cased.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, cred) = value.trim().split_once(' ')?;
    Some((scheme.to_ascii_lowercase(), cred.trim().to_string()))
}

fn looks_like_jwt(cred: &str) -> bool {
    cred.split('.').count() == 3
}

/// What the request log records about the credentials.
pub fn classify(headers: &HeaderMap) -> Auth {
    match credentials(headers) {
        None => Auth::None,
        Some((_, cred)) if looks_like_jwt(&cred) => Auth::Jwt,
        Some((_, cred)) => Auth::Token(cred),
    }
}

/// Accepts a valid App JWT (Bearer only, as GitHub requires for JWTs) or answers 401.
pub fn require_jwt(state: &State, key: &DecodingKey, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized = |m: &str| Err(error(StatusCode::UNAUTHORIZED, m));
    let Some((scheme, cred)) = credentials(headers) else {
        return unauthorized(UNDECODABLE);
    };
    if scheme != "bearer" {
        return unauthorized(UNDECODABLE);
    }
    let mut validation = Validation::new(Algorithm::RS256);
    // The time claims are checked below, with GitHub's own messages and tolerances.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    let Ok(data) = jsonwebtoken::decode::<Claims>(&cred, key, &validation) else {
        return unauthorized(UNDECODABLE);
    };
    let c = data.claims;
    // GitHub finds the App (and so the key) by `iss`: another App's id cannot be verified.
    let iss_ok = match &c.iss {
        Value::Number(n) => n.as_u64() == Some(state.app_id),
        Value::String(s) => s.parse::<u64>().ok() == Some(state.app_id),
        _ => false,
    };
    if !iss_ok {
        return unauthorized(UNDECODABLE);
    }
    let now = Utc::now().timestamp();
    // At most 10 minutes of life (plus the 60 s of back-dating GitHub recommends for iat).
    if c.exp - c.iat > 660 || c.exp - now > 600 {
        return unauthorized(EXP_TOO_FAR);
    }
    if c.exp <= now {
        return unauthorized(EXP_PAST);
    }
    if c.iat > now + 60 {
        return unauthorized(IAT_FUTURE);
    }
    Ok(())
}

/// Accepts an unexpired token the fake minted and answers with its installation id; `Bearer`
/// and `token` schemes both work, as on GitHub.
pub fn require_token(state: &State, headers: &HeaderMap) -> Result<u64, ApiError> {
    let Some((scheme, cred)) = credentials(headers) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Requires authentication"));
    };
    if scheme != "bearer" && scheme != "token" {
        return Err(error(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS));
    }
    match state.tokens.get(&cred) {
        Some(t) if t.expires_at > Utc::now() => Ok(t.installation_id),
        _ => Err(error(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS)),
    }
}

/// A token valid for `repo`. A token of another installation sees a private repository as
/// missing, so GitHub answers 404 (not 401) — the fake does too.
pub fn require_repo_token(state: &State, headers: &HeaderMap, repo: &str) -> Result<u64, ApiError> {
    let installation = require_token(state, headers)?;
    let visible = state
        .installations
        .get(&installation)
        .is_some_and(|repos| repos.contains(repo));
    if visible && state.repos.contains_key(repo) {
        Ok(installation)
    } else {
        Err(error(StatusCode::NOT_FOUND, "Not Found"))
    }
}
