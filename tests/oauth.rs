//! "Sign in with GitHub" for the report, through the real router, a fresh Postgres and the
//! fake GitHub's OAuth endpoints: a member of the organisation signs in and reads its
//! report; a non-member is refused; the `state` cannot be forged, left out or replayed; the
//! session cookie is `Secure`, `HttpOnly`, `SameSite=Lax`, covers only the organisations it
//! was checked for and cannot be altered; `next` never leads off-site; bearer tokens work as
//! before; and neither the client secret nor a user token reaches the logs.
//!
//! The browser is [`Browser`]: a cookie jar that honours `Path` and `Max-Age=0`. It talks to
//! the router in process, and to the fake GitHub over HTTP for the authorize step.

#[path = "support/fake_github/mod.rs"]
mod fake_github;
#[path = "support/log_capture.rs"]
#[allow(dead_code)]
mod log_capture;
#[path = "support/report_seed.rs"]
#[allow(dead_code)]
mod report_seed;
#[path = "support/service.rs"]
#[allow(dead_code)]
mod service;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use fake_github::FakeGitHub;
use immutabot::auth::session::{self, OwnerGrant, Session, SessionKey};
use immutabot::auth::tokens;
use immutabot::forge::github::oauth::{GitHubOAuth, OAuthSettings};
use immutabot::server::oauth::SignIn;
use secrecy::SecretString;
use service::Answer;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const CLIENT_ID: &str = "Ov23liOAuthTestClient";
const CLIENT_SECRET: &str = "oauth-test-client-secret-5f1d2c3b4a";
const PUBLIC_URL: &str = "https://immutabot.example.com";
const SESSION_KEY: &[u8] = b"the oauth tests' session key, 32 bytes or more";

/// The service with sign-in configured, over the seeded report (owners `Acme` and `Other`),
/// and the fake GitHub with `octocat` (member of Acme) and `mallory` (member of nothing).
struct World {
    app: axum::Router,
    github: FakeGitHub,
}

async fn world(pool: &PgPool) -> World {
    report_seed::seed(pool).await;
    let github = FakeGitHub::start(1).await;
    github
        .oauth_app(
            CLIENT_ID,
            CLIENT_SECRET,
            &format!("{PUBLIC_URL}/oauth/callback"),
        )
        .add_user("octocat")
        .add_user("mallory")
        .add_member("Acme", "octocat", "active");
    let sign_in = SignIn {
        github: GitHubOAuth::new(OAuthSettings {
            web_url: github.web_url(),
            api_url: github.url(),
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::from(CLIENT_SECRET),
            timeout: Duration::from_secs(10),
        })
        .unwrap(),
        key: SessionKey::from_secret(SESSION_KEY).unwrap(),
        public_url: PUBLIC_URL.into(),
        lifetime: Duration::from_secs(8 * 3600),
    };
    let mut state = service::state(pool.clone());
    state.sign_in = Some(Arc::new(sign_in));
    World {
        app: service::router(state),
        github,
    }
}

impl Answer {
    fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }

    /// The `Set-Cookie` line for `name`, if any.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

/// A browser's cookies: name → (value, path).
#[derive(Default, Clone)]
struct Browser {
    cookies: BTreeMap<String, (String, String)>,
}

impl Browser {
    fn store(&mut self, headers: &HeaderMap) {
        for line in headers.get_all(header::SET_COOKIE) {
            let line = line.to_str().unwrap();
            let mut parts = line.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let mut path = "/".to_string();
            let mut gone = false;
            for attribute in parts {
                if let Some(p) = attribute.strip_prefix("Path=") {
                    path = p.to_string();
                }
                gone |= attribute == "Max-Age=0";
            }
            if gone {
                self.cookies.remove(name);
            } else {
                self.cookies
                    .insert(name.to_string(), (value.to_string(), path));
            }
        }
    }

