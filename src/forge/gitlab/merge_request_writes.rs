//! The merge requests the bot opens itself: find one by its source branch, open, edit and
//! close it. Opening is made at most once (see `create_once`).

use super::GitLabError;
use super::client::{GitLabClient, Request};
use crate::forge::fix_branch::{BotRequest, RequestState};
use crate::forge::urls::encode_path_component;
use crate::ids::{MergeRequestIid, PrNumber, ProjectId};
use http::Method;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct MergeRequestJson {
    iid: i64,
    #[serde(default)]
    web_url: String,
    state: String,
}

impl From<MergeRequestJson> for BotRequest {
    fn from(m: MergeRequestJson) -> BotRequest {
        // `locked` is a merge request being merged: still open until it is merged.
        let state = match m.state.as_str() {
            "opened" | "locked" => RequestState::Open,
            "merged" => RequestState::Merged,
            _ => RequestState::Closed,
        };
        BotRequest {
            number: PrNumber(m.iid),
            url: m.web_url,
            state,
        }
    }
}

#[derive(Serialize)]
struct NewMergeRequest<'a> {
    source_branch: &'a str,
    target_branch: &'a str,
    title: &'a str,
    description: &'a str,
    /// The branch is the bot's: merged, it has no use left.
    remove_source_branch: bool,
}

#[derive(Serialize, Default)]
struct EditMergeRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_event: Option<&'a str>,
}

impl GitLabClient {
    /// One merge request's state, fresh from GitLab.
    pub async fn bot_merge_request(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
    ) -> Result<BotRequest, GitLabError> {
        let url = self.project_url(project, &format!("/merge_requests/{}", iid.0))?;
        Ok(self.get_json::<MergeRequestJson>(url).await?.into())
    }

    /// The open merge request from `branch` of the project itself, if there is one.
    pub async fn open_merge_request_from(
        &self,
        project: ProjectId,
        branch: &str,
    ) -> Result<Option<BotRequest>, GitLabError> {
        let branch = encode_path_component(branch).map_err(GitLabError::other)?;
        let url = self.project_url(
            project,
            &format!("/merge_requests?state=opened&source_branch={branch}&per_page=10"),
        )?;
        let found: Vec<MergeRequestJson> = self.get_json(url).await?;
        Ok(found.into_iter().next().map(BotRequest::from))
    }

    /// Opens a merge request from `branch` into `target`. Made at most once: after a lost
    /// answer, or when GitLab says one is already open for the branch (409), that one is it.
    pub async fn open_merge_request(
        &self,
        project: ProjectId,
        branch: &str,
        target: &str,
        title: &str,
        description: &str,
    ) -> Result<BotRequest, GitLabError> {
        let body = NewMergeRequest {
            source_branch: branch,
            target_branch: target,
            title,
            description,
            remove_source_branch: true,
        };
        let request = Request::write(
            Method::POST,
            self.project_url(project, "/merge_requests")?,
            &body,
        )?;
        let find = || async {
            let found = self.open_merge_request_from(project, branch).await?;
            Ok(found.map(|r| MergeRequestJson {
                iid: r.number.0,
                web_url: r.url,
                state: "opened".into(),
            }))
        };
        match self.create_once(request, find).await {
            Ok(made) => Ok(BotRequest::from(made)),
            Err(GitLabError::Status { status: 409, .. }) => self
                .open_merge_request_from(project, branch)
                .await?
                .ok_or_else(|| {
                    GitLabError::other(format!(
                        "GitLab says a merge request from {branch} is open but lists none"
                    ))
                }),
            Err(e) => Err(e),
        }
    }

    /// Replaces a merge request's title and description.
    pub async fn edit_merge_request(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        title: &str,
        description: &str,
    ) -> Result<(), GitLabError> {
        let edit = EditMergeRequest {
            title: Some(title),
            description: Some(description),
            ..EditMergeRequest::default()
        };
        self.put_merge_request(project, iid, &edit).await
    }

    /// Closes a merge request.
    pub async fn close_merge_request(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
    ) -> Result<(), GitLabError> {
        let edit = EditMergeRequest {
            state_event: Some("close"),
            ..EditMergeRequest::default()
        };
        self.put_merge_request(project, iid, &edit).await
    }

    /// Edits are the same however often they are sent: blind retries are safe.
    async fn put_merge_request(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        edit: &EditMergeRequest<'_>,
    ) -> Result<(), GitLabError> {
        let url = self.project_url(project, &format!("/merge_requests/{}", iid.0))?;
        self.send(&Request::write(Method::PUT, url, edit)?).await?;
        Ok(())
    }
}
