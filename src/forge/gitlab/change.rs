//! A GitLab merge request as the review sees it: [`ChangeRequest`] over the client. GitLab has
//! no one-call review, so each comment is its own discussion, refused or posted on its own;
//! the check run's place is taken by the `immutabot` commit status and the summary note.

use super::merge_requests::{DiffRefs, MergeRequest};
use super::{CommitState, GitLabClient, GitLabError};
use crate::forge::review::{ChangeRequest, Posting, Refusal, StatusId};
use crate::forge::{
    Annotation, ChangedFile, CheckOutput, Conclusion, ObjectId, PullRequest, ReviewComment,
    ReviewThread, Tree,
};
use crate::ids::{CommitSha, MergeRequestIid, ProjectId};
use anyhow::Context;
use tokio::sync::Mutex;
use tracing::warn;

/// The hidden line that tells our summary note from every other note.
pub const SUMMARY_MARKER: &str = "<!-- immutabot:summary -->";

/// One merge request of one project.
pub struct GitLabMergeRequest {
    client: GitLabClient,
    project: ProjectId,
    iid: MergeRequestIid,
    /// The refs and diffs last read: positions are computed from exactly what was reviewed.
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    refs: Option<DiffRefs>,
    files: Vec<ChangedFile>,
}

impl GitLabMergeRequest {
    /// Merge request `iid` of `project`.
    pub fn new(client: GitLabClient, project: ProjectId, iid: MergeRequestIid) -> Self {
        GitLabMergeRequest {
            client,
            project,
            iid,
            seen: Mutex::default(),
        }
    }

    async fn read(&self) -> Result<MergeRequest, GitLabError> {
        let mr = self.client.merge_request(self.project, self.iid).await?;
        self.seen.lock().await.refs = Some(mr.diff_refs.clone());
        Ok(mr)
    }

    /// The diff refs of `head` and the file of `path` in its diff, read again when what was
    /// seen is of another head.
    async fn anchor_of(&self, head: &CommitSha) -> anyhow::Result<(DiffRefs, Vec<ChangedFile>)> {
        let stale = {
            let seen = self.seen.lock().await;
            seen.refs.as_ref().is_none_or(|r| &r.head_sha != head) || seen.files.is_empty()
        };
        if stale {
            self.read().await?;
            self.changed_files().await?;
        }
        let seen = self.seen.lock().await;
        let refs = seen.refs.clone().context("no diff refs")?;
        if &refs.head_sha != head {
            anyhow::bail!(
                "the merge request's head moved from {head} to {}",
                refs.head_sha
            );
        }
        Ok((refs, seen.files.clone()))
    }
}

impl ChangeRequest for GitLabMergeRequest {
    fn forge_name(&self) -> &'static str {
        "GitLab"
    }

    async fn current(&self) -> anyhow::Result<PullRequest> {
        Ok(self.read().await?.pull)
    }

    async fn changed_files(&self) -> anyhow::Result<Vec<ChangedFile>> {
        let files = self.client.changed_files(self.project, self.iid).await?;
        self.seen.lock().await.files = files.clone();
        Ok(files)
    }

    async fn file_at(&self, path: &str, at: &CommitSha) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.client.file_at(self.project, path, at).await?)
    }

    async fn tree(&self, at: &CommitSha) -> anyhow::Result<Tree> {
        Ok(self.client.tree(self.project, at).await?)
    }

    async fn blob(&self, id: &ObjectId) -> anyhow::Result<Vec<u8>> {
        Ok(self.client.blob(self.project, id).await?)
    }

    async fn threads(&self) -> anyhow::Result<Vec<ReviewThread>> {
        Ok(self.client.discussions(self.project, self.iid).await?)
    }

    async fn start_status(
        &self,
        head: &CommitSha,
        existing: Option<StatusId>,
    ) -> anyhow::Result<StatusId> {
        if existing.is_none() {
            let state = CommitState::Pending;
            self.client
                .set_status(self.project, head, state, "Reviewing", None)
                .await?;
        }
        // A commit status is found by commit and name, so there is no id to keep.
        Ok(existing.unwrap_or(StatusId(0)))
    }

    async fn post_comments(
        &self,
        head: &CommitSha,
        _body: &str,
        comments: &[ReviewComment],
        _key: &str,
    ) -> anyhow::Result<Posting> {
        let (refs, files) = self.anchor_of(head).await?;
        let mut posting = Posting::default();
        for (index, comment) in comments.iter().enumerate() {
            let Some(file) = files.iter().find(|f| f.path == comment.path) else {
                let message = format!("{} is not in the merge request's diff", comment.path);
                posting.refused.push(Refusal { index, message });
                continue;
            };
            let created = self
                .client
                .create_discussion(self.project, self.iid, &refs, file, comment)
                .await;
            match created {
                Ok(_) => posting.posted += 1,
                Err(GitLabError::Refused { message, .. }) => {
                    warn!(%message, path = %comment.path, line = comment.line,
                        "GitLab refused a discussion; its finding goes to the summary instead");
                    posting.refused.push(Refusal { index, message });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(posting)
    }

    async fn resolve_thread(&self, id: &str) -> anyhow::Result<()> {
        Ok(self
            .client
            .resolve_discussion(self.project, self.iid, id)
            .await?)
    }

    async fn finish_status(
        &self,
        head: &CommitSha,
        _status: StatusId,
        conclusion: Conclusion,
        output: &CheckOutput,
    ) -> anyhow::Result<()> {
        let body = summary_note(output);
        self.client
            .upsert_note(self.project, self.iid, SUMMARY_MARKER, &body)
            .await?;
        let state = match conclusion {
            // GitLab has no "neutral": nothing to judge is not a failure.
            Conclusion::Success | Conclusion::Neutral => CommitState::Success,
            Conclusion::Failure => CommitState::Failed,
            Conclusion::Cancelled => CommitState::Canceled,
        };
        self.client
            .set_status(self.project, head, state, &output.title, None)
            .await?;
        Ok(())
    }
}

/// The summary note: the title, the summary, every finding that is not a discussion (what a
/// check run would show as annotations), and the marker that finds the note again.
fn summary_note(output: &CheckOutput) -> String {
    let mut body = format!("**{}**\n\n{}\n", output.title, output.summary.trim_end());
    if !output.annotations.is_empty() {
        body.push_str("\n| File | Line | Finding |\n|---|---|---|\n");
        for a in &output.annotations {
            body.push_str(&annotation_row(a));
        }
    }
    body.push('\n');
    body.push_str(SUMMARY_MARKER);
    body
}

fn annotation_row(a: &Annotation) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    format!(
        "| `{}` | {} | **{}**: {} |\n",
        cell(&a.path),
        a.start_line,
        cell(&a.title),
        cell(&a.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::AnnotationLevel;

    #[test]
    fn the_summary_lists_what_is_not_a_discussion_and_ends_with_the_marker() {
        let output = CheckOutput {
            title: "1 finding".into(),
            summary: "Read-only: 2 of 3.\n".into(),
            annotations: vec![Annotation {
                path: "a|b.yaml".into(),
                start_line: 4,
                end_line: 4,
                annotation_level: AnnotationLevel::Failure,
                title: "writable-root-filesystem".into(),
                message: "Service `web`\nis writable".into(),
                raw_details: None,
            }],
        };
        let note = summary_note(&output);
        assert!(note.starts_with("**1 finding**\n\nRead-only: 2 of 3.\n"));
        assert!(note.contains(
            "| `a\\|b.yaml` | 4 | **writable-root-filesystem**: Service `web` is writable |"
        ));
        assert!(note.ends_with(SUMMARY_MARKER));
    }
}
