//! What every GitLab request goes through: the API root, the `PRIVATE-TOKEN` header, one
//! bounded attempt over reqwest, metrics, the retry loop around it, and page walks.

use super::GitLabError;
use super::answer::Answer;
use crate::forge::link::next_link;
use crate::forge::pacing::Pacer;
use crate::forge::retry::{Decision, Failure, RetryPolicy, RetryReason, retry_after};
use crate::forge::urls::ApiRoot;
use crate::ids::ProjectId;
use anyhow::Context;
use axum::body::Bytes;
use http::header::ACCEPT;
use http::{HeaderMap, HeaderValue, Method, Uri};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::Instrument;

/// Largest body we read; a raw file beyond it is not a manifest we want in memory.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// GitLab's largest page.
pub(crate) const PER_PAGE: u32 = 100;
/// What the URL setting is called in errors about it.
const LABEL: &str = "GITLAB_URL";

/// How to reach GitLab and as whom.
#[derive(Debug, Clone)]
pub struct GitLabSettings {
    /// The instance: `https://gitlab.com` or a self-managed host; `/api/v4` is appended.
    pub url: String,
    /// A project, group or bot-user token with the `api` scope.
    pub token: SecretString,
    /// Retry bounds.
    pub retry: RetryPolicy,
    /// Deadline for one attempt of one request, answer included.
    pub request_timeout: Duration,
    /// Reads of a merge request while GitLab has not computed its `diff_refs` yet.
    pub diff_refs_attempts: u32,
    /// Wait between those reads (doubled each time, capped by the retry policy).
    pub diff_refs_delay: Duration,
    /// Least time between two content-creating requests (discussions, notes).
    pub write_interval: Duration,
}

impl GitLabSettings {
    /// Settings with the default retry policy, a 30 s request timeout, up to 6 reads of a new
    /// merge request (GitLab fills `diff_refs` in within a few seconds of creation), and 1 s
    /// between creating writes.
    pub fn new(url: impl Into<String>, token: SecretString) -> GitLabSettings {
        GitLabSettings {
            url: url.into(),
            token,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            diff_refs_attempts: 6,
            diff_refs_delay: Duration::from_millis(500),
            write_interval: Duration::from_secs(1),
        }
    }
}

/// The GitLab client; cheap to clone, clones share the connection pool.
#[derive(Clone)]
pub struct GitLabClient {
    pub(crate) inner: Arc<Inner>,
}

/// What every clone shares.
pub(crate) struct Inner {
    root: ApiRoot,
    token: HeaderValue,
    http: reqwest::Client,
    pub(crate) policy: RetryPolicy,
    timeout: Duration,
    pub(crate) diff_refs_attempts: u32,
    pub(crate) diff_refs_delay: Duration,
    /// Who the token acts as, read once: how our notes and commits are told from people's.
    user: tokio::sync::OnceCell<Me>,
    /// Spaces discussions and notes, one at a time.
    pacer: Pacer,
}

impl std::fmt::Debug for GitLabClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLabClient")
            .field("api", &self.inner.root)
            .finish_non_exhaustive()
    }
}

/// The user a token acts as.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Me {
    /// Its username: the author of its notes.
    pub(crate) username: String,
    /// Its display name: the author of its commits.
    #[serde(default)]
    pub(crate) name: String,
}

/// One request, built from the API root; sent as often as the retry policy allows.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    method: Method,
    url: Uri,
    body: Option<serde_json::Value>,
    /// Whether an attempt whose effect is unknown (no answer, a 5xx) may simply be sent again.
    /// Not for a request that creates something: the caller looks first.
    blind_retry: bool,
}

impl Request {
    /// A read.
    pub(crate) fn get(url: Uri) -> Request {
        Request {
            method: Method::GET,
            url,
            body: None,
            blind_retry: true,
        }
    }

