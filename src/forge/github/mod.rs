//! The GitHub App client: App JWTs, cached installation tokens, retries and pacing, and the
//! handful of REST and GraphQL calls a review makes. Every URL is built from the configured
//! API root and validated names; no URL found in a payload is ever followed.

mod error;

pub use error::GitHubError;
