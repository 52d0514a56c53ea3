//! Merge requests: their state and diff refs, and their changed files.

use super::GitLabError;
use super::client::GitLabClient;
use crate::forge::{ChangedFile, FileStatus, PullRequest};
use crate::ids::{CommitSha, MergeRequestIid, ProjectId};
use serde::Deserialize;

/// Pages of diffs read at most (10,000 files; GitLab's own limit is lower).
const MAX_DIFF_PAGES: usize = 100;

/// The three commits a diff position names; GitLab refuses a position whose SHAs are not the
/// merge request's current ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRefs {
    /// The merge base of source and target.
    pub base_sha: CommitSha,
    /// The target branch's commit the diff was computed against.
    pub start_sha: CommitSha,
    /// The source branch's head.
    pub head_sha: CommitSha,
}

/// A merge request as a review needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRequest {
    /// The neutral view: head, base (`start_sha`, the target branch's tip the diff is
    /// against), target branch, open, draft.
    pub pull: PullRequest,
    /// The SHAs every diff discussion must carry.
    pub diff_refs: DiffRefs,
    /// Where the source branch lives (differs from the target project for a fork).
    pub source_project_id: ProjectId,
}

#[derive(Deserialize)]
struct MergeRequestJson {
    state: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    work_in_progress: bool,
    sha: Option<String>,
    target_branch: String,
    source_project_id: i64,
    diff_refs: Option<DiffRefsJson>,
}

#[derive(Deserialize)]
struct DiffRefsJson {
    base_sha: Option<String>,
    start_sha: Option<String>,
    head_sha: Option<String>,
}

#[derive(Deserialize)]
struct DiffJson {
    old_path: String,
    new_path: String,
    #[serde(default)]
    new_file: bool,
    #[serde(default)]
    renamed_file: bool,
    #[serde(default)]
    deleted_file: bool,
    #[serde(default)]
    diff: String,
}

impl From<DiffJson> for ChangedFile {
    fn from(d: DiffJson) -> ChangedFile {
        let status = match (d.new_file, d.deleted_file, d.renamed_file) {
            (true, _, _) => FileStatus::Added,
            (_, true, _) => FileStatus::Removed,
            (_, _, true) => FileStatus::Renamed,
            _ => FileStatus::Modified,
        };
        ChangedFile {
            previous_path: d.renamed_file.then_some(d.old_path),
            path: d.new_path,
            status,
            // GitLab sends an empty diff for a file too large or collapsed: not in the diff.
            patch: (!d.diff.is_empty()).then_some(d.diff),
        }
    }
}

impl MergeRequestJson {
    /// The merge request with its diff refs; `None` while GitLab has not computed the refs
    /// for the current head (just after creation or a push).
    fn ready(self) -> Result<Option<MergeRequest>, GitLabError> {
        let Some(refs) = self.diff_refs else {
            return Ok(None);
        };
        let (Some(base), Some(start), Some(head)) = (refs.base_sha, refs.start_sha, refs.head_sha)
        else {
            return Ok(None);
        };
        if self
            .sha
            .as_deref()
            .is_some_and(|sha| !sha.eq_ignore_ascii_case(&head))
        {
            return Ok(None);
        }
        let diff_refs = DiffRefs {
            base_sha: sha(&base)?,
            start_sha: sha(&start)?,
            head_sha: sha(&head)?,
        };
        let pull = PullRequest {
            head_sha: diff_refs.head_sha.clone(),
            base_sha: diff_refs.start_sha.clone(),
            base_ref: self.target_branch,
            open: self.state == "opened",
            draft: self.draft || self.work_in_progress,
        };
        Ok(Some(MergeRequest {
            pull,
            diff_refs,
            source_project_id: ProjectId(self.source_project_id),
        }))
    }
}

/// A SHA from GitLab's answer, checked before it is ever put in a URL or a position.
pub(crate) fn sha(text: &str) -> Result<CommitSha, GitLabError> {
    CommitSha::parse(text).map_err(GitLabError::other)
}

impl GitLabClient {
    /// The merge request, read again (with growing waits) while its `diff_refs` are still
    /// null or behind its head, as they are for a few seconds after creation or a push.
    pub async fn merge_request(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
    ) -> Result<MergeRequest, GitLabError> {
        let url = self.project_url(project, &format!("/merge_requests/{}", iid.0))?;
        let attempts = self.inner.diff_refs_attempts;
        let mut delay = self.inner.diff_refs_delay;
        for attempt in 1..=attempts {
            let json: MergeRequestJson = self.get_json(url.clone()).await?;
            if let Some(mr) = json.ready()? {
                return Ok(mr);
            }
            if attempt < attempts {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(self.inner.policy.max_delay);
            }
        }
        Err(GitLabError::other(format!(
            "merge request !{} of project {}: diff_refs not ready after {attempts} reads",
            iid.0, project.0
        )))
    }

    /// Every changed file, page by page; a file GitLab left out for its size has
    /// `patch: None`.
    pub async fn changed_files(
        &self,
        project: ProjectId,
        iid: MergeRequestIid,
    ) -> Result<Vec<ChangedFile>, GitLabError> {
        let path = format!("/projects/{}/merge_requests/{}/diffs", project.0, iid.0);
        let (diffs, truncated) = self.get_pages::<DiffJson>(&path, MAX_DIFF_PAGES).await?;
        if truncated {
            tracing::warn!(
                project = project.0,
                iid = iid.0,
                "diff listing cut at {MAX_DIFF_PAGES} pages"
            );
        }
        Ok(diffs.into_iter().map(ChangedFile::from).collect())
    }
}
