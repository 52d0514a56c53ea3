//! A GitLab project as a scan reads it: [`RepositoryFiles`] over the client.

use super::GitLabClient;
use crate::forge::repository::RepositoryFiles;
use crate::forge::{ObjectId, Tree};
use crate::ids::{CommitSha, Forge, ProjectId};

/// One project, read with the client's token.
pub struct GitLabProject {
    pub(super) client: GitLabClient,
    pub(super) project: ProjectId,
}

impl GitLabProject {
    /// `project` as the client's token sees it.
    pub fn new(client: GitLabClient, project: ProjectId) -> Self {
        GitLabProject { client, project }
    }
}

impl RepositoryFiles for GitLabProject {
    fn forge(&self) -> Forge {
        Forge::GitLab
    }

    async fn default_branch_head(&self) -> anyhow::Result<(String, CommitSha)> {
        Ok(self.client.default_branch_head(self.project).await?)
    }

    async fn tree(&self, commit: &CommitSha) -> anyhow::Result<Tree> {
        Ok(self.client.tree(self.project, commit).await?)
    }

    async fn blob(&self, id: &ObjectId) -> anyhow::Result<Vec<u8>> {
        Ok(self.client.blob(self.project, id).await?)
    }
}