    /// A write with a JSON body; retried blindly unless [`Request::no_blind_retry`].
    pub(crate) fn write(
        method: Method,
        url: Uri,
        body: &impl Serialize,
    ) -> Result<Request, GitLabError> {
        let body = serde_json::to_value(body).context("could not serialize a request body")?;
        Ok(Request {
            method,
            url,
            body: Some(body),
            blind_retry: true,
        })
    }

    /// Gives up at the first attempt whose effect is unknown instead of sending it again:
    /// GitLab may have created the thing, and a second one would repeat a comment. Rate
    /// limits, which GitLab did not act on, are still retried.
    pub(crate) fn no_blind_retry(mut self) -> Request {
        self.blind_retry = false;
        self
    }

    /// Method and path, for errors and logs.
    pub(crate) fn what(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

impl GitLabClient {
    /// Validates the settings and builds the client; the token is never logged.
    pub fn new(settings: GitLabSettings) -> anyhow::Result<GitLabClient> {
        let base = settings.url.trim().trim_end_matches('/');
        let root = ApiRoot::parse(&format!("{base}/api/v4"), LABEL)?;
        anyhow::ensure!(
            settings.retry.max_attempts > 0,
            "GitLab retry policy needs at least one attempt"
        );
        let mut token = HeaderValue::from_str(settings.token.expose_secret().trim())
            .ok()
            .filter(|t| !t.is_empty())
            .context("GITLAB_TOKEN is empty or not a valid header value")?;
        // Keeps the value out of any header dump (reqwest's and http's Debug).
        token.set_sensitive(true);
        // No redirects: a token must never follow an answer to another host.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.request_timeout)
            .user_agent(concat!("immutabot/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        let inner = Inner {
            root,
            token,
            http,
            policy: settings.retry,
            timeout: settings.request_timeout,
            diff_refs_attempts: settings.diff_refs_attempts.max(1),
            diff_refs_delay: settings.diff_refs_delay,
            user: tokio::sync::OnceCell::new(),
            pacer: Pacer::new(settings.write_interval),
        };
        Ok(GitLabClient {
            inner: Arc::new(inner),
        })
    }

    /// The absolute URL of `path_and_query` (starting with `/`) under `GITLAB_URL/api/v4`.
    pub(crate) fn url(&self, path_and_query: &str) -> Result<Uri, GitLabError> {
        Ok(self.inner.root.url(path_and_query)?)
    }

    /// `/projects/:id` followed by `rest`.
    pub(crate) fn project_url(&self, project: ProjectId, rest: &str) -> Result<Uri, GitLabError> {
        self.url(&format!("/projects/{}{rest}", project.0))
    }

    /// The username the token acts as (a project token's bot user), read once.
    pub async fn current_user(&self) -> Result<String, GitLabError> {
        Ok(self.me().await?.username.clone())
    }

    /// The user the token acts as, read once.
    pub(crate) async fn me(&self) -> Result<&Me, GitLabError> {
        self.inner
            .user
            .get_or_try_init(|| async { self.get_json::<Me>(self.url("/user")?).await })
            .await
    }

    /// A `GET` whose answer is JSON.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: Uri) -> Result<T, GitLabError> {
        let request = Request::get(url);
        self.send(&request).await?.json(&request.what())
    }

    /// Every item of a paginated listing, up to `max_pages` pages of [`PER_PAGE`]; the flag
    /// is `true` when pages were left unread. `path` has its query but no `page`. Offset
    /// pages follow `x-next-page`; keyset pages (no such header) the `Link` header, and only
    /// under the API root.
    pub(crate) async fn get_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        max_pages: usize,
    ) -> Result<(Vec<T>, bool), GitLabError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = self.url(&format!("{path}{sep}per_page={PER_PAGE}"))?;
        let mut items = Vec::new();
        let mut page = 1u64;
        for _ in 0..max_pages {
            let request = Request::get(url);
            let answer = self.send(&request).await?;
            items.extend(answer.json::<Vec<T>>(&request.what())?);
            match next_page(&answer.headers, page) {
                NextPage::Offset(n) => {
                    page = n;
                    url = self.url(&format!("{path}{sep}per_page={PER_PAGE}&page={n}"))?;
                }
                NextPage::Link(link) => url = self.inner.root.followable(&link)?,
                NextPage::None => return Ok((items, false)),
            }
        }
        Ok((items, true))
    }

