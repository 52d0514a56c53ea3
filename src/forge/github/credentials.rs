//! Who a request is sent as: the App itself (a JWT) or one installation (its access token).

use super::GitHubError;
use super::client::{ApiRequest, Core};
use super::jwt::app_jwt;
use super::token::{Minted, TokenCache};
use crate::forge::pacing::Pacer;
use crate::ids::InstallationId;
use anyhow::Context;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Deserialize;
use std::future::Future;

/// A source of `Authorization: Bearer` values and the pacer its writes share.
pub(crate) trait Credentials: Sync {
    /// The value for the next attempt.
    fn authorization(&self) -> impl Future<Output = Result<SecretString, GitHubError>> + Send;
    /// `used` got a 401: forget it so the next attempt gets a fresh one.
    fn refused(&self, used: &SecretString) -> impl Future<Output = ()> + Send;
    /// Whether a 401 can be cured by a fresh value (a JWT is fresh every time already).
    fn can_refresh(&self) -> bool;
    /// The pacer for this identity's content-creating requests.
    fn pacer(&self) -> &Pacer;
}

/// Requests sent as the App.
pub(crate) struct AppCredentials<'a>(pub(crate) &'a Core);

impl Credentials for AppCredentials<'_> {
    async fn authorization(&self) -> Result<SecretString, GitHubError> {
        let now = Utc::now().timestamp();
        let jwt = app_jwt(self.0.app_id, &self.0.key, now).context("signing the App JWT")?;
        Ok(SecretString::from(jwt))
    }

    async fn refused(&self, _used: &SecretString) {}

    fn can_refresh(&self) -> bool {
        false
    }

    fn pacer(&self) -> &Pacer {
        &self.0.app_pacer
    }
}

/// What one installation keeps between calls: its token and its write pacing.
#[derive(Debug)]
pub(crate) struct InstallationState {
    /// The installation.
    pub(crate) id: InstallationId,
    /// Its access token.
    pub(crate) tokens: TokenCache,
    /// Its writes' spacing.
    pub(crate) pacer: Pacer,
}

/// Requests sent as one installation.
pub(crate) struct InstallationCredentials<'a> {
    /// For minting tokens as the App.
    pub(crate) core: &'a Core,
    /// The installation's token and pacer.
    pub(crate) state: &'a InstallationState,
}

/// The answer to `POST /app/installations/{id}/access_tokens`.
#[derive(Deserialize)]
struct AccessToken {
    token: String,
    expires_at: DateTime<Utc>,
}

impl Credentials for InstallationCredentials<'_> {
    async fn authorization(&self) -> Result<SecretString, GitHubError> {
        let core = self.core;
        let id = self.state.id;
        self.state.tokens.get(|| mint(core, id)).await
    }

    async fn refused(&self, used: &SecretString) {
        self.state.tokens.invalidate(used).await;
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn pacer(&self) -> &Pacer {
        &self.state.pacer
    }
}

/// Mints an installation token as the App (retried like any call; never paced: it creates
/// no content).
async fn mint(core: &Core, id: InstallationId) -> Result<Minted, GitHubError> {
    let url = core
        .root
        .url(&format!("/app/installations/{}/access_tokens", id.0))?;
    let request = ApiRequest::write(http::Method::POST, url, &serde_json::json!({}))?.unpaced();
    let answer = core.send(&request, &AppCredentials(core)).await?;
    let token: AccessToken = answer.json(&request.what())?;
    tracing::debug!(installation = id.0, expires_at = %token.expires_at, "minted an installation token");
    Ok(Minted {
        secret: SecretString::from(token.token),
        expires_at: token.expires_at,
    })
}
