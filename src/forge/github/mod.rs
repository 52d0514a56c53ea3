//! The GitHub App client: App JWTs, cached installation tokens, retries and pacing, and the
//! handful of REST and GraphQL calls a review makes. Every URL is built from the configured
//! API root and validated names; no URL found in a payload is ever followed, except a
//! pagination `Link` that points back under the same API root.
//!
//! octocrab is used as the HTTP transport only (its hyper/rustls stack, timeouts and tracing);
//! authentication, retries and pagination are ours, because octocrab drops the token on
//! absolute URLs to any host but api.github.com (the pagination trap in DESIGN.md) and its
//! 401 refresh happens out of sight of our metrics.

mod answer;
mod app;
mod change;
pub mod checks;
mod client;
mod contents;
mod create_once;
mod credentials;
mod deliveries;
mod error;
mod fix_branch;
mod git;
pub mod git_writes;
mod graphql;
mod installation;
mod jwt;
mod manifest;
pub mod oauth;
pub mod pull_writes;
mod pulls;
mod ref_swap;
mod repositories;
mod repository_files;
mod retry;
mod token;
mod urls;
pub mod webhook;

pub use app::{GitHubApp, GitHubSettings};
pub use change::GitHubPullRequest;
pub use error::GitHubError;
pub use installation::Installation;
pub use manifest::{ConvertedApp, convert_manifest};
pub use repository_files::GitHubRepository;
pub use retry::RetryPolicy;
