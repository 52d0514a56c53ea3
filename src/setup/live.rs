//! The App's credentials as the running service sees them. They can arrive after start (the
//! `/setup` flow), so everything that talks to GitHub or checks a signature asks here each
//! time instead of holding its own copy.

use crate::forge::github::{GitHubApp, Installation};
use crate::ids::InstallationId;
use std::sync::{Arc, RwLock};

#[derive(Default)]
struct Current {
    github: Option<Arc<GitHubApp>>,
    secrets: Arc<Vec<Vec<u8>>>,
}

/// The current GitHub App client and webhook secrets; clones share them.
#[derive(Clone, Default)]
pub struct LiveApp {
    current: Arc<RwLock<Current>>,
}

impl LiveApp {
    /// Credentials known at start.
    pub fn new(github: Option<GitHubApp>, secrets: Vec<Vec<u8>>) -> LiveApp {
        let live = LiveApp::default();
        live.set(github, secrets);
        live
    }

    /// Only webhook secrets (tests of the webhook endpoint need no GitHub client).
    pub fn secrets_only(secrets: Vec<Vec<u8>>) -> LiveApp {
        LiveApp::new(None, secrets)
    }

    /// Replaces the credentials: takes effect for the next request and the next job.
    pub fn set(&self, github: Option<GitHubApp>, secrets: Vec<Vec<u8>>) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        *current = Current {
            github: github.map(Arc::new),
            secrets: Arc::new(secrets),
        };
    }

    /// The webhook secrets to accept now (none before setup: every delivery is refused).
    pub fn secrets(&self) -> Arc<Vec<Vec<u8>>> {
        self.read().secrets.clone()
    }

    /// Whether the App's credentials are known.
    pub fn is_set_up(&self) -> bool {
        self.read().github.is_some()
    }

    /// The GitHub App client, or an error a job can retry on.
    pub fn get(&self) -> anyhow::Result<Arc<GitHubApp>> {
        self.read()
            .github
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the GitHub App is not set up yet (see /setup)"))
    }

    /// The client of one installation.
    pub fn installation(&self, id: InstallationId) -> anyhow::Result<Installation> {
        self.get()?.installation(id)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl From<GitHubApp> for LiveApp {
    fn from(github: GitHubApp) -> LiveApp {
        LiveApp::new(Some(github), Vec::new())
    }
}
