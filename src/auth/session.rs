//! Report sessions after signing in with GitHub, and the short-lived cookie that carries a
//! sign-in's `state` from `/login` to `/oauth/callback`.
//!
//! Both are private cookies of the `cookie` crate: AES-256-GCM with the cookie's name as
//! associated data, so a value can be neither read nor changed nor moved to another cookie
//! name without the key. The key is expanded with HKDF from `IMMUTABOT_SESSION_KEY`. Every
//! value also carries its own expiry, checked here: a cookie kept past its `Max-Age` (or
//! replayed from a copy) is no better than a missing one.

use axum::http::{HeaderMap, header};
use cookie::{Cookie, CookieJar, Key, SameSite};
use serde::{Deserialize, Serialize};

/// The session cookie.
pub const SESSION_COOKIE: &str = "immutabot_session";
/// The cookie of a sign-in under way.
pub const STATE_COOKIE: &str = "immutabot_sign_in";
/// Where the state cookie is sent: only to the callback.
pub const STATE_PATH: &str = "/oauth/callback";
/// How long a sign-in may take, from `/login` to the callback.
pub const STATE_LIFETIME_SECS: i64 = 600;
/// The shortest key accepted.
pub const MIN_KEY_BYTES: usize = 32;
/// At most this many organisations in one session (the cookie stays well under 4 KB).
const MAX_GRANTS: usize = 16;

/// The key sealing both cookies.
#[derive(Clone)]
pub struct SessionKey(Key);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(…)")
    }
}

impl SessionKey {
    /// A key expanded from `secret`, which must hold at least [`MIN_KEY_BYTES`] bytes.
    pub fn from_secret(secret: &[u8]) -> Result<SessionKey, String> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!(
                "IMMUTABOT_SESSION_KEY must be at least {MIN_KEY_BYTES} bytes (e.g. openssl rand -hex 32)"
            ));
        }
        Ok(SessionKey(Key::derive_from(secret)))
    }
}

/// One organisation (or user) whose report the session reads, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerGrant {
    /// The owner's login, as checked.
    pub owner: String,
    /// Unix time after which membership must be checked again.
    pub until: i64,
}

/// Who signed in, and the owners whose membership was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The GitHub login.
    pub login: String,
    /// The owners checked, each with its own expiry.
    pub grants: Vec<OwnerGrant>,
}

impl Session {
    /// The owner's login as granted, when `owner` is covered at `now` (case-insensitive,
    /// as GitHub logins are).
    pub fn covers(&self, owner: &str, now: i64) -> Option<&str> {
        self.grants
            .iter()
            .find(|g| g.until > now && g.owner.eq_ignore_ascii_case(owner))
            .map(|g| g.owner.as_str())
    }

    /// The session once `owner` was checked at `now`: grants of another login are dropped
    /// (someone else signed in), expired ones too, and the oldest beyond [`MAX_GRANTS`].
    pub fn grant(
        previous: Option<Session>,
        login: &str,
        owner: &str,
        until: i64,
        now: i64,
    ) -> Session {
        let mut grants: Vec<OwnerGrant> = previous
            .filter(|p| p.login.eq_ignore_ascii_case(login))
            .map(|p| p.grants)
            .unwrap_or_default()
            .into_iter()
            .filter(|g| g.until > now && !g.owner.eq_ignore_ascii_case(owner))
            .collect();
        grants.push(OwnerGrant {
            owner: owner.to_string(),
            until,
        });
        grants.sort_by_key(|g| std::cmp::Reverse(g.until));
        grants.truncate(MAX_GRANTS);
        Session {
            login: login.to_string(),
            grants,
        }
    }

    /// When the last grant runs out (the cookie's `Max-Age` follows it).
    pub fn expires(&self) -> i64 {
        self.grants.iter().map(|g| g.until).max().unwrap_or(0)
    }
}

/// A sign-in under way: what `/login` started, for the callback to finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInState {
    /// The random `state` GitHub must hand back.
    pub state: String,
    /// The owner whose membership is to be checked.
    pub owner: String,
    /// The same-site path to return to.
    pub next: String,
    /// Unix time after which the sign-in is void.
    pub until: i64,
}

/// `Set-Cookie` for the session, valid until its last grant runs out.
pub fn session_cookie(key: &SessionKey, session: &Session, now: i64) -> String {
    let value = serde_json::to_string(session).expect("a session serialises");
    seal(key, SESSION_COOKIE, value, "/", session.expires() - now)
}

/// The session in the request, when one is there, sealed with `key`, and not expired.
pub fn session(key: &SessionKey, headers: &HeaderMap, now: i64) -> Option<Session> {
    opened(key, headers, SESSION_COOKIE)
        .filter_map(|v| serde_json::from_str::<Session>(&v).ok())
        .find(|s| s.expires() > now)
}

/// `Set-Cookie` for a sign-in under way.
pub fn state_cookie(key: &SessionKey, state: &SignInState, now: i64) -> String {
    let value = serde_json::to_string(state).expect("a sign-in state serialises");
    seal(key, STATE_COOKIE, value, STATE_PATH, state.until - now)
}

/// The sign-in under way in the request, when one is there and not expired.
pub fn sign_in_state(key: &SessionKey, headers: &HeaderMap, now: i64) -> Option<SignInState> {
    opened(key, headers, STATE_COOKIE)
        .filter_map(|v| serde_json::from_str::<SignInState>(&v).ok())
        .find(|s| s.until > now)
}

