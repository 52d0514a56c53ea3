//! When to try a GitHub request again, and how long to wait first. The decision is a pure
//! function of the answer, the attempt count and the clock, so every rule is unit-tested.

use http::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How persistently to retry, and the bounds on waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// First backoff delay; it doubles with every further attempt.
    pub base_delay: Duration,
    /// Cap on a computed backoff delay.
    pub max_delay: Duration,
    /// Wait after a secondary rate limit that came without any header saying how long.
    pub secondary_fallback: Duration,
    /// Longest single wait GitHub may ask for; beyond it the call fails rather than stall a
    /// worker for an hour.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            // GitHub: "wait for at least one minute" when no header says how long.
            secondary_fallback: Duration::from_secs(60),
            max_wait: Duration::from_secs(15 * 60),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff after the `attempt`-th (1-based) failed attempt, before jitter.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.base_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// Why a request is tried again; the `reason` label of `immutabot_github_retries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// 5xx.
    ServerError,
    /// 403/429 with a rate-limit signal.
    RateLimited,
    /// No answer: timeout or connection error.
    Timeout,
    /// 401: the installation token was refused, mint a new one.
    Unauthorized,
}

impl RetryReason {
    /// The metric label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            RetryReason::ServerError => "server_error",
            RetryReason::RateLimited => "rate_limited",
            RetryReason::Timeout => "timeout",
            RetryReason::Unauthorized => "unauthorized",
        }
    }
}

/// What one attempt produced, as far as retrying cares.
#[derive(Debug)]
pub(crate) enum Outcome<'a> {
    /// No answer at all: connection error or timeout.
    NoAnswer,
    /// An HTTP answer, with GitHub's `message` (empty when there was none).
    Answered {
        /// HTTP status.
        status: u16,
        /// Response headers.
        headers: &'a HeaderMap,
        /// GitHub's error message, needed to spot a secondary rate limit without headers.
        message: &'a str,
    },
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Hand the answer to the caller: a success, or an error that retrying cannot fix.
    Done,
    /// Wait, then try again.
    Retry {
        /// How long to wait.
        wait: Duration,
        /// Our own backoff is jittered (spreads replicas apart); a wait GitHub asked for is not.
        jitter: bool,
        /// Why, for the metric and the log.
        reason: RetryReason,
    },
    /// Retrying could help, but the attempts or the wait budget ran out.
    GiveUp,
}

/// Decides what follows the `attempt`-th (1-based) attempt. `may_refresh_token` is true while
/// an installation token has not yet been replaced after a 401 (a 401 is retried once).
pub(crate) fn decide(
    outcome: &Outcome<'_>,
    attempt: u32,
    may_refresh_token: bool,
    policy: &RetryPolicy,
    now: SystemTime,
) -> Decision {
    let out_of_attempts = attempt >= policy.max_attempts;
    let backoff = |reason| {
        if out_of_attempts {
            Decision::GiveUp
        } else {
            Decision::Retry {
                wait: policy.backoff(attempt),
                jitter: true,
                reason,
            }
        }
    };
    let (status, headers, message) = match outcome {
        Outcome::NoAnswer => return backoff(RetryReason::Timeout),
        Outcome::Answered {
            status,
            headers,
            message,
        } => (*status, *headers, *message),
    };
    match status {
        // A fresh token either works or the installation is gone; one retry says which.
        401 if may_refresh_token => Decision::Retry {
            wait: Duration::ZERO,
            jitter: false,
            reason: RetryReason::Unauthorized,
        },
        // A 503 may say when to come back; never sooner than our own backoff.
        500..=599 => match retry_after(headers) {
            Some(_) if out_of_attempts => Decision::GiveUp,
            Some(wait) if wait > policy.max_wait => Decision::GiveUp,
            Some(wait) => Decision::Retry {
                wait: wait.max(policy.backoff(attempt)),
                jitter: false,
                reason: RetryReason::ServerError,
            },
            None => backoff(RetryReason::ServerError),
        },
        403 | 429 => match rate_limit_wait(status, headers, message, attempt, policy, now) {
            None => Decision::Done,
            Some(_) if out_of_attempts => Decision::GiveUp,
            Some(wait) if wait > policy.max_wait => Decision::GiveUp,
            Some(wait) => Decision::Retry {
                wait,
                jitter: false,
                reason: RetryReason::RateLimited,
            },
        },
        _ => Decision::Done,
    }
}