    fn header_for(&self, uri: &str) -> Option<String> {
        let path = uri.split('?').next().unwrap();
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .filter(|(_, (_, p))| path.starts_with(p.as_str()))
            .map(|(n, (v, _))| format!("{n}={v}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    async fn get(&mut self, app: &axum::Router, uri: &str) -> Answer {
        self.send(app, Request::get(uri), uri).await
    }

    async fn send(
        &mut self,
        app: &axum::Router,
        mut req: axum::http::request::Builder,
        uri: &str,
    ) -> Answer {
        if let Some(cookies) = self.header_for(uri) {
            req = req.header(header::COOKIE, cookies);
        }
        let answer = service::send(app, req.body(Body::empty()).unwrap()).await;
        self.store(&answer.headers);
        answer
    }
}

/// GitHub's answer to the browser opening `url` (the authorize page): where it sends it.
async fn github_redirects(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(url).send().await.unwrap();
    assert_eq!(
        res.status().as_u16(),
        302,
        "GitHub's authorize page did not redirect"
    );
    res.headers()["location"].to_str().unwrap().to_string()
}

/// The callback path GitHub sent the browser to, on this service.
fn on_service(location: &str) -> String {
    location
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("GitHub sent the browser elsewhere: {location}"))
        .to_string()
}

/// `/login` for `owner`, then GitHub's authorize page: the callback URI the browser is sent
/// to (not yet opened).
async fn start(w: &World, browser: &mut Browser, owner: &str) -> String {
    let login = browser
        .get(
            &w.app,
            &format!("/login?owner={owner}&next=/report/{owner}"),
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    on_service(&github_redirects(login.location()).await)
}

/// A whole sign-in as `login` for `owner`'s report: the callback's answer.
async fn sign_in(w: &World, browser: &mut Browser, login: &str, owner: &str) -> Answer {
    w.github.sign_in_as(login);
    let callback = start(w, browser, owner).await;
    browser.get(&w.app, &callback).await
}

/// What a person reads on a page: its `<main>`.
fn main_of(body: &str) -> &str {
    let start = body.find("<main>").expect("a page with <main>");
    let end = body.find("</main>").expect("a page with </main>");
    body[start..end + "</main>".len()].trim()
}

fn query_value(uri: &str, key: &str) -> String {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_member_signs_in_and_reads_the_organisations_report(pool: PgPool) {
    let w = world(&pool).await;
    let mut browser = Browser::default();

    let page = browser.get(&w.app, "/report/acme").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        page.headers[header::WWW_AUTHENTICATE],
        "Bearer realm=\"immutabot\""
    );
    assert!(
        page.body
            .contains(r#"<a id="sign-in" href="/login?owner=acme&#38;next=%2Freport%2Facme">Sign in with GitHub</a>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains("shop"), "no report data before sign-in");
    insta::assert_snapshot!("sign_in_page", main_of(&page.body));

    // The link: to GitHub, with the client, the callback, read:org and a fresh state.
    w.github.sign_in_as("octocat");
    let login = browser
        .get(&w.app, "/login?owner=acme&next=%2Freport%2Facme")
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let authorize = login.location().to_string();
    assert!(authorize.starts_with(&format!("{}/login/oauth/authorize?", w.github.web_url())));
    assert_eq!(query_value(&authorize, "client_id"), CLIENT_ID);
    assert_eq!(
        query_value(&authorize, "redirect_uri"),
        format!("{PUBLIC_URL}/oauth/callback")
    );
    assert_eq!(query_value(&authorize, "scope"), "read:org");
    let state = query_value(&authorize, "state");
    assert!(state.len() == 64 && state.bytes().all(|b| b.is_ascii_hexdigit()));
    let state_cookie = login.set_cookie("immutabot_sign_in").unwrap();
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/oauth/callback",
        "Max-Age=600",
    ] {
        assert!(
            state_cookie.contains(attribute),
            "{attribute}: {state_cookie}"
        );
    }
    assert!(
        !state_cookie.contains(&state),
        "the state is sealed in the cookie"
    );

    let callback = on_service(&github_redirects(&authorize).await);
    let done = browser.get(&w.app, &callback).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/report/acme");
    let cookie = done.set_cookie("immutabot_session").unwrap();
    let attributes: Vec<&str> = cookie.split(';').skip(1).map(str::trim).collect();
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=28800",
    ] {
        assert!(attributes.contains(&attribute), "{attribute}: {cookie}");
    }
    assert!(
        !cookie.contains("octocat"),
        "the session is sealed: {cookie}"
    );
    assert!(
        done.set_cookie("immutabot_sign_in")
            .unwrap()
            .contains("Max-Age=0"),
        "the sign-in cookie is removed"
    );

    for uri in [
        "/report/acme",
        "/report/ACME",
        "/report/acme/shop",
        "/report/acme.csv",
        "/api/report/acme",
    ] {
        let a = browser.get(&w.app, uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
        assert!(a.body.contains("shop"), "{uri}");
    }

    // Signing out removes the session.
    let out = browser
        .send(
            &w.app,
            Request::post("/logout").header(header::ORIGIN, PUBLIC_URL),
            "/logout",
        )
        .await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(
        out.set_cookie("immutabot_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        browser.get(&w.app, "/report/acme").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_non_member_is_refused_with_a_clear_page(pool: PgPool) {
    let w = world(&pool).await;
    let mut browser = Browser::default();
    let refused = sign_in(&w, &mut browser, "mallory", "acme").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("mallory is not a member of acme, whose report this is."),
        "{}",
        refused.body
    );
    assert!(refused.set_cookie("immutabot_session").is_none());
    insta::assert_snapshot!("not_a_member_page", main_of(&refused.body));
    assert!(!refused.body.contains("shop"));
    assert_eq!(
        browser.get(&w.app, "/report/acme").await.status,
        StatusCode::UNAUTHORIZED
    );

    // Invited but not yet a member.
    w.github.add_member("Acme", "mallory", "pending");
    let pending = sign_in(&w, &mut browser, "mallory", "acme").await;
    assert_eq!(pending.status, StatusCode::FORBIDDEN);
    assert!(
        pending.body.contains("has not accepted yet"),
        "{}",
        pending.body
    );

    // An organisation that has not approved the OAuth App: GitHub answers 403.
    w.github.restrict_oauth_apps("Other");
    let restricted = sign_in(&w, &mut browser, "octocat", "other").await;
    assert_eq!(restricted.status, StatusCode::FORBIDDEN);
    assert!(
        restricted.body.contains("restricts OAuth App access"),
        "{}",
        restricted.body
    );

    // The user cancels on GitHub.
    w.github.deny_next_authorization();
    let denied = sign_in(&w, &mut browser, "octocat", "acme").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.body.contains("access_denied"), "{}", denied.body);
    assert!(browser.cookies.is_empty(), "no session after any refusal");

    // A user's own report needs no organisation: the user is its owner.
    let own = sign_in(&w, &mut browser, "mallory", "mallory").await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.body);
    assert_eq!(own.location(), "/report/mallory");
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_forged_missing_or_replayed_state_is_refused(pool: PgPool) {
    let w = world(&pool).await;
    w.github.sign_in_as("octocat");

    // The callback opened in a browser that did not start the sign-in (login CSRF: an
    // attacker's own callback link sent to a victim).
    let mut attacker = Browser::default();
    let callback = start(&w, &mut attacker, "acme").await;
    let mut victim = Browser::default();
    let a = victim.get(&w.app, &callback).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(a.body.contains("This sign-in was not started here"));
    assert!(a.set_cookie("immutabot_session").is_none());

    // The victim started one too: their cookie does not match the attacker's state.
    let _ = start(&w, &mut victim, "acme").await;
    let a = victim.get(&w.app, &callback).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(a.body.contains("a state this browser did not ask for"));

    // A changed state, and none at all.
    let mut browser = Browser::default();
    let callback = start(&w, &mut browser, "acme").await;
    let state = query_value(&callback, "state");
    let code = query_value(&callback, "code");
    for forged in [
        format!("/oauth/callback?code={code}&state={}0", &state[..63]),
        format!("/oauth/callback?code={code}&state="),
        format!("/oauth/callback?code={code}"),
    ] {
        let mut again = browser.clone();
        let a = again.get(&w.app, &forged).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{forged}: {}", a.body);
        assert!(a.set_cookie("immutabot_session").is_none(), "{forged}");
    }
    assert!(
        w.github.user_tokens().is_empty(),
        "no code was exchanged for a forged state"
    );

    // The real one works once; the same callback with the same cookie again is refused,
    // even with a fresh code from GitHub.
    let replay_jar = browser.clone();
    let ok = browser.get(&w.app, &callback).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let mut replayer = replay_jar.clone();
    let a = replayer.get(&w.app, &callback).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.body.contains("already used"), "{}", a.body);
    let mut replayer = replay_jar;
    let fresh = start(&w, &mut Browser::default(), "acme").await;
    let with_old_state = format!(
        "/oauth/callback?code={}&state={state}",
        query_value(&fresh, "code")
    );
    let a = replayer.get(&w.app, &with_old_state).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.set_cookie("immutabot_session").is_none());
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_session_for_one_organisation_does_not_open_another(pool: PgPool) {
    let w = world(&pool).await;
    let mut browser = Browser::default();
    let done = sign_in(&w, &mut browser, "octocat", "acme").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    // A member of Other too, but the session was not checked for it.
    w.github.add_member("Other", "octocat", "active");
    for uri in [
        "/report/other",
        "/report/Other.csv",
        "/report/other/secret-repo",
        "/api/report/other",
        "/api/report/other/secret-repo",
        "/report/acme-corp",
    ] {
        let a = browser.get(&w.app, uri).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        // The sign-in link names the path asked for; no report data comes with it.
        let body = a.body.replace(&uri.replace('/', "%2F"), "");
        assert!(
            !body.contains("secret-repo") && !body.contains("<table"),
            "{uri}: {body}"
        );
    }
    let page = browser.get(&w.app, "/report/other").await;
    insta::assert_snapshot!("signed_in_for_another_owner_page", main_of(&page.body));
    assert!(
        page.body
            .contains("You are signed in as octocat, but not for other"),
        "{}",
        page.body
    );
    // Checked for Other as well: both read, each its own.
    let done = sign_in(&w, &mut browser, "octocat", "other").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let other = browser.get(&w.app, "/api/report/other").await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(other.body.contains("secret-repo"));
    let acme = browser.get(&w.app, "/api/report/acme").await;
    assert_eq!(acme.status, StatusCode::OK);
    assert!(!acme.body.contains("secret-repo"));
}

/// A session sealed with `key` (as the service would seal one).
fn sealed(key: &[u8], session: &Session) -> String {
    let key = SessionKey::from_secret(key).unwrap();
    let now = chrono::Utc::now().timestamp();
    let set = session::session_cookie(&key, session, now - 3600);
    set.split(';').next().unwrap().to_string()
}

async fn with_cookie(app: &axum::Router, uri: &str, cookie: &str) -> StatusCode {
    app.clone()
        .oneshot(
            Request::get(uri)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
        .status()
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_tampered_expired_or_foreign_cookie_is_refused(pool: PgPool) {
    let w = world(&pool).await;
    let mut browser = Browser::default();
    sign_in(&w, &mut browser, "octocat", "acme").await;
    let (value, _) = browser.cookies["immutabot_session"].clone();
    assert_eq!(
        with_cookie(
            &w.app,
            "/report/acme",
            &format!("immutabot_session={value}")
        )
        .await,
        StatusCode::OK
    );
    // Every single changed character is refused.
    for i in (0..value.len()).step_by(7) {
        let mut bytes = value.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = format!("immutabot_session={}", String::from_utf8(bytes).unwrap());
        assert_eq!(
            with_cookie(&w.app, "/report/acme", &tampered).await,
            StatusCode::UNAUTHORIZED,
            "changed at {i}"
        );
    }
    // Sealed with another key, or moved into the sign-in cookie's name.
    let now = chrono::Utc::now().timestamp();
    let forged = Session {
        login: "mallory".into(),
        grants: vec![OwnerGrant {
            owner: "acme".into(),
            until: now + 3600,
        }],
    };
    let foreign = sealed(b"another key of at least thirty-two bytes!!", &forged);
    assert_eq!(
        with_cookie(&w.app, "/report/acme", &foreign).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        with_cookie(
            &w.app,
            "/report/acme",
            &format!("immutabot_sign_in={value}")
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    // Sealed with the right key but past its time: membership must be checked again.
    let expired = Session {
        grants: vec![OwnerGrant {
            owner: "acme".into(),
            until: now - 1,
        }],
        ..forged.clone()
    };
    assert_eq!(
        with_cookie(&w.app, "/report/acme", &sealed(SESSION_KEY, &expired)).await,
        StatusCode::UNAUTHORIZED
    );
    // ...and that check is real: octocat left Acme, so the next sign-in is refused.
    w.github.remove_member("Acme", "octocat");
    let mut browser = Browser::default();
    let again = sign_in(&w, &mut browser, "octocat", "acme").await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn bearer_tokens_work_as_before_beside_sessions(pool: PgPool) {
    let w = world(&pool).await;
    let acme = tokens::create(&pool, "acme", Some("ci"))
        .await
        .unwrap()
        .token;
    let mut script = Browser::default();
    let a = script
        .send(
            &w.app,
            Request::get("/api/report/acme")
                .header(header::AUTHORIZATION, format!("Bearer {acme}")),
            "/api/report/acme",
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    // Scripts without credentials get the plain answer on the API.
    let a = script.get(&w.app, "/api/report/acme").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.body,
        "send Authorization: Bearer <token> (immutabot token create)\n"
    );

    // A browser signed in for Other with a header token for Acme: the header decides alone.
    let mut browser = Browser::default();
    w.github.add_member("Other", "octocat", "active");
    sign_in(&w, &mut browser, "octocat", "other").await;
    let a = browser
        .send(
            &w.app,
            Request::get("/api/report/other")
                .header(header::AUTHORIZATION, format!("Bearer {acme}")),
            "/api/report/other",
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // The token link still becomes its cookie, and both cookies work side by side.
    let link = browser
        .get(&w.app, &format!("/report/acme?token={acme}"))
        .await;
    assert_eq!(link.status, StatusCode::SEE_OTHER);
    assert!(link.set_cookie("immutabot_token").is_some());
    assert_eq!(
        browser.get(&w.app, "/report/acme").await.status,
        StatusCode::OK
    );
    assert_eq!(
        browser.get(&w.app, "/report/other").await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn next_never_leads_off_site(pool: PgPool) {
    let w = world(&pool).await;
    let mut browser = Browser::default();
    for next in [
        "https://evil.example/report/acme",
        "//evil.example/report/acme",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "/report/acme%0d%0aLocation:%20https://evil.example",
        "/setup",
        "javascript:alert(1)",
    ] {
        let a = browser
            .get(&w.app, &format!("/login?owner=acme&next={next}"))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{next}");
        assert!(a.headers.get(header::LOCATION).is_none(), "{next}");
        assert!(a.set_cookie("immutabot_sign_in").is_none(), "{next}");
    }
    for owner in ["", "../other", "acme/shop", "ac%20me"] {
        let a = browser.get(&w.app, &format!("/login?owner={owner}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{owner}");
    }
    // A report path of this site is where the browser comes back to.
    w.github.sign_in_as("octocat");
    let login = browser
        .get(&w.app, "/login?owner=acme&next=/report/acme/shop")
        .await;
    let callback = on_service(&github_redirects(login.location()).await);
    let done = browser.get(&w.app, &callback).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/report/acme/shop");
    // Sign-in off: the routes are not there and the report answers as before.
    let plain = service::router(service::state(pool.clone()));
    let a = Browser::default().get(&plain, "/login?owner=acme").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = Browser::default().get(&plain, "/report/acme").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.body,
        "send Authorization: Bearer <token> (immutabot token create)\n"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn signing_in_at_trace_level_logs_no_secret(pool: PgPool) {
    let logs = log_capture::capture();
    let w = world(&pool).await;
    let mut browser = Browser::default();
    w.github.sign_in_as("octocat");
    let callback_ok = start(&w, &mut browser, "acme").await;
    let done = browser.get(&w.app, &callback_ok).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (session_value, _) = browser.cookies["immutabot_session"].clone();
    // A refused member, a refused code and a replay log their reasons, not the secrets.
    sign_in(&w, &mut Browser::default(), "mallory", "acme").await;
    let mut other = Browser::default();
    let cb = start(&w, &mut other, "acme").await;
    let replay = other.clone();
    other.get(&w.app, &cb).await;
    replay.clone().get(&w.app, &cb).await;
    browser.get(&w.app, "/report/acme").await;

    let log = logs.text();
    let tokens = w.github.user_tokens();
    assert!(tokens.len() >= 2, "user tokens were issued: {tokens:?}");
    let mut secrets = vec![
        ("OAuth client secret", CLIENT_SECRET.to_string()),
        ("session cookie", session_value),
        ("sign-in state", query_value(&callback_ok, "state")),
        ("OAuth code", query_value(&callback_ok, "code")),
    ];
    secrets.extend(tokens.into_iter().map(|t| ("GitHub user token", t)));
    let secrets: Vec<(&str, &str)> = secrets.iter().map(|(n, v)| (*n, v.as_str())).collect();
    log_capture::assert_absent(&log, &secrets);
    assert!(
        log.contains("signed in to the report"),
        "the sign-in itself is logged"
    );
}

#[sqlx::test(migrator = "immutabot::db::MIGRATOR")]
async fn a_code_github_refuses_is_a_clear_refusal(pool: PgPool) {
    let w = world(&pool).await;
    w.github.sign_in_as("octocat");
    let mut browser = Browser::default();
    let callback = start(&w, &mut browser, "acme").await;
    // Someone else spends the code first (or it expired): GitHub answers 200 with an error.
    let spent = reqwest::Client::new()
        .post(format!("{}/login/oauth/access_token", w.github.web_url()))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&code={}",
            query_value(&callback, "code")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(spent.status().as_u16(), 200);
    let a = browser.get(&w.app, &callback).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(
        a.body
            .contains("GitHub refused the sign-in (bad_verification_code). Try again."),
        "{}",
        a.body
    );
    assert!(a.set_cookie("immutabot_session").is_none());
}
