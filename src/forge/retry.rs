//! When to try a forge request again, and how long to wait first: the rules every forge
//! shares (timeouts, server errors, `retry-after`, exponential backoff with jitter, bounds).
//! Each forge adds its own reading of a rate-limit answer on top. The decisions are pure
//! functions of the answer, the attempt count and the policy, so every rule is unit-tested.

use http::HeaderMap;
use std::time::Duration;

/// How persistently to retry, and the bounds on waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    /// First backoff delay; it doubles with every further attempt.
    pub base_delay: Duration,
    /// Cap on a computed backoff delay.
    pub max_delay: Duration,
    /// Wait after a rate-limit answer that came without any header saying how long.
    pub secondary_fallback: Duration,
    /// Longest single wait a forge may ask for; beyond it the call fails rather than stall a
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

    /// Our own jittered backoff after the `attempt`-th attempt, or `GiveUp` when none is left.
    pub(crate) fn back_off(&self, attempt: u32, reason: RetryReason) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        Decision::Retry {
            wait: self.backoff(attempt),
            jitter: true,
            reason,
        }
    }

    /// Waits exactly as long as the forge asked, unless that is beyond the attempts or the
    /// wait budget.
    pub(crate) fn wait_as_asked(
        &self,
        attempt: u32,
        wait: Duration,
        reason: RetryReason,
    ) -> Decision {
        if attempt >= self.max_attempts || wait > self.max_wait {
            return Decision::GiveUp;
        }
        Decision::Retry {
            wait,
            jitter: false,
            reason,
        }
    }

    /// After a 5xx: a 503 may say when to come back, but never sooner than our own backoff.
    pub(crate) fn after_server_error(&self, headers: &HeaderMap, attempt: u32) -> Decision {
        match retry_after(headers) {
            Some(wait) => self.wait_as_asked(
                attempt,
                wait.max(self.backoff(attempt)),
                RetryReason::ServerError,
            ),
            None => self.back_off(attempt, RetryReason::ServerError),
        }
    }
}

/// Why a request is tried again; the `reason` label of the retry metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// 5xx.
    ServerError,
    /// A rate-limit answer (403 or 429 with a rate-limit signal).
    RateLimited,
    /// No answer: timeout or connection error.
    Timeout,
    /// 401: the token was refused, mint a new one.
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

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Hand the answer to the caller: a success, or an error that retrying cannot fix.
    Done,
    /// Wait, then try again.
    Retry {
        /// How long to wait.
        wait: Duration,
        /// Our own backoff is jittered (spreads replicas apart); a wait the forge asked for is not.
        jitter: bool,
        /// Why, for the metric and the log.
        reason: RetryReason,
    },
    /// Retrying could help, but the attempts or the wait budget ran out.
    GiveUp,
}

impl Decision {
    /// How long to sleep before the next attempt (jitter applied) and why; `None` unless
    /// retrying.
    pub(crate) fn next_wait(&self) -> Option<(Duration, RetryReason)> {
        match *self {
            Decision::Retry {
                wait,
                jitter,
                reason,
            } => Some((if jitter { jittered(wait) } else { wait }, reason)),
            _ => None,
        }
    }
}

/// Why an attempt got no usable answer.
pub(crate) enum Failure {
    /// Connection error or timeout: worth another attempt.
    Transient(anyhow::Error),
    /// Retrying would fail the same way (an oversized body, a token that is no header value).
    Permanent(anyhow::Error),
}

/// `retry-after` in seconds (neither GitHub nor GitLab sends the HTTP-date form).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Spreads a backoff delay over its upper half, so replicas that failed together do not
/// retry together.
pub(crate) fn jittered(wait: Duration) -> Duration {
    wait.mul_f64(0.5 + fastrand::f64() / 2.0)
}

/// What the forges' retry tests share: a small policy and headers from pairs.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use http::HeaderValue;

    /// Four attempts, 100 ms doubling to a 350 ms cap, a 60 s fallback, at most 600 s asked.
    pub(crate) fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            secondary_fallback: Duration::from_secs(60),
            max_wait: Duration::from_secs(600),
        }
    }

    /// A header map of `(name, value)` pairs.
    pub(crate) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{headers, policy};
    use super::*;

    fn retry_after_of(secs: &str) -> HeaderMap {
        headers(&[("retry-after", secs)])
    }

    #[test]
    fn server_errors_back_off_exponentially_up_to_the_cap() {
        let p = policy();
        let none = HeaderMap::new();
        let waits: Vec<Decision> = (1..=4).map(|a| p.after_server_error(&none, a)).collect();
        let retry = |ms| Decision::Retry {
            wait: Duration::from_millis(ms),
            jitter: true,
            reason: RetryReason::ServerError,
        };
        assert_eq!(
            waits,
            [retry(100), retry(200), retry(350), Decision::GiveUp]
        );
    }

    #[test]
    fn a_server_error_with_retry_after_waits_at_least_that_long() {
        let p = policy();
        let asked = |ms| Decision::Retry {
            wait: Duration::from_millis(ms),
            jitter: false,
            reason: RetryReason::ServerError,
        };
        assert_eq!(p.after_server_error(&retry_after_of("3"), 1), asked(3000));
        assert_eq!(p.after_server_error(&retry_after_of("0"), 2), asked(200));
        assert_eq!(
            p.after_server_error(&retry_after_of("601"), 1),
            Decision::GiveUp
        );
        assert_eq!(
            p.after_server_error(&retry_after_of("1"), 4),
            Decision::GiveUp
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        assert_eq!(
            retry_after(&retry_after_of(" 30 ")),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(&retry_after_of("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        for _ in 0..1000 {
            let wait = jittered(Duration::from_millis(1000));
            assert!(wait >= Duration::from_millis(500) && wait <= Duration::from_millis(1000));
        }
    }
}
