//! Registering the GitHub App in one step: `GET /setup` posts the App manifest
//! (`deploy/github-app.yml`) to GitHub, GitHub redirects back to `/setup/callback` with a
//! code, and the code is exchanged for the App's id, key and webhook secret, which are
//! sealed into the database and take effect at once, without a restart.

pub mod live;
pub mod vault;

use crate::auth::constant_time;
use crate::forge::github::{GitHubApp, GitHubSettings, convert_manifest};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use live::LiveApp;
use serde::Deserialize;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

/// The App manifest shipped with immutabot.
const MANIFEST: &str = include_str!("../../deploy/github-app.yml");

/// What the setup pages need.
pub struct Setup {
    /// The database (sealed credentials go there).
    pub pool: PgPool,
    /// Where the new credentials take effect.
    pub live: LiveApp,
    /// Seals the credentials.
    pub key: [u8; 32],
    /// This service's public URL, as GitHub will call it.
    pub public_url: String,
    /// GitHub's web root (`https://github.com`, or the Enterprise host).
    pub web_url: String,
    /// GitHub's API root.
    pub api_url: String,
    /// Pacing for the App client built after setup.
    pub write_interval: Duration,
    /// The one-time token printed in the logs: only who can read them may register the App.
    pub token: String,
    /// The `state` GitHub must hand back, so a forged callback is refused.
    pub state: String,
}

/// A random hex string of `bytes` bytes from the operating system's generator: the setup
/// token and `state` guard who may register the App, so they must not be guessable (a
/// seeded fast generator holds 64 bits of state at most, whatever the length).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system gives random bytes");
    hex::encode(buf)
}

/// Whether a query parameter carries exactly `secret`, compared in constant time.
fn is_secret(given: Option<&str>, secret: &str) -> bool {
    given.is_some_and(|g| constant_time::eq(g.as_bytes(), secret.as_bytes()))
}

/// GitHub's web root for an API root: `api.github.com` → `github.com`, `HOST/api/v3` → `HOST`.
pub fn web_url_for(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    if api == "https://api.github.com" {
        "https://github.com".into()
    } else {
        api.strip_suffix("/api/v3").unwrap_or(api).to_string()
    }
}

/// The manifest as JSON, with this service's URLs in it.
pub fn manifest_json(public_url: &str) -> anyhow::Result<String> {
    let mut m: serde_json::Value = serde_saphyr::from_str(MANIFEST)?;
    let base = public_url.trim_end_matches('/');
    m["hook_attributes"]["url"] = format!("{base}/webhooks/github").into();
    m["redirect_url"] = format!("{base}/setup/callback").into();
    m["setup_url"] = format!("{base}/setup/installed").into();
    Ok(serde_json::to_string(&m)?)
}

#[derive(Template)]
#[template(path = "setup/start.html")]
struct StartPage<'a> {
    action: &'a str,
    manifest: &'a str,
    org: &'a str,
    token: &'a str,
}

#[derive(Template)]
#[template(path = "setup/done.html")]
struct DonePage<'a> {
    slug: &'a str,
    app_id: u64,
    install_url: &'a str,
}

/// Query of `GET /setup`.
#[derive(Deserialize)]
pub struct StartQuery {
    token: Option<String>,
    org: Option<String>,
}

/// Query of `GET /setup/callback`.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

fn page(status: StatusCode, html: Result<String, askama::Error>) -> Response {
    match html {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("template: {e}")).into_response(),
    }
}

fn org_ok(org: &str) -> bool {
    !org.is_empty()
        && org.len() <= 39
        && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `GET /setup?token=…[&org=…]`: the page whose button sends the manifest to GitHub.
pub async fn start(State(setup): State<Arc<Setup>>, Query(q): Query<StartQuery>) -> Response {
    if setup.live.is_set_up() {
        return (StatusCode::GONE, "the GitHub App is already set up\n").into_response();
    }
    if !is_secret(q.token.as_deref(), &setup.token) {
        return (
            StatusCode::FORBIDDEN,
            "open the /setup link printed in the service's log\n",
        )
            .into_response();
    }
    let org = q.org.unwrap_or_default();
    let action = if org.is_empty() {
        format!("{}/settings/apps/new?state={}", setup.web_url, setup.state)
    } else if org_ok(&org) {
        format!(
            "{}/organizations/{org}/settings/apps/new?state={}",
            setup.web_url, setup.state
        )
    } else {
        return (StatusCode::BAD_REQUEST, "not an organisation name\n").into_response();
    };
    let manifest = match manifest_json(&setup.public_url) {
        Ok(m) => m,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("manifest: {e}\n"),
            )
                .into_response();
        }
    };
    page(
        StatusCode::OK,
        StartPage {
            action: &action,
            manifest: &manifest,
            org: &org,
            token: &setup.token,
        }
        .render(),
    )
}

/// `GET /setup/callback?code=…&state=…`: GitHub created the App; fetch and keep its keys.
pub async fn callback(State(setup): State<Arc<Setup>>, Query(q): Query<CallbackQuery>) -> Response {
    if setup.live.is_set_up() {
        return (StatusCode::GONE, "the GitHub App is already set up\n").into_response();
    }
    if !is_secret(q.state.as_deref(), &setup.state) {
        warn!("setup callback with a wrong state refused");
        return (
            StatusCode::FORBIDDEN,
            "this callback was not started from this service\n",
        )
            .into_response();
    }
    let Some(code) = q.code else {
        return (StatusCode::BAD_REQUEST, "GitHub sent no code\n").into_response();
    };
    match finish(&setup, &code).await {
        Ok((slug, app_id, install_url)) => page(
            StatusCode::OK,
            DonePage {
                slug: &slug,
                app_id,
                install_url: &install_url,
            }
            .render(),
        ),
        Err(e) => {
            warn!(error = %format!("{e:#}"), "App setup failed");
            (StatusCode::BAD_GATEWAY, format!("setup failed: {e:#}\n")).into_response()
        }
    }
}

async fn finish(setup: &Setup, code: &str) -> anyhow::Result<(String, u64, String)> {
    let app = convert_manifest(&setup.api_url, code).await?;
    let creds = vault::AppCredentials {
        app_id: app.id,
        slug: app.slug.clone(),
        html_url: app.html_url.clone(),
        private_key: app.pem,
        webhook_secret: app.webhook_secret,
    };
    vault::store(&setup.pool, &setup.key, &creds).await?;
    activate(&setup.live, &setup.api_url, setup.write_interval, &creds)?;
    info!(app_id = app.id, slug = %app.slug, "GitHub App created and active");
    Ok((
        app.slug,
        app.id,
        format!("{}/installations/new", app.html_url),
    ))
}

/// Makes credentials the live ones.
pub fn activate(
    live: &LiveApp,
    api_url: &str,
    write_interval: Duration,
    creds: &vault::AppCredentials,
) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    let github = GitHubApp::new(GitHubSettings {
        write_interval,
        ..GitHubSettings::new(api_url, creds.app_id, creds.private_key.clone())
    })?;
    live.set(
        Some(github),
        vec![creds.webhook_secret.expose_secret().as_bytes().to_vec()],
    );
    Ok(())
}

/// `GET /setup/installed`: where GitHub sends the user after installing the App.
pub async fn installed() -> Html<&'static str> {
    Html(
        "<!doctype html><title>immutabot installed</title><h1>immutabot is installed</h1><p>It scans the selected repositories now and reviews every pull request from here on.</p>",
    )
}
