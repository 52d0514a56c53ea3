//! GitHub's OAuth web flow, as far as signing in to the report needs it: the authorize URL a
//! browser is sent to, the exchange of the code it brings back for a user token, who that user
//! is, and whether they are a member of an organisation. GitHub's payloads stay in this file.
//!
//! The user token lives only as long as one sign-in request: it is never stored or logged,
//! and the report session that follows names the user and the organisations checked, not it.

use super::urls::{ApiRoot, LABEL};
use anyhow::Context;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Uri};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

/// The one scope asked for: reading the user's organisation memberships, private ones too.
pub const SCOPE: &str = "read:org";

/// Largest answer read from GitHub's OAuth endpoints (they are a few hundred bytes).
const MAX_ANSWER: usize = 64 * 1024;

/// What a sign-in attempt can fail on, in the cases the sign-in page tells apart.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// GitHub refused the code (`bad_verification_code`, `incorrect_client_credentials`, …):
    /// its error code, safe to show (it names no secret).
    #[error("GitHub refused the sign-in: {0}")]
    Refused(String),
    /// GitHub could not be reached or answered something unexpected.
    #[error(transparent)]
    Unavailable(#[from] anyhow::Error),
}

/// Where the user stands in an organisation, as their own token sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// An active member (public or private).
    Active,
    /// Invited, not yet accepted.
    Pending,
    /// Not a member, or the organisation does not exist.
    None,
    /// The organisation restricts OAuth App access and has not approved this one.
    Restricted,
}

/// The settings of the OAuth App (or GitHub App acting as one) the report signs in with.
pub struct OAuthSettings {
    /// GitHub's web root (`https://github.com`, or the Enterprise host).
    pub web_url: String,
    /// GitHub's REST API root.
    pub api_url: String,
    /// The App's client id.
    pub client_id: String,
    /// The App's client secret.
    pub client_secret: SecretString,
    /// Deadline of one request.
    pub timeout: Duration,
}

/// A client for the OAuth endpoints.
pub struct GitHubOAuth {
    web: String,
    api: ApiRoot,
    client_id: String,
    client_secret: SecretString,
    http: reqwest::Client,
}

impl std::fmt::Debug for GitHubOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubOAuth")
            .field("web", &self.web)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct User {
    login: String,
}

#[derive(Deserialize)]
struct OrgMembership {
    state: String,
}

