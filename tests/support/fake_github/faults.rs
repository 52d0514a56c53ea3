//! Scripted failures: a test says "the next N matching requests get this answer", and the
//! fake gives it before doing anything else (auth included), the way a flaky GitHub would.
//! The fake GitLab uses the same rules (it includes this file).

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    /// Sent as given; they replace the fake's own rate-limit headers of the same name.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering (to trip a client's timeout).
    pub delay: Option<Duration>,
    /// Carry the request out first, then answer with this fault instead of the real answer.
    pub after_work: bool,
    /// Only `delay`, then the real answer: a slow forge, not a failing one.
    pub pass: bool,
}

impl Fault {
    /// `status` with `{"message": message}`.
    pub fn message(status: u16, message: &str) -> Fault {
        Fault {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::json!({ "message": message }).to_string(),
            delay: None,
            after_work: false,
            pass: false,
        }
    }

    /// The real answer, `delay` late.
    pub fn slow(delay: Duration) -> Fault {
        Fault {
            delay: Some(delay),
            pass: true,
            ..Fault::message(200, "")
        }
    }

    /// A bare 5xx, as GitHub's front end sends them.
    pub fn server_error(status: u16) -> Fault {
        let text = match status {
            502 => "Server Error",
            503 => "Service Unavailable",
            _ => "Server Error",
        };
        Fault::message(status, text)
    }

    /// 403 secondary rate limit, with `retry-after` when given (GitHub sometimes omits it).
    pub fn secondary_rate_limit(retry_after: Option<u64>) -> Fault {
        let mut f = Fault::message(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
        );
        if let Some(secs) = retry_after {
            f = f.header("retry-after", &secs.to_string());
        }
        f
    }

    /// The primary limit used up: `status` (403 or 429) with remaining 0 and the reset time.
    pub fn rate_limited(status: u16, reset_epoch: i64) -> Fault {
        Fault::message(status, "API rate limit exceeded for installation ID 1.")
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-used", "5000")
            .header("x-ratelimit-reset", &reset_epoch.to_string())
            .header("x-ratelimit-resource", "core")
    }

    /// 422 with GitHub's validation-error shape.
    pub fn unprocessable(error: &str) -> Fault {
        Fault {
            body: serde_json::json!({
                "message": "Unprocessable Entity",
                "errors": [error],
                "documentation_url": "https://docs.github.com/rest",
                "status": "422",
            })
            .to_string(),
            ..Fault::message(422, "")
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Fault {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// The request takes effect, but its answer is this fault: a lost answer.
    pub fn after_work(mut self) -> Fault {
        self.after_work = true;
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Fault {
        self.delay = Some(delay);
        self
    }
}

impl Fault {
    /// The answer this fault gives.
    pub fn response(&self) -> Response {
        let mut r = Response::new(Body::from(self.body.clone()));
        *r.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (k, v) in &self.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
                r.headers_mut().insert(k, v);
            }
        }
        r
    }
}

/// Faults at random: each request that no scripted rule takes gets, with probability
/// `ratio`, one of `faults` (picked at random); seeded, so a run can be repeated.
#[derive(Debug)]
pub struct RandomFaults {
    pub ratio: f64,
    pub faults: Vec<Fault>,
    rng: fastrand::Rng,
    /// Faults given so far.
    pub given: usize,
}

impl RandomFaults {
    pub fn new(ratio: f64, seed: u64, faults: Vec<Fault>) -> RandomFaults {
        RandomFaults {
            ratio,
            faults,
            rng: fastrand::Rng::with_seed(seed),
            given: 0,
        }
    }

    /// The fault for the next request, if it gets one.
    pub fn pick(&mut self) -> Option<Fault> {
        if self.faults.is_empty() || self.rng.f64() >= self.ratio {
            return None;
        }
        self.given += 1;
        Some(self.faults[self.rng.usize(..self.faults.len())].clone())
    }
}

/// A fault waiting for its requests.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// Upper-case method, or `*` for any.
    pub method: String,
    pub pattern: String,
    pub fault: Fault,
    pub remaining: usize,
}

impl FaultRule {
    /// `fault` for the next `times` requests with `method` (or `*`) matching `pattern`.
    pub fn new(method: &str, pattern: &str, fault: Fault, times: usize) -> FaultRule {
        FaultRule {
            method: method.to_ascii_uppercase(),
            pattern: pattern.into(),
            fault,
            remaining: times,
        }
    }

    /// Whether this rule takes a request (`path` without prefix and query), counting it.
    pub fn take(&mut self, method: &str, path: &str) -> bool {
        let hit = self.remaining > 0
            && (self.method == "*" || self.method == method)
            && matches(&self.pattern, path);
        self.remaining -= usize::from(hit);
        hit
    }
}

/// Does `path` (prefix stripped, no query) match `pattern`?
///
/// The crate has no `regex` dependency and tests may not add one, so patterns are a small
/// glob: the pattern must match a prefix of the path, `*` matches one path segment's worth of
/// characters (no `/`), and a trailing `$` demands the whole path. E.g.
/// `/repos/o/r/pulls/*/files`, `/graphql$`, `/app/installations/`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    glob(pattern.as_bytes(), path.as_bytes(), anchored)
}

fn glob(p: &[u8], s: &[u8], anchored: bool) -> bool {
    match p.split_first() {
        None => !anchored || s.is_empty(),
        Some((b'*', rest)) => {
            let run = s.iter().take_while(|&&c| c != b'/').count();
            (0..=run).any(|n| glob(rest, &s[n..], anchored))
        }
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..], anchored),
    }
}
