//! A GitHub repository as a scan reads it: [`RepositoryFiles`] over an installation's client.

use super::Installation;
use crate::forge::repository::RepositoryFiles;
use crate::forge::{ObjectId, Tree};
use crate::ids::{CommitSha, Forge, RepoName};

/// One repository, read with an installation's token.
pub struct GitHubRepository {
    pub(super) installation: Installation,
    pub(super) repo: RepoName,
}

impl GitHubRepository {
    /// `repo` as `installation` sees it.
    pub fn new(installation: Installation, repo: RepoName) -> Self {
        GitHubRepository { installation, repo }
    }
}

impl RepositoryFiles for GitHubRepository {
    fn forge(&self) -> Forge {
        Forge::GitHub
    }

    async fn default_branch_head(&self) -> anyhow::Result<(String, CommitSha)> {
        Ok(self.installation.default_branch_head(&self.repo).await?)
    }

    async fn tree(&self, commit: &CommitSha) -> anyhow::Result<Tree> {
        Ok(self.installation.tree(&self.repo, commit, true).await?)
    }

    async fn blob(&self, id: &ObjectId) -> anyhow::Result<Vec<u8>> {
        Ok(self.installation.blob(&self.repo, id).await?)
    }
}