impl GitHubOAuth {
    /// Checks the roots and builds the client.
    pub fn new(settings: OAuthSettings) -> anyhow::Result<GitHubOAuth> {
        let web = settings.web_url.trim().trim_end_matches('/').to_string();
        web.parse::<Uri>()
            .ok()
            .filter(|u| u.host().is_some())
            .with_context(|| format!("GitHub web URL `{web}` is not a URL"))?;
        let api = ApiRoot::parse(&settings.api_url, LABEL)?;
        // No redirects: a user token must never follow an answer to another host.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .user_agent(concat!("immutabot/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(GitHubOAuth {
            web,
            api,
            client_id: settings.client_id,
            client_secret: settings.client_secret,
            http,
        })
    }

    /// Where the browser goes to authorise: GitHub's page, which comes back to
    /// `redirect_uri` with a code and `state`.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", SCOPE)
            .append_pair("state", state)
            .append_pair("allow_signup", "false")
            .finish();
        format!("{}/login/oauth/authorize?{query}", self.web)
    }

    /// Exchanges the code GitHub handed the browser for a user token.
    pub async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<SecretString, OAuthError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.client_secret.expose_secret())
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .finish();
        let url = format!("{}/login/oauth/access_token", self.web);
        let what = "POST /login/oauth/access_token";
        let response = self
            .http
            .post(&url)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .with_context(|| format!("{what}: no answer"))?;
        let status = response.status().as_u16();
        let bytes = read(response, what).await?;
        // GitHub answers a refused code with 200 and an `error` field.
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .with_context(|| format!("{what} answered {status} with no JSON"))?;
        match (answer.access_token, answer.error) {
            (_, Some(error)) => Err(OAuthError::Refused(plain(&error))),
            (Some(token), None) if (200..300).contains(&status) && !token.is_empty() => {
                Ok(SecretString::from(token))
            }
            _ => Err(anyhow::anyhow!("{what} answered {status} without a token").into()),
        }
    }

    /// The login of the token's user.
    pub async fn login(&self, token: &SecretString) -> Result<String, OAuthError> {
        let (status, bytes) = self.get(token, "/user").await?;
        if status != 200 {
            return Err(anyhow::anyhow!("GET /user answered {status}").into());
        }
        let user: User = serde_json::from_slice(&bytes).context("reading GET /user")?;
        Ok(user.login)
    }

    /// The token's user's membership of `org` (`GET /user/memberships/orgs/{org}`, which
    /// sees private membership with the `read:org` scope). `org` must be a plain login.
    pub async fn membership(
        &self,
        token: &SecretString,
        org: &str,
    ) -> Result<Membership, OAuthError> {
        if org.is_empty() || !org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Ok(Membership::None);
        }
        let (status, bytes) = self
            .get(token, &format!("/user/memberships/orgs/{org}"))
            .await?;
        match status {
            200 => {
                let m: OrgMembership = serde_json::from_slice(&bytes)
                    .context("reading GET /user/memberships/orgs/{org}")?;
                Ok(match m.state.as_str() {
                    "active" => Membership::Active,
                    "pending" => Membership::Pending,
                    _ => Membership::None,
                })
            }
            404 => Ok(Membership::None),
            403 => Ok(Membership::Restricted),
            s => Err(anyhow::anyhow!("GET /user/memberships/orgs/{{org}} answered {s}").into()),
        }
    }

    async fn get(&self, token: &SecretString, path: &str) -> Result<(u16, Vec<u8>), OAuthError> {
        let url = self.api.url(path)?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| anyhow::anyhow!("the user token is not a header value"))?;
        // Keeps the value out of any header dump (reqwest's and http's Debug).
        auth.set_sensitive(true);
        let what = format!("GET {}", url.path());
        let response = self
            .http
            .get(url.to_string())
            .header(ACCEPT, super::client::JSON)
            .header(AUTHORIZATION, auth)
            .send()
            .await
            .with_context(|| format!("{what}: no answer"))?;
        let status = response.status().as_u16();
        Ok((status, read(response, &what).await?))
    }
}

/// The whole answer, at most [`MAX_ANSWER`] bytes.
async fn read(mut response: reqwest::Response, what: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .with_context(|| format!("{what}: reading the answer"))?
    {
        bytes.extend_from_slice(&chunk);
        anyhow::ensure!(
            bytes.len() <= MAX_ANSWER,
            "{what}: answer larger than {MAX_ANSWER} bytes"
        );
    }
    Ok(bytes)
}

/// GitHub's error code, cut to what such a code can hold, for showing on a page.
fn plain(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> GitHubOAuth {
        GitHubOAuth::new(OAuthSettings {
            web_url: "https://github.com/".into(),
            api_url: "https://api.github.com".into(),
            client_id: "Iv1.abc".into(),
            client_secret: SecretString::from("s3cret"),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    #[test]
    fn the_authorize_url_carries_the_client_the_callback_the_scope_and_the_state() {
        let url = client().authorize_url("https://bot.example.com/oauth/callback", "ab12");
        assert_eq!(
            url,
            "https://github.com/login/oauth/authorize?client_id=Iv1.abc&redirect_uri=https%3A%2F%2Fbot.example.com%2Foauth%2Fcallback&scope=read%3Aorg&state=ab12&allow_signup=false"
        );
        assert!(!format!("{:?}", client()).contains("s3cret"));
    }

    #[test]
    fn error_codes_are_cut_to_plain_words() {
        assert_eq!(plain("bad_verification_code"), "bad_verification_code");
        assert_eq!(plain("<script>x"), "scriptx");
    }
}
