//! Retry delays: exponential with full jitter, so retries of many jobs after one outage do
//! not arrive at GitHub in lockstep.

use std::time::Duration;

/// First retry's upper bound.
const BASE: Duration = Duration::from_secs(10);
/// No retry waits longer than this.
const CAP: Duration = Duration::from_secs(30 * 60);

/// The delay before retry number `attempt` (1 = after the first failure): a random duration
/// between half and all of `min(CAP, BASE * 2^(attempt-1))`.
pub fn delay(attempt: u32) -> Duration {
    let ceiling = ceiling(attempt);
    let half = ceiling / 2;
    half + ceiling.mul_f64(fastrand::f64() * 0.5)
}

fn ceiling(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    BASE.saturating_mul(1u32 << exp).min(CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_stop_at_the_cap() {
        for attempt in 1..40 {
            let d = delay(attempt);
            let c = ceiling(attempt);
            assert!(d >= c / 2 && d <= c, "attempt {attempt}: {d:?} vs {c:?}");
        }
        assert_eq!(ceiling(1), Duration::from_secs(10));
        assert_eq!(ceiling(2), Duration::from_secs(20));
        assert_eq!(ceiling(30), CAP);
    }
}
