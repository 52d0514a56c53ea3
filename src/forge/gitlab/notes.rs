//! The merge request's summary note: one per merge request, found again by a hidden marker
//! and edited in place, never posted twice.

use super::GitLabError;
use super::client::{GitLabClient, Request};
use crate::ids::{MergeRequestIid, ProjectId};
use http::Method;
use serde::{Deserialize, Serialize};

/// Pages of notes read at most (5,000 notes) when looking for ours.
const MAX_NOTE_PAGES: usize = 50;

/// A note's id (what `PUT .../notes/:id` takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(transparent)]
pub struct NoteId(pub i64);

#[derive(Deserialize)]
struct NoteJson {
    id: NoteId,
    #[serde(default)]
    body: String,
    author: AuthorJson,
    #[serde(default)]
    system: bool,
}

#[derive(Deserialize)]
struct AuthorJson {
    username: String,
}

#[derive(Deserialize)]
struct CreatedJson {
    id: NoteId,
}

#[derive(Serialize)]
struct NoteBody<'a> {
    body: &'a str,
}

impl GitLabClient {
    /// Writes the summary: edits our note that carries `marker` (only when its text
    /// changed), or creates it. `body` must contain `marker`, or the next call would not find
    /// the note and post another one.
    pub async fn upsert_note(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        marker: &str,
        body: &str,
    ) -> Result<NoteId, GitLabError> {
        if marker.is_empty() || !body.contains(marker) {
            return Err(GitLabError::other("a summary note must carry its marker"));
        }
        if let Some(note) = self.our_note(project, iid, marker).await? {
            if note.body != body {
                self.edit_note(project, iid, note.id, body).await?;
            }
            return Ok(note.id);
        }
        self.create_note(project, iid, marker, body).await
    }

    /// Comments on the merge request once: `key` must appear in `body`, and a note of ours
    /// carrying it counts as made (never edited).
    pub async fn note_once(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        body: &str,
        key: &str,
    ) -> Result<NoteId, GitLabError> {
        if key.is_empty() || !body.contains(key) {
            return Err(GitLabError::other("a note made once must carry its key"));
        }
        if let Some(note) = self.our_note(project, iid, key).await? {
            return Ok(note.id);
        }
        self.create_note(project, iid, key, body).await
    }

    /// Creates a note carrying `key`, at most once (see `create_once`).
    async fn create_note(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        key: &str,
        body: &str,
    ) -> Result<NoteId, GitLabError> {
        let url = self.project_url(project, &format!("/merge_requests/{}/notes", iid.0))?;
        let request = Request::write(Method::POST, url, &NoteBody { body })?;
        let find = move || async move {
            let found = self.our_note(project, iid, key).await?;
            Ok(found.map(|n| CreatedJson { id: n.id }))
        };
        let created: CreatedJson = self.create_once(request, find).await?;
        Ok(created.id)
    }

    /// Our oldest note carrying `marker`: written by the token's user, so that a person
    /// quoting the marker does not get their note overwritten.
    async fn our_note(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        marker: &str,
    ) -> Result<Option<NoteJson>, GitLabError> {
        let me = self.current_user().await?;
        let path = format!(
            "/projects/{}/merge_requests/{}/notes?sort=asc&order_by=created_at",
            project.0, iid.0
        );
        let (notes, _) = self.get_pages::<NoteJson>(&path, MAX_NOTE_PAGES).await?;
        Ok(notes
            .into_iter()
            .find(|n| !n.system && n.author.username == me && n.body.contains(marker)))
    }

    async fn edit_note(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
        note: NoteId,
        body: &str,
    ) -> Result<(), GitLabError> {
        let rest = format!("/merge_requests/{}/notes/{}", iid.0, note.0);
        let request = Request::write(
            Method::PUT,
            self.project_url(project, &rest)?,
            &NoteBody { body },
        )?;
        self.send(&request).await?;
        Ok(())
    }
}
