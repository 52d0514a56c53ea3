//! What a full-repository scan needs from a forge: a commit's tree and its blobs. Written
//! once in `jobs::scan`; each forge implements it in its own module.

use super::{ObjectId, Tree};
use crate::ids::{CommitSha, Forge};
use std::future::Future;

/// One repository's files on one forge, with the credentials to read them.
pub trait RepositoryFiles: Sync {
    /// Which forge this is: its CODEOWNERS syntax and locations.
    fn forge(&self) -> Forge;

    /// The default branch and its head commit.
    fn default_branch_head(
        &self,
    ) -> impl Future<Output = anyhow::Result<(String, CommitSha)>> + Send;

    /// Every entry of a commit's tree, folders included, recursively.
    fn tree(&self, commit: &CommitSha) -> impl Future<Output = anyhow::Result<Tree>> + Send;

    /// A blob's bytes by its id (the same Git object id on every forge).
    fn blob(&self, id: &ObjectId) -> impl Future<Output = anyhow::Result<Vec<u8>>> + Send;
}
