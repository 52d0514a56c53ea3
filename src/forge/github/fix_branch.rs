//! A GitHub repository as the fix-all pull request writes it: [`FixBranch`] over the Git
//! database and pull request calls of the installation.

use super::GitHubRepository;
use super::ref_swap::Swap;
use crate::forge::fix_branch::{
    BotRequest, BranchMoved, BranchUpdate, FixBranch, NewFile, RequestState,
};
use crate::ids::{CommitSha, PrNumber};

impl FixBranch for GitHubRepository {
    fn request_noun(&self) -> &'static str {
        "pull request"
    }

    async fn branch_head(&self, branch: &str) -> anyhow::Result<Option<CommitSha>> {
        Ok(self.installation.branch_head(&self.repo, branch).await?)
    }

    /// A commit by a bot, committed by a bot: GitHub names every App `name[bot]`.
    async fn made_by_us(&self, commit: &CommitSha, title: &str) -> anyhow::Result<bool> {
        let c = self.installation.git_commit(&self.repo, commit).await?;
        Ok(c.author.ends_with("[bot]")
            && c.committer.ends_with("[bot]")
            && c.message.starts_with(title))
    }

    async fn commit_to_branch(
        &self,
        branch: &str,
        base: &CommitSha,
        message: &str,
        files: &[NewFile<'_>],
        write: BranchUpdate<'_>,
    ) -> anyhow::Result<CommitSha> {
        let gh = &self.installation;
        let commit = gh.commit_files(&self.repo, base, message, files).await?;
        match write {
            BranchUpdate::Create => gh.create_branch(&self.repo, branch, &commit).await?,
            BranchUpdate::Replace(head) => {
                if let Swap::Refused(now) =
                    gh.swap_branch(&self.repo, branch, head, &commit).await?
                {
                    return Err(BranchMoved::new(branch, now.as_ref()).into());
                }
            }
        }
        Ok(commit)
    }

    async fn open_request(
        &self,
        branch: &str,
        base_branch: &str,
        title: &str,
        body: &str,
    ) -> anyhow::Result<BotRequest> {
        let pull = self
            .installation
            .open_pull(&self.repo, branch, base_branch, title, body)
            .await?;
        Ok(bot_request(pull))
    }

    async fn request(&self, number: PrNumber) -> anyhow::Result<BotRequest> {
        Ok(bot_request(
            self.installation.bot_pull(&self.repo, number).await?,
        ))
    }

    async fn edit_request(&self, number: PrNumber, title: &str, body: &str) -> anyhow::Result<()> {
        Ok(self
            .installation
            .edit_pull(&self.repo, number, title, body)
            .await?)
    }

    async fn comment_once(&self, number: PrNumber, body: &str, key: &str) -> anyhow::Result<()> {
        self.installation
            .comment_once(&self.repo, number, body, key)
            .await?;
        Ok(())
    }

    async fn close_request(&self, number: PrNumber) -> anyhow::Result<()> {
        Ok(self.installation.close_pull(&self.repo, number).await?)
    }
}

fn bot_request(pull: super::pull_writes::BotPull) -> BotRequest {
    let state = match (pull.state.as_str(), pull.merged) {
        (_, true) => RequestState::Merged,
        ("open", _) => RequestState::Open,
        _ => RequestState::Closed,
    };
    BotRequest {
        number: pull.number,
        url: pull.url,
        state,
    }
}
