//! Errors a caller of the GitHub client must tell apart.

/// What went wrong talking to GitHub, in the cases a caller handles differently.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// 422: GitHub understood the request and refused it (a review line outside the diff,
    /// a summary too long). Retrying the same request cannot help.
    #[error("GitHub refused the request (422): {message}")]
    Unprocessable {
        /// GitHub's message, with its `errors` details when it gave any.
        message: String,
    },
    /// 404 (or 410): the thing is not there, or the installation may not see it.
    #[error("not found on GitHub: {what}")]
    NotFound {
        /// What was asked for (method and path).
        what: String,
    },
    /// Any other answer after retries ran out (5xx, 401, 403, 429, ...).
    #[error("GitHub answered {status} to {what}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Method and path.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// The request never got an answer (connection, timeout, bad JSON), after retries.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}
