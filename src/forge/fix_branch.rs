//! What the fix-all change request needs from a forge: one branch the bot owns, one commit on
//! it made through the API (no clone), and the pull or merge request that shows it. Written
//! once in `jobs::fix_pull`; each forge implements it in its own module.

use super::repository::RepositoryFiles;
use crate::ids::{CommitSha, PrNumber};
use std::future::Future;

/// One file of the new commit, whole.
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    /// Its path from the repository root.
    pub path: &'a str,
    /// Its Git mode (`100644`, `100755`), which the commit keeps.
    pub mode: &'a str,
    /// Its new text.
    pub text: &'a str,
}

/// How the branch gets the new commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchUpdate<'a> {
    /// The branch does not exist: create it (refused if it appeared meanwhile).
    Create,
    /// The branch's head is the bot's own commit `head`: move it to the new one, forced, but
    /// only while it still points at `head` (else [`BranchMoved`]).
    Replace(&'a CommitSha),
}

/// Someone else moved the branch between the bot's look at it and its move: the branch was
/// left alone, and the next run sees their commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{branch} moved to {head} while the bot made its commit; it was left alone")]
pub struct BranchMoved {
    /// The branch.
    pub branch: String,
    /// Its head now (empty when it was deleted).
    pub head: String,
}

impl BranchMoved {
    /// `branch`, found at `head` (`None`: deleted).
    pub fn new(branch: &str, head: Option<&CommitSha>) -> BranchMoved {
        BranchMoved {
            branch: branch.to_string(),
            head: head.map(|h| h.to_string()).unwrap_or_default(),
        }
    }
}

/// A change request's state on the forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// Open.
    Open,
    /// Closed without merging.
    Closed,
    /// Merged.
    Merged,
}

impl RequestState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Open => "open",
            RequestState::Closed => "closed",
            RequestState::Merged => "merged",
        }
    }

    /// The stored form read back; anything unknown counts as closed.
    pub fn parse(text: &str) -> RequestState {
        match text {
            "open" => RequestState::Open,
            "merged" => RequestState::Merged,
            _ => RequestState::Closed,
        }
    }
}

/// A change request the bot made, as the forge shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotRequest {
    /// Its number (a GitLab merge request's iid).
    pub number: PrNumber,
    /// Its web address.
    pub url: String,
    /// Open, closed or merged.
    pub state: RequestState,
}

/// One repository on one forge, with the credentials to write the fix branch and the change
/// request that shows it.
///
/// Methods return `anyhow` errors: every failure here is retried by the queue, and the
/// implementations already retry what the forge asks to be retried. Creating writes are made
/// at most once: after a lost answer each looks for what it would have made.
pub trait FixBranch: RepositoryFiles {
    /// What the forge calls a change request, in prose (`pull request`, `merge request`).
    fn request_noun(&self) -> &'static str;

    /// The head of `branch`; `None` when there is no such branch.
    fn branch_head(
        &self,
        branch: &str,
    ) -> impl Future<Output = anyhow::Result<Option<CommitSha>>> + Send;

    /// Whether `commit` is one the bot made with a message starting with `title`: what tells
    /// the bot's branch from a person's when its record was lost.
    fn made_by_us(
        &self,
        commit: &CommitSha,
        title: &str,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Makes one commit on `base` that writes `files`, and points `branch` at it as `write`
    /// says; returns the commit. A branch someone else moved meanwhile is a [`BranchMoved`]
    /// error.
    fn commit_to_branch(
        &self,
        branch: &str,
        base: &CommitSha,
        message: &str,
        files: &[NewFile<'_>],
        write: BranchUpdate<'_>,
    ) -> impl Future<Output = anyhow::Result<CommitSha>> + Send;

    /// Opens the change request from `branch` into `base_branch`; the one already open from
    /// `branch`, when there is one.
    fn open_request(
        &self,
        branch: &str,
        base_branch: &str,
        title: &str,
        body: &str,
    ) -> impl Future<Output = anyhow::Result<BotRequest>> + Send;

    /// The change request as it is now.
    fn request(&self, number: PrNumber) -> impl Future<Output = anyhow::Result<BotRequest>> + Send;

    /// Replaces its title and body.
    fn edit_request(
        &self,
        number: PrNumber,
        title: &str,
        body: &str,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Comments on it once: `key` appears in `body`, and a comment of ours carrying it counts
    /// as made.
    fn comment_once(
        &self,
        number: PrNumber,
        body: &str,
        key: &str,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Closes it.
    fn close_request(&self, number: PrNumber) -> impl Future<Output = anyhow::Result<()>> + Send;
}
