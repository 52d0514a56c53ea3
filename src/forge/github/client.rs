//! What every GitHub request goes through: credentials, pacing, one attempt over octocrab's
//! transport, metrics, and the retry loop around it.

use super::GitHubError;
use super::answer::Answer;
use super::credentials::Credentials;
use super::retry::{Decision, Outcome, RetryPolicy, RetryReason, decide, jittered};
use super::urls::ApiRoot;
use crate::forge::pacing::Pacer;
use crate::forge::retry::Failure;
use anyhow::Context;
use http::header::{ACCEPT, AUTHORIZATION};
use http::{HeaderValue, Method, Uri};
use octocrab::Octocrab;
use octocrab::jsonwebtoken::EncodingKey;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::time::{Duration, SystemTime};
use tracing::Instrument;

/// The media type of GitHub's JSON answers.
pub(crate) const JSON: &str = "application/vnd.github+json";

/// Largest body we read; a raw file beyond it is not a manifest we want in memory.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the App and all its installations share.
pub(crate) struct Core {
    /// Where every URL starts.
    pub(crate) root: ApiRoot,
    /// The App id, the JWT's `iss`.
    pub(crate) app_id: u64,
    /// The App's private key.
    pub(crate) key: EncodingKey,
    /// octocrab without authentication: only its HTTP stack is used (see the module doc).
    pub(crate) crab: Octocrab,
    /// Retry bounds.
    pub(crate) policy: RetryPolicy,
    /// Deadline for one attempt, answer body included.
    pub(crate) timeout: Duration,
    /// Spacing of content-creating requests.
    pub(crate) write_interval: Duration,
    /// Paces App-level writes (redeliveries).
    pub(crate) app_pacer: Pacer,
}

/// One request, built from the API root; sent as often as the retry policy allows.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    method: Method,
    url: Uri,
    body: Option<serde_json::Value>,
    accept: &'static str,
    paced: bool,
    /// Whether an attempt whose effect is unknown (no answer, or a 5xx) may simply be sent
    /// again. Not for a request that creates something: the caller checks first.
    blind_retry: bool,
}

impl ApiRequest {
    /// A read: not paced.
    pub(crate) fn get(url: Uri) -> ApiRequest {
        ApiRequest {
            method: Method::GET,
            url,
            body: None,
            accept: JSON,
            paced: false,
            blind_retry: true,
        }
    }

    /// A content-creating request with a JSON body: paced.
    pub(crate) fn write(
        method: Method,
        url: Uri,
        body: &impl Serialize,
    ) -> Result<ApiRequest, GitHubError> {
        let body = serde_json::to_value(body).context("could not serialize a request body")?;
        Ok(ApiRequest {
            method,
            url,
            body: Some(body),
            accept: JSON,
            paced: true,
            blind_retry: true,
        })
    }

    /// Gives up at the first attempt whose effect is unknown (no answer, a 5xx) instead of
    /// sending it again: GitHub may have acted on it, and a second review would repeat every
    /// comment. Rate limits and a refused token, which GitHub did not act on, are still retried.
    pub(crate) fn no_blind_retry(mut self) -> ApiRequest {
        self.blind_retry = false;
        self
    }

    /// A `POST` that creates no content (a GraphQL query, a token): not paced.
    pub(crate) fn unpaced(mut self) -> ApiRequest {
        self.paced = false;
        self
    }

    /// Asks for another media type (the raw file contents).
    pub(crate) fn accept(mut self, accept: &'static str) -> ApiRequest {
        self.accept = accept;
        self
    }

