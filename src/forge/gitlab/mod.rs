//! The GitLab client: a project, group or bot-user token (`PRIVATE-TOKEN`), retries, pages,
//! and the calls a merge-request review and a project scan make. Every URL is built from
//! `GITLAB_URL/api/v4` and validated ids and paths; no URL found in a payload or an answer is
//! followed, except a pagination `Link` that points back under the same API root.
//!
//! GitLab's payload and API types stay in this module: what leaves it is the neutral
//! `crate::forge` types and the small events of [`webhook`].

mod answer;
mod change;
mod client;
mod commits;
mod discussions;
mod error;
mod files;
mod fix_branch;
mod merge_request_writes;
mod merge_requests;
mod notes;
mod position;
mod repository_files;
mod status;
pub mod webhook;

pub use change::{GitLabMergeRequest, SUMMARY_MARKER};
pub use client::{GitLabClient, GitLabSettings};
pub use commits::CommitInfo;
pub use error::GitLabError;
pub use files::ProjectInfo;
pub use merge_requests::{DiffRefs, MergeRequest};
pub use notes::NoteId;
pub use position::gitlab_suggestion;
pub use repository_files::GitLabProject;
pub use status::CommitState;
