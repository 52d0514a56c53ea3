//! The last step of registering an App from a manifest: GitHub redirects back with a
//! one-time code, and `POST /app-manifests/{code}/conversions` returns the new App's id,
//! private key and webhook secret. The only unauthenticated call we make.

use super::GitHubError;
use super::urls::ApiRoot;
use anyhow::Context;
use http::header::ACCEPT;
use octocrab::Octocrab;
use secrecy::SecretString;
use serde::Deserialize;

/// The App GitHub created.
pub struct ConvertedApp {
    /// Its id.
    pub id: u64,
    /// Its URL name.
    pub slug: String,
    /// Its page on GitHub.
    pub html_url: String,
    /// Its private key (PEM).
    pub pem: SecretString,
    /// Its webhook secret.
    pub webhook_secret: SecretString,
}

#[derive(Deserialize)]
struct Conversion {
    id: u64,
    slug: String,
    html_url: String,
    pem: String,
    webhook_secret: Option<String>,
}

/// Exchanges a manifest code for the App's credentials. The code comes from a redirect, so
/// it is checked to be a plain token before it goes into a URL.
pub async fn convert_manifest(api_url: &str, code: &str) -> Result<ConvertedApp, GitHubError> {
    let plain = !code.is_empty()
        && code.len() <= 200
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !plain {
        return Err(anyhow::anyhow!("not a manifest code: {code:?}").into());
    }
    let root = ApiRoot::parse(api_url, super::urls::LABEL)?;
    let url = root.url(&format!("/app-manifests/{code}/conversions"))?;
    let crab = Octocrab::builder()
        .build()
        .context("building the HTTP client")?;
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(url)
        .header(ACCEPT, "application/vnd.github+json");
    let request = crab
        .build_request(request, Some(&serde_json::json!({})))
        .context("building the conversion request")?;
    let response = crab
        .execute(request)
        .await
        .context("POST /app-manifests/{code}/conversions")?;
    let status = response.status();
    let body = axum::body::to_bytes(axum::body::Body::new(response.into_body()), 1 << 20)
        .await
        .map_err(|e| anyhow::anyhow!("reading the conversion answer: {e}"))?;
    let what = "POST /app-manifests/{code}/conversions".to_string();
    match status.as_u16() {
        200..=299 => {}
        404 => return Err(GitHubError::NotFound { what }),
        422 => {
            return Err(GitHubError::Unprocessable {
                message: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        s => {
            return Err(GitHubError::Status {
                status: s,
                what,
                message: String::from_utf8_lossy(&body).into_owned(),
            });
        }
    }
    let c: Conversion =
        serde_json::from_slice(&body).context("reading the new App's credentials")?;
    Ok(ConvertedApp {
        id: c.id,
        slug: c.slug,
        html_url: c.html_url,
        pem: SecretString::from(c.pem),
        webhook_secret: SecretString::from(c.webhook_secret.unwrap_or_default()),
    })
}