/// How long a 403/429 asks us to wait, or `None` when it is not a rate limit (a plain 403 is
/// a permission problem: retrying it only earns a ban).
fn rate_limit_wait(
    status: u16,
    headers: &HeaderMap,
    message: &str,
    attempt: u32,
    policy: &RetryPolicy,
    now: SystemTime,
) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(wait) = retry_after(headers) {
        return Some(wait);
    }
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok());
    if let (true, Some(reset)) = (exhausted, reset) {
        let until_reset = (UNIX_EPOCH + Duration::from_secs(reset))
            .duration_since(now)
            .unwrap_or(Duration::ZERO);
        // A reset already past (clock skew) must not turn into a tight loop.
        return Some(until_reset.max(policy.backoff(attempt)));
    }
    // GitHub's secondary-limit answer may come without any header; octokit spots it by text.
    let secondary = message
        .to_ascii_lowercase()
        .contains("secondary rate limit");
    if secondary || exhausted || status == 429 {
        return Some(policy.secondary_fallback.max(policy.backoff(attempt)));
    }
    None
}

/// `retry-after` in seconds (GitHub never sends the HTTP-date form).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Spreads a backoff delay over its upper half, so replicas that failed together do not
/// retry together.
pub(crate) fn jittered(wait: Duration) -> Duration {
    wait.mul_f64(0.5 + fastrand::f64() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            secondary_fallback: Duration::from_secs(60),
            max_wait: Duration::from_secs(600),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const NOW: u64 = 1_800_000_000;

    fn at(status: u16, pairs: &[(&'static str, &str)], message: &str, attempt: u32) -> Decision {
        let headers = headers(pairs);
        let outcome = Outcome::Answered {
            status,
            headers: &headers,
            message,
        };
        decide(
            &outcome,
            attempt,
            true,
            &policy(),
            UNIX_EPOCH + Duration::from_secs(NOW),
        )
    }

    fn retry(wait: Duration, jitter: bool, reason: RetryReason) -> Decision {
        Decision::Retry {
            wait,
            jitter,
            reason,
        }
    }

    #[test]
    fn successes_and_plain_client_errors_are_done() {
        for status in [200, 201, 202, 204, 304, 400, 404, 409, 410, 422] {
            assert_eq!(at(status, &[], "", 1), Decision::Done, "{status}");
        }
    }

    #[test]
    fn server_errors_back_off_exponentially_up_to_the_cap() {
        let ms = Duration::from_millis;
        assert_eq!(
            at(500, &[], "", 1),
            retry(ms(100), true, RetryReason::ServerError)
        );
        assert_eq!(
            at(502, &[], "", 2),
            retry(ms(200), true, RetryReason::ServerError)
        );
        assert_eq!(
            at(503, &[], "", 3),
            retry(ms(350), true, RetryReason::ServerError)
        );
        assert_eq!(at(503, &[], "", 4), Decision::GiveUp);
    }

    #[test]
    fn a_server_error_with_retry_after_waits_at_least_that_long() {
        assert_eq!(
            at(503, &[("retry-after", "3")], "", 1),
            retry(Duration::from_secs(3), false, RetryReason::ServerError)
        );
        assert_eq!(
            at(503, &[("retry-after", "0")], "", 2),
            retry(Duration::from_millis(200), false, RetryReason::ServerError)
        );
        assert_eq!(at(503, &[("retry-after", "601")], "", 1), Decision::GiveUp);
        assert_eq!(at(503, &[("retry-after", "1")], "", 4), Decision::GiveUp);
    }

    #[test]
    fn no_answer_is_retried_as_a_timeout() {
        let p = policy();
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        assert_eq!(
            decide(&Outcome::NoAnswer, 1, true, &p, now),
            retry(Duration::from_millis(100), true, RetryReason::Timeout)
        );
        assert_eq!(
            decide(&Outcome::NoAnswer, 4, true, &p, now),
            Decision::GiveUp
        );
    }

    #[test]
    fn a_401_refreshes_the_token_once() {
        let map = HeaderMap::new();
        let outcome = Outcome::Answered {
            status: 401,
            headers: &map,
            message: "Bad credentials",
        };
        let now = SystemTime::now();
        assert_eq!(
            decide(&outcome, 1, true, &policy(), now),
            retry(Duration::ZERO, false, RetryReason::Unauthorized)
        );
        assert_eq!(decide(&outcome, 2, false, &policy(), now), Decision::Done);
    }

    #[test]
    fn retry_after_is_honoured_exactly() {
        assert_eq!(
            at(403, &[("retry-after", "1")], "", 1),
            retry(Duration::from_secs(1), false, RetryReason::RateLimited)
        );
        assert_eq!(
            at(429, &[("retry-after", " 30 ")], "", 2),
            retry(Duration::from_secs(30), false, RetryReason::RateLimited)
        );
        // Retry-after wins over the reset time.
        let reset = (NOW + 500).to_string();
        assert_eq!(
            at(
                403,
                &[
                    ("retry-after", "2"),
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", &reset)
                ],
                "",
                1
            ),
            retry(Duration::from_secs(2), false, RetryReason::RateLimited)
        );
    }

    #[test]
    fn an_exhausted_primary_limit_waits_for_the_reset() {
        let reset = (NOW + 42).to_string();
        assert_eq!(
            at(
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", &reset)
                ],
                "API rate limit exceeded",
                1
            ),
            retry(Duration::from_secs(42), false, RetryReason::RateLimited)
        );
    }

    #[test]
    fn a_reset_in_the_past_still_backs_off() {
        let reset = (NOW - 10).to_string();
        assert_eq!(
            at(
                429,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", &reset)
                ],
                "",
                2
            ),
            retry(Duration::from_millis(200), false, RetryReason::RateLimited)
        );
    }

    #[test]
    fn a_remaining_budget_with_a_reset_is_not_a_rate_limit() {
        let reset = (NOW + 42).to_string();
        assert_eq!(
            at(
                403,
                &[
                    ("x-ratelimit-remaining", "17"),
                    ("x-ratelimit-reset", &reset)
                ],
                "Resource not accessible by integration",
                1
            ),
            Decision::Done
        );
    }

    #[test]
    fn a_secondary_limit_without_headers_waits_the_fallback() {
        let message = "You have exceeded a Secondary Rate Limit. Please wait a few minutes.";
        assert_eq!(
            at(403, &[], message, 1),
            retry(Duration::from_secs(60), false, RetryReason::RateLimited)
        );
        // A bare 429 is a rate limit whatever its text.
        assert_eq!(
            at(429, &[], "", 1),
            retry(Duration::from_secs(60), false, RetryReason::RateLimited)
        );
    }

    #[test]
    fn waits_beyond_max_wait_give_up() {
        assert_eq!(at(403, &[("retry-after", "601")], "", 1), Decision::GiveUp);
        let reset = (NOW + 3600).to_string();
        assert_eq!(
            at(
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", &reset)
                ],
                "",
                1
            ),
            Decision::GiveUp
        );
        assert!(at(403, &[("retry-after", "600")], "", 1).is_retry());
    }

    #[test]
    fn rate_limits_count_against_the_attempts() {
        assert_eq!(at(429, &[("retry-after", "1")], "", 4), Decision::GiveUp);
    }

    #[test]
    fn an_unparsable_retry_after_falls_back_to_the_other_rules() {
        assert_eq!(
            at(429, &[("retry-after", "soon")], "", 1),
            retry(Duration::from_secs(60), false, RetryReason::RateLimited)
        );
        assert_eq!(at(403, &[("retry-after", "soon")], "", 1), Decision::Done);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        for _ in 0..1000 {
            let wait = jittered(Duration::from_millis(1000));
            assert!(wait >= Duration::from_millis(500) && wait <= Duration::from_millis(1000));
        }
    }

    impl Decision {
        fn is_retry(&self) -> bool {
            matches!(self, Decision::Retry { .. })
        }
    }
}