    /// Sends a creating request at most until it is known to have worked: when an attempt's
    /// effect is unknown (no answer, a 5xx), `find` looks for what it would have created
    /// before the next attempt, so a lost answer never makes a second comment.
    pub(crate) async fn create_once<T, F, Fut>(
        &self,
        request: Request,
        find: F,
    ) -> Result<T, GitLabError>
    where
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>, GitLabError>>,
    {
        let request = request.no_blind_retry();
        let policy = &self.inner.policy;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.inner.pacer.run(self.send(&request)).await {
                Ok(answer) => return answer.json(&request.what()),
                Err(e) if e.effect_unknown() && attempt < policy.max_attempts => e,
                Err(e) => return Err(e),
            };
            if let Some(found) = find().await? {
                return Ok(found);
            }
            tracing::debug!(attempt, error = %error, "not created; sending again");
            tokio::time::sleep(crate::forge::retry::jittered(policy.backoff(attempt))).await;
        }
    }

    /// Sends `request`, retrying as the policy says, and maps the final answer to `Ok` (2xx)
    /// or a `GitLabError`.
    pub(crate) async fn send(&self, request: &Request) -> Result<Answer, GitLabError> {
        let span = tracing::debug_span!(
            "gitlab_request",
            method = %request.method,
            path = %request.url.path()
        );
        self.with_retries(request).instrument(span).await
    }

    async fn with_retries(&self, request: &Request) -> Result<Answer, GitLabError> {
        let what = request.what();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.attempt(request).await;
            let (label, decision) = match &result {
                Ok(answer) => {
                    let status = answer.status.as_u16();
                    let decision =
                        decide(Some((status, &answer.headers)), attempt, &self.inner.policy);
                    (answer.status.as_str().to_string(), decision)
                }
                Err(Failure::Transient(_)) => {
                    ("error".into(), decide(None, attempt, &self.inner.policy))
                }
                Err(Failure::Permanent(_)) => ("error".into(), Decision::Done),
            };
            metrics::counter!(
                "immutabot_gitlab_requests_total",
                "method" => request.method.to_string(),
                "status" => label
            )
            .increment(1);
            match decision.next_wait() {
                Some((_, RetryReason::ServerError | RetryReason::Timeout))
                    if !request.blind_retry => {}
                Some((wait, reason)) => {
                    tracing::debug!(attempt, ?wait, reason = reason.label(), "retrying");
                    metrics::counter!("immutabot_gitlab_retries_total", "reason" => reason.label())
                        .increment(1);
                    tokio::time::sleep(wait).await;
                    continue;
                }
                None => {}
            }
            return match result {
                Ok(answer) => answer.into_result(&what),
                Err(Failure::Permanent(e)) => Err(GitLabError::Other(e.context(what))),
                Err(Failure::Transient(e)) => {
                    let context = format!("{what}: no answer after {attempt} attempts");
                    Err(GitLabError::Other(e.context(context)))
                }
            };
        }
    }

    /// One exchange: the request out, the whole answer in, within the deadline.
    async fn attempt(&self, request: &Request) -> Result<Answer, Failure> {
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), request.url.to_string())
            .header("PRIVATE-TOKEN", self.inner.token.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let exchange = async {
            let response = builder
                .send()
                .await
                .map_err(|e| Failure::Transient(e.into()))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_capped(response).await?;
            Ok(Answer {
                status,
                headers,
                body,
            })
        };
        let timeout = self.inner.timeout;
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(Failure::Transient(anyhow::anyhow!(
                    "no complete answer within {timeout:?}"
                )))
            })
    }
}

