//! One HTTP answer from GitHub, and how its status becomes a `GitHubError`.

use super::GitHubError;
use axum::body::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A complete answer: status, headers and the whole body.
#[derive(Debug)]
pub(crate) struct Answer {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// Response headers (rate limits, `Link`).
    pub(crate) headers: HeaderMap,
    /// The body, read in full (bounded by the client).
    pub(crate) body: Bytes,
}

/// GitHub's error body: `{"message": "...", "errors": [...]}`.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
}

impl Answer {
    /// GitHub's message, with its `errors` details joined in (`"Validation Failed: ..."`);
    /// the start of the body when it is not GitHub's JSON.
    pub(crate) fn message(&self) -> String {
        match serde_json::from_slice::<ErrorBody>(&self.body) {
            Ok(body) => {
                let details: Vec<String> = body.errors.iter().map(error_detail).collect();
                match (body.message.is_empty(), details.is_empty()) {
                    (_, true) => body.message,
                    (true, false) => details.join("; "),
                    (false, false) => format!("{}: {}", body.message, details.join("; ")),
                }
            }
            Err(_) => String::from_utf8_lossy(&self.body)
                .chars()
                .take(200)
                .collect(),
        }
    }

    /// The answer itself when 2xx; otherwise the error a caller can branch on.
    pub(crate) fn into_result(self, what: &str) -> Result<Answer, GitHubError> {
        let what = what.to_string();
        match self.status.as_u16() {
            200..=299 => Ok(self),
            404 | 410 => Err(GitHubError::NotFound { what }),
            422 => Err(GitHubError::Unprocessable {
                message: self.message(),
            }),
            status => Err(GitHubError::Status {
                status,
                what,
                message: self.message(),
            }),
        }
    }

    /// The body parsed as `T`; a body we cannot read is an `Other` error naming the request.
    pub(crate) fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, GitHubError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| GitHubError::Other(anyhow::anyhow!("unexpected answer to {what}: {e}")))
    }
}

/// One entry of `errors`: a string, or an object with a `message` or a `code` on a `field`.
fn error_detail(error: &serde_json::Value) -> String {
    if let Some(text) = error.as_str() {
        return text.to_string();
    }
    let field = |name: &str| error.get(name).and_then(|v| v.as_str());
    match (field("message"), field("code"), field("field")) {
        (Some(message), _, _) => message.to_string(),
        (None, Some(code), Some(f)) => format!("{f} {code}"),
        (None, Some(code), None) => code.to_string(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn unprocessable_carries_message_and_errors() {
        let a = answer(
            422,
            r#"{"message":"Unprocessable Entity","errors":["Line could not be resolved"],"documentation_url":"x"}"#,
        );
        match a.into_result("POST /x").unwrap_err() {
            GitHubError::Unprocessable { message } => {
                assert_eq!(message, "Unprocessable Entity: Line could not be resolved")
            }
            other => panic!("{other:?}"),
        }
        let a = answer(
            422,
            r#"{"message":"Validation Failed","errors":[{"resource":"PullRequestReviewThread","code":"custom","field":"line","message":"pull_request_review_thread.line must be part of the diff"},{"code":"missing_field","field":"diff_hunk"}]}"#,
        );
        assert_eq!(
            a.message(),
            "Validation Failed: pull_request_review_thread.line must be part of the diff; diff_hunk missing_field"
        );
    }

    #[test]
    fn statuses_map_to_errors() {
        assert!(answer(201, "{}").into_result("x").is_ok());
        assert!(matches!(
            answer(404, r#"{"message":"Not Found"}"#).into_result("GET /a"),
            Err(GitHubError::NotFound { what }) if what == "GET /a"
        ));
        assert!(matches!(
            answer(403, r#"{"message":"Resource not accessible by integration"}"#).into_result("x"),
            Err(GitHubError::Status { status: 403, message, .. }) if message == "Resource not accessible by integration"
        ));
        assert!(matches!(
            answer(502, "<html>bad gateway</html>").into_result("x"),
            Err(GitHubError::Status { status: 502, message, .. }) if message == "<html>bad gateway</html>"
        ));
    }
}