/// `Set-Cookie` that removes the session.
pub fn clear_session() -> String {
    clear(SESSION_COOKIE, "/")
}

/// `Set-Cookie` that removes the sign-in under way.
pub fn clear_state() -> String {
    clear(STATE_COOKIE, STATE_PATH)
}

fn attributes<'c>(
    cookie: cookie::CookieBuilder<'c>,
    path: &'static str,
) -> cookie::CookieBuilder<'c> {
    cookie
        .path(path)
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
}

fn seal(
    key: &SessionKey,
    name: &'static str,
    value: String,
    path: &'static str,
    secs: i64,
) -> String {
    let mut jar = CookieJar::new();
    let cookie = attributes(Cookie::build((name, value)), path)
        .max_age(cookie::time::Duration::seconds(secs.max(0)));
    jar.private_mut(&key.0).add(cookie);
    jar.get(name)
        .map(|c| c.to_string())
        .expect("the cookie was just added")
}

fn clear(name: &'static str, path: &'static str) -> String {
    attributes(Cookie::build((name, "")), path)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// The values of every `name` cookie in the request that `key` opens (a browser may send
/// two of one name, one set for a parent domain: each is tried, none is trusted unopened).
fn opened<'a>(
    key: &'a SessionKey,
    headers: &'a HeaderMap,
    name: &'static str,
) -> impl Iterator<Item = String> + 'a {
    let jar = CookieJar::new();
    let private = jar.private(&key.0);
    let candidates: Vec<Cookie<'static>> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| Cookie::parse(pair.trim().to_string()).ok())
        .filter(|c| c.name() == name)
        .collect();
    let values: Vec<String> = candidates
        .into_iter()
        .filter_map(|c| private.decrypt(c))
        .map(|c| c.value().to_string())
        .collect();
    values.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SessionKey {
        SessionKey::from_secret(&[byte; 32]).unwrap()
    }

    fn request_with(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, format!("other=1; {pair}").parse().unwrap());
        h
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(SessionKey::from_secret(&[1; 31]).is_err());
        assert!(SessionKey::from_secret(b"0123456789abcdef0123456789abcdef").is_ok());
    }

    #[test]
    fn a_session_round_trips_and_carries_the_attributes() {
        let s = Session::grant(None, "octocat", "acme", 1_000, 100);
        let set = session_cookie(&key(1), &s, 100);
        assert!(set.starts_with("immutabot_session="), "{set}");
        for attribute in [
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=900",
        ] {
            assert!(set.contains(attribute), "{attribute} missing: {set}");
        }
        assert!(!set.contains("octocat"), "the value is sealed: {set}");
        let back = session(&key(1), &request_with(&set), 100).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.covers("ACME", 999), Some("acme"));
        assert_eq!(back.covers("acme", 1_000), None, "expired");
        assert_eq!(back.covers("other", 100), None);
    }

    #[test]
    fn another_key_a_changed_byte_or_another_name_opens_nothing() {
        let s = Session::grant(None, "octocat", "acme", 1_000, 100);
        let set = session_cookie(&key(1), &s, 100);
        assert!(session(&key(2), &request_with(&set), 100).is_none());
        let pair = set.split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        let mut bytes = value.as_bytes().to_vec();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
        assert!(session(&key(1), &request_with(&tampered), 100).is_none());
        // The sealed session is no sign-in state, though both come from one key.
        let moved = format!("{STATE_COOKIE}={value}");
        assert!(sign_in_state(&key(1), &request_with(&moved), 100).is_none());
        assert!(
            session(&key(1), &request_with(&set), 1_000).is_none(),
            "expired"
        );
    }

    #[test]
    fn a_grant_replaces_the_owner_keeps_the_rest_and_forgets_another_login() {
        let s = Session::grant(None, "octocat", "acme", 500, 100);
        let s = Session::grant(Some(s), "octocat", "beta", 900, 200);
        let s = Session::grant(Some(s), "OctoCat", "ACME", 1_000, 300);
        let owners: Vec<&str> = s.grants.iter().map(|g| g.owner.as_str()).collect();
        assert_eq!(owners, ["ACME", "beta"]);
        let other = Session::grant(Some(s), "mallory", "gamma", 1_000, 300);
        assert_eq!(other.grants.len(), 1);
        let many = (0..40).fold(None, |s, i| {
            Some(Session::grant(
                s,
                "octocat",
                &format!("org{i}"),
                1_000 + i,
                0,
            ))
        });
        assert_eq!(many.unwrap().grants.len(), MAX_GRANTS);
    }

    #[test]
    fn the_state_cookie_goes_to_the_callback_only_and_clears() {
        let st = SignInState {
            state: "ab".into(),
            owner: "acme".into(),
            next: "/report/acme".into(),
            until: 700,
        };
        let set = state_cookie(&key(1), &st, 100);
        assert!(set.contains("Path=/oauth/callback") && set.contains("Max-Age=600"));
        assert_eq!(sign_in_state(&key(1), &request_with(&set), 100), Some(st));
        assert!(sign_in_state(&key(1), &request_with(&set), 700).is_none());
        let cleared = clear_state();
        assert!(cleared.contains("Max-Age=0") && cleared.contains("Path=/oauth/callback"));
        assert!(clear_session().starts_with("immutabot_session=;"));
    }
}