/// The body, refusing one larger than [`MAX_BODY`] before and while reading it.
async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, Failure> {
    let too_long = || {
        Failure::Permanent(anyhow::Error::new(crate::forge::FileRefused(format!(
            "answer larger than {MAX_BODY} bytes"
        ))))
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(too_long());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::Transient(anyhow::anyhow!("reading the answer: {e}")))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// Where a listing continues.
#[derive(Debug, PartialEq, Eq)]
enum NextPage {
    /// Offset pagination: this page number.
    Offset(u64),
    /// Keyset pagination: this link.
    Link(String),
    /// The last page.
    None,
}

/// Reads `x-next-page` (empty on the last page); a page number that does not move forward
/// ends the walk rather than loop. Without the header, the `Link` header decides.
fn next_page(headers: &HeaderMap, current: u64) -> NextPage {
    match headers
        .get("x-next-page")
        .map(|v| v.to_str().map(str::trim))
    {
        Some(Ok("")) => NextPage::None,
        Some(Ok(n)) => match n.parse::<u64>() {
            Ok(n) if n > current => NextPage::Offset(n),
            _ => NextPage::None,
        },
        Some(Err(_)) => NextPage::None,
        None => next_link(headers).map_or(NextPage::None, NextPage::Link),
    }
}

/// What follows the `attempt`-th attempt: the shared rules for no answer and 5xx, and for a
/// 429 the wait GitLab asks for (`retry-after`, else `ratelimit-reset`). Any other answer is
/// final: a 403 on GitLab is a permission, not a rate limit.
fn decide(answer: Option<(u16, &HeaderMap)>, attempt: u32, policy: &RetryPolicy) -> Decision {
    match answer {
        None => policy.back_off(attempt, RetryReason::Timeout),
        Some((500..=599, headers)) => policy.after_server_error(headers, attempt),
        Some((429, headers)) => {
            let wait = rate_limit_wait(headers, attempt, policy, SystemTime::now());
            policy.wait_as_asked(attempt, wait, RetryReason::RateLimited)
        }
        Some(_) => Decision::Done,
    }
}

/// How long a 429 asks us to wait; without any header, the policy's fallback.
fn rate_limit_wait(
    headers: &HeaderMap,
    attempt: u32,
    policy: &RetryPolicy,
    now: SystemTime,
) -> Duration {
    if let Some(wait) = retry_after(headers) {
        return wait;
    }
    let reset = headers
        .get("ratelimit-reset")
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    match reset {
        // A reset already past (clock skew) must not turn into a tight loop.
        Some(reset) => (UNIX_EPOCH + Duration::from_secs(reset))
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
            .max(policy.backoff(attempt)),
        None => policy.secondary_fallback.max(policy.backoff(attempt)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::retry::testing::headers;

    #[test]
    fn pages_continue_by_number_then_by_link() {
        let h = headers(&[("x-next-page", "3")]);
        assert_eq!(next_page(&h, 2), NextPage::Offset(3));
        assert_eq!(next_page(&h, 3), NextPage::None, "no step backwards");
        assert_eq!(
            next_page(&headers(&[("x-next-page", "")]), 1),
            NextPage::None
        );
        let link = headers(&[(
            "link",
            r#"<https://gitlab.com/api/v4/x?id_after=9>; rel="next""#,
        )]);
        assert_eq!(
            next_page(&link, 1),
            NextPage::Link("https://gitlab.com/api/v4/x?id_after=9".into())
        );
        assert_eq!(next_page(&HeaderMap::new(), 1), NextPage::None);
    }

    #[test]
    fn a_429_waits_as_asked_or_until_the_reset() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let wait =
            |pairs: &[(&'static str, &str)]| rate_limit_wait(&headers(pairs), 1, &policy, now);
        assert_eq!(wait(&[("retry-after", "7")]), Duration::from_secs(7));
        assert_eq!(
            wait(&[("ratelimit-reset", "1800000042")]),
            Duration::from_secs(42)
        );
        assert_eq!(
            wait(&[("ratelimit-reset", "1799999999")]),
            Duration::from_millis(100)
        );
        assert_eq!(wait(&[]), Duration::from_secs(60));
    }
}
