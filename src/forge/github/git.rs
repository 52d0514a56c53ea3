//! Whole-repository reads through the Git database API: the default branch's head, a commit's
//! tree (walked folder by folder when GitHub truncates it), and blobs by id.

use super::GitHubError;
use super::client::ApiRequest;
use super::installation::Installation;
use super::urls::encode_file_path;
use crate::forge::{EntryKind, ObjectId, Tree, TreeEntry};
use crate::ids::{CommitSha, RepoName};
use serde::Deserialize;

/// The raw media type: the answer body is the blob itself.
const RAW: &str = "application/vnd.github.raw+json";
/// Bounds the folder-by-folder walk of a truncated tree (one request per folder).
const MAX_FOLDERS: usize = 20_000;

#[derive(Deserialize)]
struct RepoJson {
    default_branch: String,
}

#[derive(Deserialize)]
struct RefJson {
    object: RefObject,
}

#[derive(Deserialize)]
struct RefObject {
    sha: String,
}

#[derive(Deserialize)]
struct TreeJson {
    #[serde(default)]
    tree: Vec<EntryJson>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Deserialize)]
struct EntryJson {
    path: String,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    #[serde(default)]
    size: Option<u64>,
}

/// An id from GitHub's answer, checked before it is ever put in a URL.
fn object_id(text: &str) -> Result<ObjectId, GitHubError> {
    CommitSha::parse(text).map_err(|e| GitHubError::Other(anyhow::anyhow!(e)))
}

impl EntryJson {
    fn into_entry(self, prefix: &str) -> Result<TreeEntry, GitHubError> {
        let kind = match self.kind.as_str() {
            "tree" => EntryKind::Tree,
            "commit" => EntryKind::Submodule,
            _ => EntryKind::Blob,
        };
        Ok(TreeEntry {
            path: format!("{prefix}{}", self.path),
            mode: self.mode,
            kind,
            sha: object_id(&self.sha)?,
            size: self.size,
        })
    }
}

impl Installation {
    /// The default branch and the commit at its head.
    pub async fn default_branch_head(
        &self,
        repo: &RepoName,
    ) -> Result<(String, CommitSha), GitHubError> {
        let request = ApiRequest::get(self.repo_url(repo, "")?);
        let info: RepoJson = self.send(&request).await?.json(&request.what())?;
        // Branch names may hold slashes and any byte Git allows: encoded per segment.
        let encoded = encode_file_path(&info.default_branch)
            .map_err(|e| GitHubError::Other(anyhow::anyhow!(e)))?;
        let request = ApiRequest::get(self.repo_url(repo, &format!("/git/ref/heads/{encoded}"))?);
        let head: RefJson = self.send(&request).await?.json(&request.what())?;
        Ok((info.default_branch, object_id(&head.object.sha)?))
    }

    /// The tree of `commit` (or of a tree id). Recursive listings that GitHub truncates are
    /// completed folder by folder; `truncated` is then set only if even that was cut short.
    pub async fn tree(
        &self,
        repo: &RepoName,
        commit: &ObjectId,
        recursive: bool,
    ) -> Result<Tree, GitHubError> {
        let first = self.tree_once(repo, commit, recursive, "").await?;
        if !recursive || !first.truncated {
            return Ok(first);
        }
        tracing::info!(%repo, %commit, "tree truncated by GitHub; walking it folder by folder");
        self.walk(repo, commit).await
    }

    async fn walk(&self, repo: &RepoName, commit: &ObjectId) -> Result<Tree, GitHubError> {
        let mut out = Tree::default();
        let mut folders = vec![(String::new(), commit.clone())];
        let mut fetched = 0;
        while let Some((prefix, sha)) = folders.pop() {
            if fetched == MAX_FOLDERS {
                out.truncated = true;
                break;
            }
            fetched += 1;
            let level = self.tree_once(repo, &sha, false, &prefix).await?;
            out.truncated |= level.truncated;
            for entry in level.entries {
                if entry.kind == EntryKind::Tree {
                    folders.push((format!("{}/", entry.path), entry.sha.clone()));
                }
                out.entries.push(entry);
            }
        }
        out.entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    async fn tree_once(
        &self,
        repo: &RepoName,
        sha: &ObjectId,
        recursive: bool,
        prefix: &str,
    ) -> Result<Tree, GitHubError> {
        let query = if recursive { "?recursive=1" } else { "" };
        let url = self.repo_url(repo, &format!("/git/trees/{sha}{query}"))?;
        let request = ApiRequest::get(url);
        let tree: TreeJson = self.send(&request).await?.json(&request.what())?;
        Ok(Tree {
            entries: tree
                .tree
                .into_iter()
                .map(|e| e.into_entry(prefix))
                .collect::<Result<_, _>>()?,
            truncated: tree.truncated,
        })
    }

    /// A blob's bytes, through the raw media type (the JSON form is base64 and capped).
    pub async fn blob(&self, repo: &RepoName, sha: &ObjectId) -> Result<Vec<u8>, GitHubError> {
        let url = self.repo_url(repo, &format!("/git/blobs/{sha}"))?;
        let request = ApiRequest::get(url).accept(RAW);
        Ok(self.send(&request).await?.body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_their_folder_and_kind() {
        let e: EntryJson = serde_json::from_str(
            r#"{"path":"app.yaml","mode":"100644","type":"blob","sha":"3f0c5b0a6a6b3c2d1e0f9a8b7c6d5e4f3a2b1c0d","size":12,"url":"x"}"#,
        )
        .unwrap();
        let e = e.into_entry("k8s/").unwrap();
        assert_eq!(e.path, "k8s/app.yaml");
        assert!(e.is_file());
        let sub: EntryJson = serde_json::from_str(
            r#"{"path":"vendor","mode":"160000","type":"commit","sha":"3f0c5b0a6a6b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"}"#,
        )
        .unwrap();
        assert_eq!(sub.into_entry("").unwrap().kind, EntryKind::Submodule);
        let bad: EntryJson =
            serde_json::from_str(r#"{"path":"x","mode":"100644","type":"blob","sha":"../x"}"#)
                .unwrap();
        assert!(bad.into_entry("").is_err());
    }
}
