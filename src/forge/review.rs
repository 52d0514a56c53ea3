//! What a review needs from a forge, for one change request (a GitHub pull request, a GitLab
//! merge request). The review's steps are written once against this trait; each forge
//! implements it in its own module with its own API types.

use super::{
    ChangedFile, CheckOutput, Conclusion, ObjectId, PullRequest, ReviewComment, ReviewThread, Tree,
};
use crate::ids::CommitSha;
use std::future::Future;

/// The forge's id for our status on a head commit (a check run, a commit status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusId(pub i64);

/// What became of the inline comments of one review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Posting {
    /// Comments the forge accepted.
    pub posted: usize,
    /// Comments the forge refused (a position it does not accept): they become annotations.
    pub refused: Vec<Refusal>,
}

/// One comment the forge would not take, and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Index into the comments given to [`ChangeRequest::post_comments`].
    pub index: usize,
    /// The forge's own message.
    pub message: String,
}

/// One pull or merge request on one forge, with the credentials to read and write it.
///
/// Methods return `anyhow` errors: every failure here is retried by the queue, and the
/// implementations already retry what the forge asks to be retried.
pub trait ChangeRequest: Sync {
    /// The forge's name as the summary and logs show it (`GitHub`, `GitLab`).
    fn forge_name(&self) -> &'static str;

    /// The request as it is now: head, base, open or not.
    fn current(&self) -> impl Future<Output = anyhow::Result<PullRequest>> + Send;

    /// The most changed files the forge lists for one request, if it has such a limit: a
    /// list that long may have been cut short.
    fn listed_files_cap(&self) -> Option<usize> {
        None
    }

    /// Every changed file, with its hunks when the forge gives them.
    fn changed_files(&self) -> impl Future<Output = anyhow::Result<Vec<ChangedFile>>> + Send;

    /// A file's bytes at a commit; `None` when it does not exist there.
    fn file_at(
        &self,
        path: &str,
        at: &CommitSha,
    ) -> impl Future<Output = anyhow::Result<Option<Vec<u8>>>> + Send;

    /// Every entry of a commit's tree, recursively: where the charts and kustomizations
    /// are, and which files a render of one of them needs.
    fn tree(&self, at: &CommitSha) -> impl Future<Output = anyhow::Result<Tree>> + Send;

    /// A blob's bytes by its id (as a tree entry names it).
    fn blob(&self, id: &ObjectId) -> impl Future<Output = anyhow::Result<Vec<u8>>> + Send;

    /// Every comment thread on the request, ours and others'.
    fn threads(&self) -> impl Future<Output = anyhow::Result<Vec<ReviewThread>>> + Send;

    /// Shows our status on `head` as running, reusing `existing` when an earlier attempt
    /// already created it.
    fn start_status(
        &self,
        head: &CommitSha,
        existing: Option<StatusId>,
    ) -> impl Future<Output = anyhow::Result<StatusId>> + Send;

    /// As [`start_status`](Self::start_status), for a check whose status an earlier attempt
    /// may have made without recording it (`maybe_made`): `key` marks the status, and finds
    /// it then. A forge whose status is found by commit and name needs no more.
    fn start_status_once(
        &self,
        head: &CommitSha,
        existing: Option<StatusId>,
        key: &str,
        maybe_made: bool,
    ) -> impl Future<Output = anyhow::Result<StatusId>> + Send {
        let _ = (key, maybe_made);
        self.start_status(head, existing)
    }

    /// Posts the inline comments of one review of `head`; `body` introduces them and `key`
    /// identifies this exact review, so a retry after a lost answer does not post it twice.
    fn post_comments(
        &self,
        head: &CommitSha,
        body: &str,
        comments: &[ReviewComment],
        key: &str,
    ) -> impl Future<Output = anyhow::Result<Posting>> + Send;

    /// Marks a thread resolved.
    fn resolve_thread(&self, id: &str) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Ends our status on `head` with a conclusion and the summary.
    fn finish_status(
        &self,
        head: &CommitSha,
        status: StatusId,
        conclusion: Conclusion,
        output: &CheckOutput,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}
