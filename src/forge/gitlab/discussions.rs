//! Diff discussions: listing them as neutral review threads, starting one per finding, and
//! resolving one.

use super::GitLabError;
use super::client::{GitLabClient, Request};
use super::merge_requests::DiffRefs;
use super::position::{gitlab_suggestion, position};
use crate::forge::{ChangedFile, ReviewComment, ReviewThread, ThreadComment};
use crate::ids::{MergeRequestIid, ProjectId};
use crate::review::marker::fingerprint_of;
use http::Method;
use serde::{Deserialize, Serialize};

/// Pages of discussions read at most (5,000 threads).
const MAX_DISCUSSION_PAGES: usize = 50;

#[derive(Deserialize)]
struct DiscussionJson {
    id: String,
    #[serde(default)]
    notes: Vec<NoteJson>,
}

#[derive(Deserialize)]
struct NoteJson {
    #[serde(default)]
    body: String,
    author: AuthorJson,
    #[serde(default)]
    system: bool,
    #[serde(default)]
    resolved: bool,
    position: Option<PositionJson>,
}

#[derive(Deserialize)]
struct AuthorJson {
    username: String,
}

#[derive(Deserialize)]
struct PositionJson {
    new_path: Option<String>,
    old_path: Option<String>,
}

#[derive(Deserialize)]
struct CreatedJson {
    id: String,
}

#[derive(Serialize)]
struct NewDiscussion<'a> {
    body: &'a str,
    position: super::position::Position,
}

impl DiscussionJson {
    /// A thread anchored in the diff, people's notes only; `None` for a plain comment or a
    /// system note (GitLab lists both as discussions too).
    fn thread(self) -> Option<ReviewThread> {
        let first = self.notes.first().filter(|n| !n.system)?;
        let anchor = first.position.as_ref()?;
        let path = anchor
            .new_path
            .clone()
            .or_else(|| anchor.old_path.clone())?;
        let is_resolved = first.resolved;
        let comments = self
            .notes
            .into_iter()
            .filter(|n| !n.system)
            .map(|n| ThreadComment {
                author: n.author.username,
                body: n.body,
            })
            .collect();
        Some(ReviewThread {
            id: self.id,
            is_resolved,
            // GitLab keeps no such flag; a stale anchor shows in its position's SHAs only.
            is_outdated: false,
            path,
            comments,
        })
    }
}

/// GitLab's discussion ids are hex; anything else is not put in a URL.
fn checked_id(id: &str) -> Result<&str, GitLabError> {
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(id)
        .ok_or_else(|| GitLabError::other(format!("not a discussion id: {id:?}")))
}

impl GitLabClient {
    /// Every diff thread of the merge request, oldest first, with its comments.
    pub async fn discussions(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
    ) -> Result<Vec<ReviewThread>, GitLabError> {
        let path = format!(
            "/projects/{}/merge_requests/{}/discussions",
            project.0, iid.0
        );
        let (items, _) = self
            .get_pages::<DiscussionJson>(&path, MAX_DISCUSSION_PAGES)
            .await?;
        Ok(items
            .into_iter()
            .filter_map(DiscussionJson::thread)
            .collect())
    }

    /// Starts a diff discussion for `comment` on `file` (its entry in the merge request's
    /// diffs), its suggestion fence rewritten for GitLab; returns the discussion's id.
    /// [`GitLabError::Refused`] carries GitLab's answer to a position it would not accept.
    pub async fn create_discussion(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        refs: &DiffRefs,
        file: &ChangedFile,
        comment: &ReviewComment,
    ) -> Result<String, GitLabError> {
        let above = comment
            .start_line
            .map_or(0, |start| comment.line.saturating_sub(start));
        let body = gitlab_suggestion(&comment.body, above);
        let new = NewDiscussion {
            body: &body,
            position: position(comment, file, refs),
        };
        let url = self.project_url(project, &format!("/merge_requests/{}/discussions", iid.0))?;
        let request = Request::write(Method::POST, url, &new)?;
        let (path, posted) = (comment.path.as_str(), body.as_str());
        let find = move || self.find_discussion(project, iid, path, posted);
        let created: CreatedJson = self.create_once(request, find).await?;
        Ok(created.id)
    }

    /// A thread on `path` whose first comment is `body`, or carries its fingerprint (GitLab
    /// may store the text slightly otherwise): one made by an attempt whose answer was lost.
    async fn find_discussion(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        path: &str,
        body: &str,
    ) -> Result<Option<CreatedJson>, GitLabError> {
        let fingerprint = fingerprint_of(body);
        let same = |posted: &str| {
            posted == body || (fingerprint.is_some() && fingerprint_of(posted) == fingerprint)
        };
        let threads = self.discussions(project, iid).await?;
        Ok(threads
            .into_iter()
            .find(|t| t.path == path && t.comments.first().is_some_and(|c| same(&c.body)))
            .map(|t| CreatedJson { id: t.id }))
    }

    /// Resolves a discussion (the finding it was about is gone).
    pub async fn resolve_discussion(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        discussion_id: &str,
    ) -> Result<(), GitLabError> {
        let id = checked_id(discussion_id)?;
        let rest = format!("/merge_requests/{}/discussions/{id}?resolved=true", iid.0);
        let url = self.project_url(project, &rest)?;
        let request = Request::write(Method::PUT, url, &serde_json::json!({}))?;
        self.send(&request).await?;
        Ok(())
    }
}
