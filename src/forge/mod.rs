//! Talking to code forges. Each forge's payload and API types stay inside its module; what
//! crosses out is the small set of types below.

pub mod fix_branch;
pub mod github;
pub mod gitlab;
pub(crate) mod link;
pub(crate) mod pacing;
pub mod repository;
pub mod retry;
pub mod review;
pub(crate) mod urls;

use crate::ids::CommitSha;

/// A file the forge cannot hand over as it is: too large for one answer, or a path that is
/// not safe in a URL. It costs a review one note, not the job.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FileRefused(pub String);

impl FileRefused {
    /// Whether `e` is, or was caused by, a refused file (through the forges' error types).
    pub fn is_cause_of(e: &anyhow::Error) -> bool {
        let own = |e: &anyhow::Error| e.chain().any(|c| c.is::<FileRefused>());
        if own(e) {
            return true;
        }
        match (
            e.downcast_ref::<github::GitHubError>(),
            e.downcast_ref::<gitlab::GitLabError>(),
        ) {
            (Some(github::GitHubError::Other(inner)), _) => own(inner),
            (_, Some(gitlab::GitLabError::Other(inner))) => own(inner),
            _ => false,
        }
    }
}
use serde::{Deserialize, Serialize};

/// How a file changed in a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// New in the pull request.
    Added,
    /// Deleted by the pull request.
    Removed,
    /// Changed in place.
    Modified,
    /// Moved (maybe also changed); `previous_path` says from where.
    Renamed,
    /// Copied from `previous_path`.
    Copied,
    /// Mode or type changed.
    Changed,
    /// Listed but unchanged.
    Unchanged,
}

/// One file of a pull request's diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Path in the head commit.
    pub path: String,
    /// Path in the base commit, for renames and copies.
    pub previous_path: Option<String>,
    /// How it changed.
    pub status: FileStatus,
    /// The unified-diff hunks; `None` when the forge left them out (binary or too large).
    pub patch: Option<String>,
}

/// What we need to know of a pull request right before we act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Current head commit.
    pub head_sha: CommitSha,
    /// Current base commit.
    pub base_sha: CommitSha,
    /// Base branch name.
    pub base_ref: String,
    /// `true` while the pull request is open.
    pub open: bool,
    /// Draft pull requests are reviewed too, but the flag is kept for the summary.
    pub draft: bool,
}

/// One inline comment of a review, always on the new side (`RIGHT`) of the diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewComment {
    /// Path in the head commit.
    pub path: String,
    /// First line of a multi-line comment; `None` for a single line. Always `< line`.
    pub start_line: Option<u32>,
    /// Last (or only) line the comment covers.
    pub line: u32,
    /// Markdown body, suggestion block and hidden marker included.
    pub body: String,
}

/// Severity of a check-run annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationLevel {
    /// Informational.
    Notice,
    /// Likely a problem.
    Warning,
    /// A failure.
    Failure,
}

/// One check-run annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// Path in the head commit.
    pub path: String,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, `>= start_line`.
    pub end_line: u32,
    /// Severity shown by GitHub.
    pub annotation_level: AnnotationLevel,
    /// Short title (the rule).
    pub title: String,
    /// The message.
    pub message: String,
    /// Extra text shown folded (the suggested patch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}

/// How a check run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// Nothing at or above the failing severity in the diff.
    Success,
    /// A finding at or above the failing severity in the diff.
    Failure,
    /// Nothing to judge (no manifests changed), or the check could not be trusted.
    Neutral,
    /// Superseded by a newer head commit.
    Cancelled,
}

impl Conclusion {
    /// The name GitHub and our database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
            Conclusion::Cancelled => "cancelled",
        }
    }
}

/// The visible output of a check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutput {
    /// One line shown next to the check's name.
    pub title: String,
    /// Markdown, at most 65,535 characters.
    pub summary: String,
    /// Every annotation; the client sends them in batches of 50.
    pub annotations: Vec<Annotation>,
}

/// A review thread on a pull request, as GraphQL reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewThread {
    /// GraphQL node id (`PRRT_…`), what `resolveReviewThread` takes.
    pub id: String,
    /// Already resolved.
    pub is_resolved: bool,
    /// GitHub considers the anchor outdated.
    pub is_outdated: bool,
    /// File the thread is on.
    pub path: String,
    /// The thread's comments, oldest first.
    pub comments: Vec<ThreadComment>,
}

/// One comment in a review thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadComment {
    /// Author login (`name[bot]` for Apps).
    pub author: String,
    /// Markdown body.
    pub body: String,
}

/// A webhook delivery that GitHub recorded as failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDelivery {
    /// The delivery attempt's numeric id (what redelivery takes).
    pub id: i64,
    /// `X-GitHub-Delivery` of the event.
    pub guid: String,
    /// Event name.
    pub event: String,
    /// When GitHub tried.
    pub delivered_at: chrono::DateTime<chrono::Utc>,
}

/// A Git object id (blob or tree): the same shape as a commit id, checked the same way before
/// it is put in a URL.
pub type ObjectId = CommitSha;

/// What a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A file (or a symbolic link: mode `120000`).
    Blob,
    /// A folder.
    Tree,
    /// A submodule: a commit of another repository, nothing to read here.
    Submodule,
}

/// One entry of a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path from the repository root, forward slashes.
    pub path: String,
    /// Git file mode (`100644`, `100755`, `120000` for a link, `040000`, `160000`).
    pub mode: String,
    /// Blob, tree or submodule.
    pub kind: EntryKind,
    /// The object's id: equal ids mean equal contents.
    pub sha: ObjectId,
    /// Size in bytes, for blobs.
    pub size: Option<u64>,
}

impl TreeEntry {
    /// A regular file (not a symbolic link, folder or submodule).
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::Blob && self.mode != "120000"
    }
}

/// A commit's tree, or one folder of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Every entry, folders included.
    pub entries: Vec<TreeEntry>,
    /// Entries are missing: the forge cut the listing short and it could not be completed.
    pub truncated: bool,
}

/// A repository an installation can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRepository {
    /// The forge's repository id.
    pub id: i64,
    /// `owner/name`.
    pub name: crate::ids::RepoName,
    /// The default branch.
    pub default_branch: Option<String>,
    /// Private repository.
    pub private: bool,
    /// Archived: read-only on the forge, still scanned.
    pub archived: bool,
}
