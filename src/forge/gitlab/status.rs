//! The `immutabot` commit status on a merge request's head (GitLab's "external" pipeline job).

use super::GitLabError;
use super::client::{GitLabClient, Request};
use crate::ids::{CommitSha, ProjectId};
use http::Method;
use serde::Serialize;

/// The status name: one per commit, moved through its states.
const NAME: &str = "immutabot";
/// GitLab's limit on a status description.
const MAX_DESCRIPTION: usize = 255;

/// A commit status state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommitState {
    /// Queued.
    Pending,
    /// Being reviewed.
    Running,
    /// Nothing at or above the failing severity.
    Success,
    /// A finding at or above the failing severity.
    Failed,
    /// Superseded by a newer head.
    Canceled,
}

#[derive(Serialize)]
struct StatusBody<'a> {
    state: CommitState,
    name: &'static str,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_url: Option<&'a str>,
}

/// GitLab's answer to a transition its state machine refuses because the status is already
/// there (`Cannot transition status via :run from :running`): the state we wanted holds.
fn already_there(e: &GitLabError) -> bool {
    matches!(e, GitLabError::Refused { status: 400, message } if message.contains("Cannot transition status"))
}

impl GitLabClient {
    /// Sets the `immutabot` status of commit `sha`; repeating the current state is not an
    /// error.
    pub async fn set_status(
        &self,
        project: ProjectId,
        sha: &CommitSha,
        state: CommitState,
        description: &str,
        target_url: Option<&str>,
    ) -> Result<(), GitLabError> {
        let body = StatusBody {
            state,
            name: NAME,
            description: description.chars().take(MAX_DESCRIPTION).collect(),
            target_url,
        };
        let url = self.project_url(project, &format!("/statuses/{sha}"))?;
        match self.send(&Request::write(Method::POST, url, &body)?).await {
            Ok(_) => Ok(()),
            Err(e) if already_there(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
