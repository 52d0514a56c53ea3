//! Content-creating calls made at most once: GitHub's front end can answer a 5xx (or not at
//! all) after its back end did the work, so such a call is never retried blindly. After an
//! attempt whose effect is unknown, what it would have made is looked for first.

use super::GitHubError;
use super::answer::Answer;
use super::client::ApiRequest;
use super::installation::Installation;
use std::future::Future;

/// Whether GitHub may have acted on a request that failed: it never answered, or answered
/// with a server error (GitHub's front end can fail after the back end has done the work).
fn effect_unknown(e: &GitHubError) -> bool {
    match e {
        GitHubError::Other(_) => true,
        GitHubError::Status { status, .. } => *status >= 500,
        _ => false,
    }
}

impl Installation {
    /// Sends `request` (built with `no_blind_retry`) until it is answered; `made` reads the
    /// answer, `find` looks for what an unanswered attempt may have made. `kind` names it in
    /// logs and the retry metric.
    pub(super) async fn create_once<T, Find, Found>(
        &self,
        request: &ApiRequest,
        kind: &'static str,
        made: impl Fn(Answer) -> Result<T, GitHubError>,
        find: Find,
    ) -> Result<T, GitHubError>
    where
        Find: Fn() -> Found,
        Found: Future<Output = Result<Option<T>, GitHubError>>,
    {
        let attempts = self.core.policy.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.send(request).await {
                Ok(answer) => return made(answer),
                Err(e) if effect_unknown(&e) => e,
                Err(e) => return Err(e),
            };
            if let Some(found) = find().await? {
                tracing::info!(kind, "made although its answer was lost");
                return Ok(found);
            }
            if attempt >= attempts {
                return Err(failure);
            }
            tracing::debug!(kind, attempt, error = %failure, "not made; posting again");
            metrics::counter!("immutabot_github_retries_total", "reason" => format!("{kind}_not_made"))
                .increment(1);
            tokio::time::sleep(super::retry::jittered(self.core.policy.backoff(attempt))).await;
        }
    }
}
