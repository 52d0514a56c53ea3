//! A GitLab project as the fix-all merge request writes it: [`FixBranch`] over the Commits,
//! Branches, Merge Requests and Notes APIs.

use super::GitLabProject;
use crate::forge::fix_branch::{BotRequest, BranchMoved, BranchUpdate, FixBranch, NewFile};
use crate::ids::{CommitSha, MergeRequestIid, PrNumber};

impl FixBranch for GitLabProject {
    fn request_noun(&self) -> &'static str {
        "merge request"
    }

    async fn branch_head(&self, branch: &str) -> anyhow::Result<Option<CommitSha>> {
        Ok(self.client.branch_head(self.project, branch).await?)
    }

    /// Authored and committed under the token user's name: GitLab writes API commits so.
    async fn made_by_us(&self, commit: &CommitSha, title: &str) -> anyhow::Result<bool> {
        let c = self.client.commit(self.project, commit).await?;
        let me = &self.client.me().await?.name;
        Ok(!me.is_empty() && &c.author == me && &c.committer == me && c.message.starts_with(title))
    }

    async fn commit_to_branch(
        &self,
        branch: &str,
        base: &CommitSha,
        message: &str,
        files: &[NewFile<'_>],
        write: BranchUpdate<'_>,
    ) -> anyhow::Result<CommitSha> {
        let force = match write {
            BranchUpdate::Create => false,
            BranchUpdate::Replace(head) => {
                // GitLab compares nothing before a forced commit: the look right before it
                // leaves a window of one request.
                let now = self.client.branch_head(self.project, branch).await?;
                if now.as_ref() != Some(head) {
                    return Err(BranchMoved::new(branch, now.as_ref()).into());
                }
                true
            }
        };
        Ok(self
            .client
            .commit_files(self.project, branch, base, message, files, force)
            .await?)
    }

    async fn open_request(
        &self,
        branch: &str,
        base_branch: &str,
        title: &str,
        body: &str,
    ) -> anyhow::Result<BotRequest> {
        Ok(self
            .client
            .open_merge_request(self.project, branch, base_branch, title, body)
            .await?)
    }

    async fn request(&self, number: PrNumber) -> anyhow::Result<BotRequest> {
        Ok(self
            .client
            .bot_merge_request(self.project, iid(number))
            .await?)
    }

    async fn edit_request(&self, number: PrNumber, title: &str, body: &str) -> anyhow::Result<()> {
        Ok(self
            .client
            .edit_merge_request(self.project, iid(number), title, body)
            .await?)
    }

    async fn comment_once(&self, number: PrNumber, body: &str, key: &str) -> anyhow::Result<()> {
        self.client
            .note_once(self.project, iid(number), body, key)
            .await?;
        Ok(())
    }

    async fn close_request(&self, number: PrNumber) -> anyhow::Result<()> {
        Ok(self
            .client
            .close_merge_request(self.project, iid(number))
            .await?)
    }
}

/// A merge request's iid is what the fix-pull record keeps as its number.
fn iid(number: PrNumber) -> MergeRequestIid {
    MergeRequestIid(number.0)
}
