//! The GitHub App: built once from settings, it hands out one cached client per installation.

use super::client::Core;
use super::credentials::InstallationState;
use super::installation::Installation;
use super::jwt::app_jwt;
use super::retry::RetryPolicy;
use super::token::TokenCache;
use super::urls::ApiRoot;
use crate::forge::pacing::Pacer;
use crate::ids::InstallationId;
use anyhow::{Context, bail};
use octocrab::Octocrab;
use octocrab::jsonwebtoken::EncodingKey;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to reach GitHub and who the App is.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// API root: `https://api.github.com`, `https://HOST/api/v3` for Enterprise Server.
    pub api_url: String,
    /// The App's numeric id.
    pub app_id: u64,
    /// The App's private key, PEM.
    pub private_key: SecretString,
    /// Retry bounds.
    pub retry: RetryPolicy,
    /// Least time between two content-creating requests of one installation.
    pub write_interval: Duration,
    /// Deadline for one attempt of one request, answer included.
    pub request_timeout: Duration,
}

impl GitHubSettings {
    /// Settings with the default retry policy, 1 s write spacing and a 30 s request timeout.
    pub fn new(api_url: impl Into<String>, app_id: u64, private_key: SecretString) -> Self {
        GitHubSettings {
            api_url: api_url.into(),
            app_id,
            private_key,
            retry: RetryPolicy::default(),
            write_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The App; cheap to clone, and clones share the installation clients.
#[derive(Clone)]
pub struct GitHubApp {
    pub(crate) core: Arc<Core>,
    installations: Arc<Mutex<HashMap<InstallationId, Arc<InstallationState>>>>,
}

impl fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubApp")
            .field("api", &self.core.root)
            .field("app_id", &self.core.app_id)
            .finish_non_exhaustive()
    }
}

impl GitHubApp {
    /// Validates the settings (URL, key) and builds the client. Must run inside a Tokio
    /// runtime (octocrab spawns its connection worker).
    pub fn new(settings: GitHubSettings) -> anyhow::Result<GitHubApp> {
        let root = ApiRoot::parse(&settings.api_url, super::urls::LABEL)?;
        if settings.app_id == 0 {
            bail!("GitHub App id must not be 0");
        }
        if settings.retry.max_attempts == 0 {
            bail!("GitHub retry policy needs at least one attempt");
        }
        let key = EncodingKey::from_rsa_pem(settings.private_key.expose_secret().as_bytes())
            .context("GitHub App private key is not an RSA private key in PEM form")?;
        // Parsing accepts some keys that cannot sign; find out now, not on the first webhook.
        app_jwt(settings.app_id, &key, chrono::Utc::now().timestamp())
            .context("GitHub App private key cannot sign a JWT")?;
        tokio::runtime::Handle::try_current()
            .context("GitHubApp::new must be called inside a Tokio runtime")?;
        let timeout = Some(settings.request_timeout);
        // No auth, no base URI: every request carries an absolute URL from `root` and our own
        // Authorization header (see the module doc for why not octocrab's).
        let crab = Octocrab::builder()
            .set_connect_timeout(timeout)
            .set_read_timeout(timeout)
            .set_write_timeout(timeout)
            .build()
            .context("building the HTTP client")?;
        let core = Core {
            root,
            app_id: settings.app_id,
            key,
            crab,
            policy: settings.retry,
            timeout: settings.request_timeout,
            write_interval: settings.write_interval,
            app_pacer: Pacer::new(settings.write_interval),
        };
        Ok(GitHubApp {
            core: Arc::new(core),
            installations: Arc::default(),
        })
    }

    /// The client of one installation; the same token cache and pacer on every call, so a
    /// token is minted once per hour, not once per job.
    pub fn installation(&self, id: InstallationId) -> anyhow::Result<Installation> {
        let mut map = self
            .installations
            .lock()
            .map_err(|_| anyhow::anyhow!("installation cache poisoned"))?;
        let state = map.entry(id).or_insert_with(|| {
            Arc::new(InstallationState {
                id,
                tokens: TokenCache::default(),
                pacer: Pacer::new(self.core.write_interval),
            })
        });
        Ok(Installation::new(self.core.clone(), state.clone()))
    }
}
