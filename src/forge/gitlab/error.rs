//! Errors a caller of the GitLab client must tell apart.

/// What went wrong talking to GitLab, in the cases a caller handles differently.
#[derive(Debug, thiserror::Error)]
pub enum GitLabError {
    /// 400 or 422: GitLab understood the request and refused it (a position that is not in
    /// the diff, a body too long). Retrying the same request cannot help.
    #[error("GitLab refused the request ({status}): {message}")]
    Refused {
        /// HTTP status (400 or 422).
        status: u16,
        /// GitLab's message, e.g. `400 Bad request - Note {:line_code=>["can't be blank", ...]}`.
        message: String,
    },
    /// 404: the thing is not there, or the token may not see it.
    #[error("not found on GitLab: {what}")]
    NotFound {
        /// What was asked for (method and path).
        what: String,
    },
    /// 401 or 403: the token is wrong, expired, lacks the `api` scope or the role.
    #[error("GitLab refused the token ({status}) for {what}: {message}")]
    Unauthorized {
        /// HTTP status (401 or 403).
        status: u16,
        /// Method and path.
        what: String,
        /// GitLab's message.
        message: String,
    },
    /// Any other answer after retries ran out (5xx, 429, 409, ...).
    #[error("GitLab answered {status} to {what}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Method and path.
        what: String,
        /// GitLab's message.
        message: String,
    },
    /// No usable answer (connection, timeout, unexpected JSON), after retries.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl GitLabError {
    /// Whether GitLab may have acted on a request that failed this way: it never answered, or
    /// answered with a server error (its front end can fail after the work was done).
    pub fn effect_unknown(&self) -> bool {
        match self {
            GitLabError::Other(_) => true,
            GitLabError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// A local failure with a message, for answers that do not add up.
    pub(crate) fn other(message: impl std::fmt::Display) -> GitLabError {
        GitLabError::Other(anyhow::anyhow!("{message}"))
    }
}
