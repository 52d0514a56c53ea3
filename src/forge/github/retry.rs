//! When to try a GitHub request again: the shared rules of `crate::forge::retry`, plus how
//! GitHub signals a rate limit (403 or 429, headers or only a text). The decision is a pure
//! function of the answer, the attempt count and the clock, so every rule is unit-tested.

pub use crate::forge::retry::RetryPolicy;
use crate::forge::retry::retry_after;
pub(crate) use crate::forge::retry::{Decision, RetryReason, jittered};
use http::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// Decides what follows the `attempt`-th (1-based) attempt. `may_refresh_token` is true while
/// an installation token has not yet been replaced after a 401 (a 401 is retried once).
pub(crate) fn decide(
    outcome: &Outcome<'_>,
    attempt: u32,
    may_refresh_token: bool,
    policy: &RetryPolicy,
    now: SystemTime,
) -> Decision {
    let (status, headers, message) = match outcome {
        Outcome::NoAnswer => return policy.back_off(attempt, RetryReason::Timeout),
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
        500..=599 => policy.after_server_error(headers, attempt),
        403 | 429 => match rate_limit_wait(status, headers, message, attempt, policy, now) {
            None => Decision::Done,
            Some(wait) => policy.wait_as_asked(attempt, wait, RetryReason::RateLimited),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::retry::testing::{headers, policy};

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

    impl Decision {
        fn is_retry(&self) -> bool {
            matches!(self, Decision::Retry { .. })
        }
    }
}
