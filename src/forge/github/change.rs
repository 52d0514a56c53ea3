//! A GitHub pull request as the review sees it: [`ChangeRequest`] over an installation's
//! client.

use super::{GitHubError, Installation};
use crate::forge::review::{ChangeRequest, Posting, Refusal, StatusId};
use crate::forge::{
    ChangedFile, CheckOutput, Conclusion, ObjectId, PullRequest, ReviewComment, ReviewThread, Tree,
};
use crate::ids::{CheckRunId, CommitSha, PrNumber, RepoName};
use tracing::warn;

/// One pull request of one repository, read and written with an installation's token.
pub struct GitHubPullRequest {
    installation: Installation,
    repo: RepoName,
    number: PrNumber,
}

impl GitHubPullRequest {
    /// The pull request `number` of `repo`.
    pub fn new(installation: Installation, repo: RepoName, number: PrNumber) -> Self {
        GitHubPullRequest {
            installation,
            repo,
            number,
        }
    }
}

impl ChangeRequest for GitHubPullRequest {
    fn forge_name(&self) -> &'static str {
        "GitHub"
    }

    async fn current(&self) -> anyhow::Result<PullRequest> {
        Ok(self
            .installation
            .pull_request(&self.repo, self.number)
            .await?)
    }

    fn listed_files_cap(&self) -> Option<usize> {
        Some(super::pulls::MAX_FILES)
    }

    async fn changed_files(&self) -> anyhow::Result<Vec<ChangedFile>> {
        Ok(self
            .installation
            .changed_files(&self.repo, self.number)
            .await?)
    }

    async fn file_at(&self, path: &str, at: &CommitSha) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.installation.file_at(&self.repo, path, at).await?)
    }

    async fn tree(&self, at: &CommitSha) -> anyhow::Result<Tree> {
        Ok(self.installation.tree(&self.repo, at, true).await?)
    }

    async fn blob(&self, id: &ObjectId) -> anyhow::Result<Vec<u8>> {
        Ok(self.installation.blob(&self.repo, id).await?)
    }

    async fn threads(&self) -> anyhow::Result<Vec<ReviewThread>> {
        Ok(self
            .installation
            .review_threads(&self.repo, self.number)
            .await?)
    }

    async fn start_status(
        &self,
        head: &CommitSha,
        existing: Option<StatusId>,
    ) -> anyhow::Result<StatusId> {
        if let Some(id) = existing {
            return Ok(id);
        }
        let run = self.installation.create_check_run(&self.repo, head).await?;
        Ok(StatusId(run.0))
    }

    async fn start_status_once(
        &self,
        head: &CommitSha,
        existing: Option<StatusId>,
        key: &str,
        maybe_made: bool,
    ) -> anyhow::Result<StatusId> {
        if let Some(id) = existing {
            return Ok(id);
        }
        let installation = &self.installation;
        if maybe_made && let Some(run) = installation.find_check_run(&self.repo, head, key).await? {
            return Ok(StatusId(run.0));
        }
        let run = installation
            .create_check_run_with_key(&self.repo, head, key)
            .await?;
        Ok(StatusId(run.0))
    }

    async fn post_comments(
        &self,
        head: &CommitSha,
        body: &str,
        comments: &[ReviewComment],
        key: &str,
    ) -> anyhow::Result<Posting> {
        let posted = self
            .installation
            .create_review(&self.repo, self.number, head, body, comments, key)
            .await;
        match posted {
            Ok(_) => Ok(Posting {
                posted: comments.len(),
                refused: Vec::new(),
            }),
            // GitHub takes a review whole or not at all: one bad anchor refuses every comment.
            Err(GitHubError::Unprocessable { message }) => {
                warn!(%message, anchors = %anchors(comments),
                    "GitHub refused the review; its findings go to the check run instead");
                let refused = (0..comments.len())
                    .map(|index| Refusal {
                        index,
                        message: message.clone(),
                    })
                    .collect();
                Ok(Posting { posted: 0, refused })
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn resolve_thread(&self, id: &str) -> anyhow::Result<()> {
        Ok(self.installation.resolve_thread(id).await?)
    }

    async fn finish_status(
        &self,
        _head: &CommitSha,
        status: StatusId,
        conclusion: Conclusion,
        output: &CheckOutput,
    ) -> anyhow::Result<()> {
        let run = CheckRunId(status.0);
        Ok(self
            .installation
            .complete_check_run(&self.repo, run, conclusion, output)
            .await?)
    }
}

/// `path:line` or `path:start-end` of every comment, for the log.
fn anchors(comments: &[ReviewComment]) -> String {
    comments
        .iter()
        .map(|c| match c.start_line {
            Some(s) => format!("{}:{}-{}", c.path, s, c.line),
            None => format!("{}:{}", c.path, c.line),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
