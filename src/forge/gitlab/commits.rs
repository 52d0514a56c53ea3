//! Branches and commits: a branch's head, one commit's author and parents, and one new
//! commit made through the Commits API (`POST /repository/commits`), which writes the files,
//! makes the commit and points the branch at it in one request, without a clone.

use super::GitLabError;
use super::client::{GitLabClient, Request};
use super::merge_requests::sha;
use crate::forge::fix_branch::NewFile;
use crate::forge::urls::encode_path_component;
use crate::ids::{CommitSha, ProjectId};
use http::Method;
use serde::{Deserialize, Serialize};

/// A commit as GitLab shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Its parents.
    pub parents: Vec<CommitSha>,
    /// The author's name.
    pub author: String,
    /// The committer's name.
    pub committer: String,
    /// The whole message.
    pub message: String,
}

#[derive(Deserialize)]
struct BranchJson {
    commit: CommitIdJson,
}

#[derive(Deserialize)]
struct CommitIdJson {
    id: String,
}

#[derive(Deserialize)]
struct CommitJson {
    #[serde(default)]
    parent_ids: Vec<String>,
    #[serde(default)]
    author_name: String,
    #[serde(default)]
    committer_name: String,
    #[serde(default)]
    message: String,
}

#[derive(Serialize)]
struct NewCommit<'a> {
    branch: &'a str,
    commit_message: &'a str,
    start_sha: &'a str,
    actions: Vec<Action<'a>>,
    /// Overwrites the branch with the new commit on `start_sha`: only for a branch that
    /// holds the bot's own commit.
    force: bool,
}

#[derive(Serialize)]
struct Action<'a> {
    action: &'static str,
    file_path: &'a str,
    content: &'a str,
    encoding: &'static str,
}

impl GitLabClient {
    /// The head of `branch`, or `None` when there is no such branch.
    pub async fn branch_head(
        &self,
        project: ProjectId,
        branch: &str,
    ) -> Result<Option<CommitSha>, GitLabError> {
        let encoded = encode_path_component(branch).map_err(GitLabError::other)?;
        let url = self.project_url(project, &format!("/repository/branches/{encoded}"))?;
        match self.get_json::<BranchJson>(url).await {
            Ok(head) => Ok(Some(sha(&head.commit.id)?)),
            Err(GitLabError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One commit's parents, author, committer and message.
    pub async fn commit(
        &self,
        project: ProjectId,
        commit: &CommitSha,
    ) -> Result<CommitInfo, GitLabError> {
        let url = self.project_url(project, &format!("/repository/commits/{commit}"))?;
        let c: CommitJson = self.get_json(url).await?;
        Ok(CommitInfo {
            parents: c
                .parent_ids
                .iter()
                .map(|p| sha(p))
                .collect::<Result<_, _>>()?,
            author: c.author_name,
            committer: c.committer_name,
            message: c.message,
        })
    }

    /// Makes one commit on `base` that updates `files` and points `branch` at it: a new
    /// branch (GitLab refuses when it exists by then), or with `force` the branch
    /// overwritten. Every file must exist at `base`; its mode is kept. Made at most once:
    /// after a lost answer, the branch at a commit of ours on `base` with this message counts
    /// as made.
    pub async fn commit_files(
        &self,
        project: ProjectId,
        branch: &str,
        base: &CommitSha,
        message: &str,
        files: &[NewFile<'_>],
        force: bool,
    ) -> Result<CommitSha, GitLabError> {
        let body = NewCommit {
            branch,
            commit_message: message,
            start_sha: base.as_str(),
            actions: files
                .iter()
                .map(|f| Action {
                    action: "update",
                    file_path: f.path,
                    content: f.text,
                    encoding: "text",
                })
                .collect(),
            force,
        };
        let url = self.project_url(project, "/repository/commits")?;
        let request = Request::write(Method::POST, url, &body)?;
        let find = || async {
            let Some(head) = self.branch_head(project, branch).await? else {
                return Ok(None);
            };
            let c = self.commit(project, &head).await?;
            let ours = c.parents.as_slice() == std::slice::from_ref(base)
                && c.message.trim_end() == message.trim_end()
                && c.author == self.me().await?.name;
            Ok(ours.then(|| CommitIdJson {
                id: head.to_string(),
            }))
        };
        let made: CommitIdJson = self.create_once(request, find).await?;
        sha(&made.id)
    }
}