    /// Method and path, for errors and logs (no query: cursors are noise).
    pub(crate) fn what(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

impl Core {
    /// Sends `request` with `credentials`, retrying as the policy says, and maps the final
    /// answer to `Ok` (2xx) or a `GitHubError`.
    pub(crate) async fn send<C: Credentials>(
        &self,
        request: &ApiRequest,
        credentials: &C,
    ) -> Result<Answer, GitHubError> {
        let span = tracing::debug_span!(
            "github_request",
            method = %request.method,
            path = %request.url.path()
        );
        self.with_retries(request, credentials)
            .instrument(span)
            .await
    }

    async fn with_retries<C: Credentials>(
        &self,
        request: &ApiRequest,
        credentials: &C,
    ) -> Result<Answer, GitHubError> {
        let what = request.what();
        let mut may_refresh = credentials.can_refresh();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let authorization = credentials.authorization().await?;
            let result = if request.paced {
                let pacer = credentials.pacer();
                pacer.run(self.attempt(request, &authorization)).await
            } else {
                self.attempt(request, &authorization).await
            };
            let status = match &result {
                Ok(answer) => answer.status.as_str().to_string(),
                Err(_) => "error".to_string(),
            };
            metrics::counter!(
                "immutabot_github_requests_total",
                "method" => request.method.to_string(),
                "status" => status
            )
            .increment(1);

            let answer = match result {
                Ok(answer) => answer,
                Err(Failure::Permanent(e)) => return Err(GitHubError::Other(e.context(what))),
                Err(Failure::Transient(e)) => {
                    let now = SystemTime::now();
                    match decide(&Outcome::NoAnswer, attempt, may_refresh, &self.policy, now) {
                        Decision::Retry { wait, reason, .. } if request.blind_retry => {
                            tracing::debug!(attempt, error = %e, "no answer; retrying");
                            metrics::counter!("immutabot_github_retries_total", "reason" => reason.label())
                                .increment(1);
                            tokio::time::sleep(jittered(wait)).await;
                            continue;
                        }
                        _ => {
                            let context = format!("{what}: no answer after {attempt} attempts");
                            return Err(GitHubError::Other(e.context(context)));
                        }
                    }
                }
            };

            // Only rate-limit answers need the message, and only their bodies are small.
            let status = answer.status.as_u16();
            let message = if matches!(status, 403 | 429) {
                answer.message()
            } else {
                String::new()
            };
            let outcome = Outcome::Answered {
                status,
                headers: &answer.headers,
                message: &message,
            };
            let now = SystemTime::now();
            match decide(&outcome, attempt, may_refresh, &self.policy, now) {
                Decision::Done | Decision::GiveUp => return answer.into_result(&what),
                Decision::Retry {
                    reason: RetryReason::ServerError,
                    ..
                } if !request.blind_retry => return answer.into_result(&what),
                Decision::Retry {
                    wait,
                    jitter,
                    reason,
                } => {
                    tracing::debug!(attempt, status, ?wait, reason = reason.label(), "retrying");
                    metrics::counter!("immutabot_github_retries_total", "reason" => reason.label())
                        .increment(1);
                    if status == 401 {
                        may_refresh = false;
                        credentials.refused(&authorization).await;
                    }
                    tokio::time::sleep(if jitter { jittered(wait) } else { wait }).await;
                }
            }
        }
    }

    /// One exchange: the request out, the whole answer in, within the deadline.
    async fn attempt(
        &self,
        request: &ApiRequest,
        authorization: &SecretString,
    ) -> Result<Answer, Failure> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", authorization.expose_secret()))
            .map_err(|_| Failure::Permanent(anyhow::anyhow!("credential is not a header value")))?;
        // Keeps the value out of any header dump (hyper's and http's Debug).
        auth.set_sensitive(true);
        let builder = http::Request::builder()
            .method(request.method.clone())
            .uri(request.url.clone())
            .header(ACCEPT, request.accept)
            .header(AUTHORIZATION, auth);
        let http_request = self
            .crab
            .build_request(builder, request.body.as_ref())
            .map_err(|e| Failure::Permanent(e.into()))?;
        let exchange = async {
            let response = self
                .crab
                .execute(http_request)
                .await
                .map_err(|e| Failure::Transient(e.into()))?;
            let (parts, body) = response.into_parts();
            let too_long = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
                .is_some_and(|n| n > MAX_BODY);
            if too_long {
                return Err(Failure::Permanent(anyhow::Error::new(
                    crate::forge::FileRefused(format!("answer larger than {MAX_BODY} bytes")),
                )));
            }
            // axum (already a dependency) collects an http_body::Body with a size cap.
            let body = axum::body::to_bytes(axum::body::Body::new(body), MAX_BODY)
                .await
                .map_err(|e| Failure::Transient(anyhow::anyhow!("reading the answer: {e}")))?;
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(Failure::Transient(anyhow::anyhow!(
                    "no complete answer within {:?}",
                    self.timeout
                )))
            })
    }
}
