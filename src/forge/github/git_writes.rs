//! Writing one commit through the Git database API, without a clone: blobs, a tree on top
//! of the base commit's, the commit, then the branch.
//!
//! Blobs and trees are named by their contents, so sending one again makes nothing new. A
//! commit sent again after a lost answer makes at most a second, unreferenced commit: only
//! the sha the branch is set to counts. Creating the branch is made at most once: after a
//! lost answer, a branch already at our commit counts as made.

use super::GitHubError;
use super::client::ApiRequest;
use super::installation::Installation;
use super::urls::encode_file_path;
use crate::forge::ObjectId;
use crate::forge::fix_branch::NewFile;
use crate::ids::{CommitSha, RepoName};
use serde::{Deserialize, Serialize};

/// A commit as the Git database shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommit {
    /// Its tree.
    pub tree: ObjectId,
    /// Its parents.
    pub parents: Vec<CommitSha>,
    /// The author's name.
    pub author: String,
    /// The committer's name.
    pub committer: String,
    /// The message.
    pub message: String,
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

#[derive(Deserialize)]
struct Person {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct CommitJson {
    tree: Sha,
    #[serde(default)]
    parents: Vec<Sha>,
    author: Person,
    committer: Person,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct RefJson {
    object: Sha,
}

#[derive(Serialize)]
struct NewBlob<'a> {
    content: &'a str,
    encoding: &'static str,
}

#[derive(Serialize)]
struct NewTree<'a> {
    base_tree: &'a str,
    tree: Vec<TreeItem<'a>>,
}

#[derive(Serialize)]
struct TreeItem<'a> {
    path: &'a str,
    mode: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    sha: String,
}

#[derive(Serialize)]
struct NewCommit<'a> {
    message: &'a str,
    tree: &'a str,
    parents: [&'a str; 1],
}

#[derive(Serialize)]
struct NewRef<'a> {
    #[serde(rename = "ref")]
    name: String,
    sha: &'a str,
}

#[derive(Serialize)]
struct MoveRef<'a> {
    sha: &'a str,
    force: bool,
}

/// An id from GitHub's answer, checked before it is ever put in a URL.
fn sha(text: &str) -> Result<CommitSha, GitHubError> {
    CommitSha::parse(text).map_err(|e| GitHubError::Other(anyhow::anyhow!(e)))
}

/// A branch name, encoded per segment for a URL.
fn branch_path(branch: &str) -> Result<String, GitHubError> {
    encode_file_path(branch).map_err(|e| GitHubError::Other(anyhow::anyhow!(e)))
}

impl Installation {
    /// The head of `branch`, or `None` when there is no such branch.
    pub async fn branch_head(
        &self,
        repo: &RepoName,
        branch: &str,
    ) -> Result<Option<CommitSha>, GitHubError> {
        let path = format!("/git/ref/heads/{}", branch_path(branch)?);
        let request = ApiRequest::get(self.repo_url(repo, &path)?);
        match self.send(&request).await {
            Ok(answer) => Ok(Some(sha(&answer
                .json::<RefJson>(&request.what())?
                .object
                .sha)?)),
            Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A commit's tree, parents, author and message.
    pub async fn git_commit(
        &self,
        repo: &RepoName,
        commit: &CommitSha,
    ) -> Result<GitCommit, GitHubError> {
        let request = ApiRequest::get(self.repo_url(repo, &format!("/git/commits/{commit}"))?);
        let c: CommitJson = self.send(&request).await?.json(&request.what())?;
        Ok(GitCommit {
            tree: sha(&c.tree.sha)?,
            parents: c
                .parents
                .iter()
                .map(|p| sha(&p.sha))
                .collect::<Result<_, _>>()?,
            author: c.author.name,
            committer: c.committer.name,
            message: c.message,
        })
    }

    /// Makes one commit on top of `parent` that changes `files`, and returns it. The branch
    /// is not touched.
    pub async fn commit_files(
        &self,
        repo: &RepoName,
        parent: &CommitSha,
        message: &str,
        files: &[NewFile<'_>],
    ) -> Result<CommitSha, GitHubError> {
        let base = self.git_commit(repo, parent).await?;
        let mut items = Vec::with_capacity(files.len());
        for f in files {
            let blob = self.create_blob(repo, f.text).await?;
            items.push(TreeItem {
                path: f.path,
                mode: f.mode,
                kind: "blob",
                sha: blob,
            });
        }
        let tree = self.create_tree(repo, &base.tree, items).await?;
        let body = NewCommit {
            message,
            tree: &tree,
            parents: [parent.as_str()],
        };
        let request = ApiRequest::write(
            http::Method::POST,
            self.repo_url(repo, "/git/commits")?,
            &body,
        )?;
        let made: Sha = self.send(&request).await?.json(&request.what())?;
        sha(&made.sha)
    }

    async fn create_blob(&self, repo: &RepoName, text: &str) -> Result<String, GitHubError> {
        let body = NewBlob {
            content: text,
            encoding: "utf-8",
        };
        let request = ApiRequest::write(
            http::Method::POST,
            self.repo_url(repo, "/git/blobs")?,
            &body,
        )?;
        let made: Sha = self.send(&request).await?.json(&request.what())?;
        Ok(sha(&made.sha)?.to_string())
    }

    async fn create_tree(
        &self,
        repo: &RepoName,
        base: &ObjectId,
        tree: Vec<TreeItem<'_>>,
    ) -> Result<String, GitHubError> {
        let body = NewTree {
            base_tree: base.as_str(),
            tree,
        };
        let request = ApiRequest::write(
            http::Method::POST,
            self.repo_url(repo, "/git/trees")?,
            &body,
        )?;
        let made: Sha = self.send(&request).await?.json(&request.what())?;
        Ok(sha(&made.sha)?.to_string())
    }

    /// Creates `branch` at `commit`. Made at most once: after a lost answer, the branch
    /// already at `commit` counts as made.
    pub async fn create_branch(
        &self,
        repo: &RepoName,
        branch: &str,
        commit: &CommitSha,
    ) -> Result<(), GitHubError> {
        let body = NewRef {
            name: format!("refs/heads/{branch}"),
            sha: commit.as_str(),
        };
        let request =
            ApiRequest::write(http::Method::POST, self.repo_url(repo, "/git/refs")?, &body)?
                .no_blind_retry();
        let at_commit = || async {
            let head = self.branch_head(repo, branch).await?;
            Ok::<_, GitHubError>((head.as_ref() == Some(commit)).then_some(()))
        };
        self.create_once(&request, "branch", |_| Ok(()), at_commit)
            .await
    }

    /// Moves `branch` to `commit`; `force` allows a move that is not a fast-forward.
    /// Setting a ref to a sha is the same however often it is sent.
    pub async fn move_branch(
        &self,
        repo: &RepoName,
        branch: &str,
        commit: &CommitSha,
        force: bool,
    ) -> Result<(), GitHubError> {
        let body = MoveRef {
            sha: commit.as_str(),
            force,
        };
        let path = format!("/git/refs/heads/{}", branch_path(branch)?);
        let request = ApiRequest::write(http::Method::PATCH, self.repo_url(repo, &path)?, &body)?;
        self.send(&request).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_sits_on_its_base_and_names_each_blob() {
        let body = NewTree {
            base_tree: "t",
            tree: vec![TreeItem {
                path: "k8s/web.yaml",
                mode: "100644",
                kind: "blob",
                sha: "b".into(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"base_tree": "t", "tree": [
                {"path": "k8s/web.yaml", "mode": "100644", "type": "blob", "sha": "b"}]})
        );
    }
}
