//! Pull-request review: which findings become inline comments, which go to the check run,
//! and the exact text of both.
//!
//! Everything here is pure: the service fetches the pull request's files and patches, the
//! analysis core judges them, [`plan::plan`] decides where each finding goes, and the
//! renderers write the words. The forge client only posts what comes out.

pub mod diff;
pub mod escape;
pub mod fence;
pub mod fix_diff;
pub mod marker;
pub mod place;
pub mod plan;
pub mod render;
pub mod summary;

pub use diff::{DiffError, FileDiff};
pub use plan::{Plan, PlannedComment, PlannedFinding, ReviewFile, plan};

/// GitHub's limit on a review comment body, in characters (we count bytes, which is stricter).
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// GitHub's limit on a check run's summary, in characters (we count bytes, which is stricter).
pub const MAX_SUMMARY_CHARS: usize = 65_535;

/// Inline comments per review, as reviewdog does: more trips GitHub's abuse detection.
pub const MAX_COMMENTS: usize = 30;
