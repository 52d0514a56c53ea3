//! One installation's client; its calls live in `pulls`, `contents`, `checks`, `graphql`,
//! `git` (trees and blobs) and `repositories`.

use super::GitHubError;
use super::answer::Answer;
use super::client::{ApiRequest, Core};
use super::credentials::{InstallationCredentials, InstallationState};
use crate::ids::{InstallationId, RepoName};
use http::Uri;
use std::fmt;
use std::sync::Arc;

/// A client acting as one installation; cheap to clone, clones share token and pacing.
#[derive(Clone)]
pub struct Installation {
    pub(crate) core: Arc<Core>,
    state: Arc<InstallationState>,
}

impl fmt::Debug for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Installation")
            .field("id", &self.state.id)
            .finish_non_exhaustive()
    }
}

impl Installation {
    /// Wraps the shared state handed out by `GitHubApp::installation`.
    pub(crate) fn new(core: Arc<Core>, state: Arc<InstallationState>) -> Installation {
        Installation { core, state }
    }

    /// The installation this client acts as.
    pub fn id(&self) -> InstallationId {
        self.state.id
    }

    /// Sends a request as this installation (retries, pacing, 401 refresh included).
    pub(crate) async fn send(&self, request: &ApiRequest) -> Result<Answer, GitHubError> {
        let credentials = InstallationCredentials {
            core: &self.core,
            state: &self.state,
        };
        self.core.send(request, &credentials).await
    }

    /// `{api}/repos/{owner}/{name}{rest}`; `rest` is built by the caller from ids only.
    pub(crate) fn repo_url(&self, repo: &RepoName, rest: &str) -> Result<Uri, GitHubError> {
        // RepoName admits only [A-Za-z0-9._-] and no dot segments: safe in a path as is.
        let path = format!("/repos/{}/{}{rest}", repo.owner(), repo.name());
        Ok(self.core.root.url(&path)?)
    }
}
