//! Repository contents at a commit: one file, the whole tree, a blob.

use super::GitLabError;
use super::client::{GitLabClient, Request};
use super::merge_requests::sha;
use crate::forge::urls::encode_path_component;
use crate::forge::{EntryKind, ObjectId, Tree, TreeEntry};
use crate::ids::{CommitSha, ProjectId};
use serde::Deserialize;

/// Pages of a recursive tree read at most (100,000 entries); beyond, the tree is truncated.
const MAX_TREE_PAGES: usize = 1000;

#[derive(Deserialize)]
struct TreeJson {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    path: String,
    mode: String,
}

impl TreeJson {
    fn entry(self) -> Result<TreeEntry, GitLabError> {
        let kind = match self.kind.as_str() {
            "tree" => EntryKind::Tree,
            "commit" => EntryKind::Submodule,
            _ => EntryKind::Blob,
        };
        Ok(TreeEntry {
            sha: sha(&self.id)?,
            path: self.path,
            mode: self.mode,
            kind,
            // GitLab's tree listing has no sizes.
            size: None,
        })
    }
}

#[derive(Deserialize)]
struct ProjectJson {
    default_branch: Option<String>,
    #[serde(default)]
    path_with_namespace: String,
    #[serde(default)]
    visibility: Option<String>,
    namespace: Option<NamespaceJson>,
}

#[derive(Deserialize)]
struct NamespaceJson {
    id: i64,
    full_path: String,
}

/// What the history records of a project: its path, its group and whether it is public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectInfo {
    /// `group/.../project`.
    pub path: String,
    /// The group (or user namespace) id and full path it lives in.
    pub namespace: Option<(i64, String)>,
    /// Its default branch.
    pub default_branch: Option<String>,
    /// Private or internal: not public.
    pub private: bool,
}

impl GitLabClient {
    /// The project's path, group and visibility.
    pub async fn project(&self, project: ProjectId) -> Result<ProjectInfo, GitLabError> {
        let info: ProjectJson = self.get_json(self.project_url(project, "")?).await?;
        Ok(ProjectInfo {
            path: info.path_with_namespace,
            namespace: info.namespace.map(|n| (n.id, n.full_path)),
            default_branch: info.default_branch,
            private: info.visibility.as_deref() != Some("public"),
        })
    }

    /// The project's default branch and its head commit.
    pub async fn default_branch_head(
        &self,
        project: ProjectId,
    ) -> Result<(String, CommitSha), GitLabError> {
        let info: ProjectJson = self.get_json(self.project_url(project, "")?).await?;
        let branch = info.default_branch.ok_or_else(|| {
            GitLabError::other(format!("project {} has no default branch", project.0))
        })?;
        let head =
            self.branch_head(project, &branch)
                .await?
                .ok_or_else(|| GitLabError::NotFound {
                    what: format!("the default branch {branch} of project {}", project.0),
                })?;
        Ok((branch, head))
    }

    /// The bytes of `path` at commit `at`; `None` when there is no such file there.
    pub async fn file_at(
        &self,
        project: ProjectId,
        path: &str,
        at: &CommitSha,
    ) -> Result<Option<Vec<u8>>, GitLabError> {
        let encoded = encode_path_component(path)
            .map_err(|e| GitLabError::Other(anyhow::Error::new(crate::forge::FileRefused(e))))?;
        let rest = format!("/repository/files/{encoded}/raw?ref={at}");
        let request = Request::get(self.project_url(project, &rest)?);
        match self.send(&request).await {
            Ok(answer) => Ok(Some(answer.body.to_vec())),
            Err(GitLabError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every entry of the commit's tree, folders included, page by page.
    pub async fn tree(&self, project: ProjectId, at: &CommitSha) -> Result<Tree, GitLabError> {
        let path = format!(
            "/projects/{}/repository/tree?recursive=true&ref={at}",
            project.0
        );
        let (items, truncated) = self.get_pages::<TreeJson>(&path, MAX_TREE_PAGES).await?;
        let entries = items
            .into_iter()
            .map(TreeJson::entry)
            .collect::<Result<_, _>>()?;
        Ok(Tree { entries, truncated })
    }

    /// A blob's bytes by its id (what a tree entry names).
    pub async fn blob(&self, project: ProjectId, id: &ObjectId) -> Result<Vec<u8>, GitLabError> {
        let request =
            Request::get(self.project_url(project, &format!("/repository/blobs/{id}/raw"))?);
        Ok(self.send(&request).await?.body.to_vec())
    }
}
