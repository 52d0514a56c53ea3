//! One HTTP answer from GitLab, and how its status becomes a `GitLabError`.

use super::GitLabError;
use axum::body::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A complete answer: status, headers and the whole body.
#[derive(Debug)]
pub(crate) struct Answer {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// Response headers (`x-next-page`, `Link`, `retry-after`).
    pub(crate) headers: HeaderMap,
    /// The body, read in full (bounded by the client).
    pub(crate) body: Bytes,
}

impl Answer {
    /// GitLab's message: `{"message": "..."}`, a validation map `{"message": {"field":
    /// ["..."]}}` flattened to `field ...; ...`, `{"error": "..."}`, or the start of the body.
    pub(crate) fn message(&self) -> String {
        let Ok(json) = serde_json::from_slice::<Value>(&self.body) else {
            return String::from_utf8_lossy(&self.body)
                .chars()
                .take(200)
                .collect();
        };
        let text = |key: &str| json.get(key).map(flatten);
        match (text("message"), text("error"), text("error_description")) {
            (Some(m), _, _) => m,
            (None, Some(e), Some(d)) => format!("{e}: {d}"),
            (None, Some(e), None) => e,
            _ => json.to_string().chars().take(200).collect(),
        }
    }

    /// The answer itself when 2xx; otherwise the error a caller can branch on.
    pub(crate) fn into_result(self, what: &str) -> Result<Answer, GitLabError> {
        let what = what.to_string();
        match self.status.as_u16() {
            200..=299 => Ok(self),
            404 => Err(GitLabError::NotFound { what }),
            status @ (400 | 422) => Err(GitLabError::Refused {
                status,
                message: self.message(),
            }),
            status @ (401 | 403) => Err(GitLabError::Unauthorized {
                status,
                what,
                message: self.message(),
            }),
            status => Err(GitLabError::Status {
                status,
                what,
                message: self.message(),
            }),
        }
    }

    /// The body parsed as `T`; a body we cannot read is an `Other` error naming the request.
    pub(crate) fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, GitLabError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| GitLabError::other(format!("unexpected answer to {what}: {e}")))
    }
}

/// A message value as one line: strings as they are, lists joined, maps as `key value`.
fn flatten(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k} {}", flatten(v)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl From<(u16, &str)> for Answer {
        fn from((status, body): (u16, &str)) -> Answer {
            Answer {
                status: StatusCode::from_u16(status).unwrap(),
                headers: HeaderMap::new(),
                body: Bytes::from(body.to_string()),
            }
        }
    }

    #[test]
    fn messages_in_every_shape_gitlab_sends() {
        let cases = [
            (
                r#"{"message":"400 Bad request - Note {:line_code=>[\"can't be blank\", \"must be a valid line code\"]}"}"#,
                r#"400 Bad request - Note {:line_code=>["can't be blank", "must be a valid line code"]}"#,
            ),
            (
                r#"{"message":{"title":["can't be blank"],"base":["x","y"]}}"#,
                "base x, y; title can't be blank",
            ),
            (r#"{"error":"body is missing"}"#, "body is missing"),
            (
                r#"{"error":"invalid_token","error_description":"Token is expired."}"#,
                "invalid_token: Token is expired.",
            ),
            ("<html>bad gateway</html>", "<html>bad gateway</html>"),
        ];
        for (body, message) in cases {
            assert_eq!(Answer::from((400, body)).message(), message, "{body}");
        }
    }

    #[test]
    fn statuses_map_to_errors() {
        let error = |status, body| Answer::from((status, body)).into_result("GET /a").err();
        assert!(error(201, "{}").is_none());
        assert!(matches!(
            error(404, r#"{"message":"404 Project Not Found"}"#),
            Some(GitLabError::NotFound { what }) if what == "GET /a"
        ));
        assert!(matches!(
            error(422, r#"{"message":"x"}"#),
            Some(GitLabError::Refused { status: 422, .. })
        ));
        assert!(matches!(
            error(401, r#"{"message":"401 Unauthorized"}"#),
            Some(GitLabError::Unauthorized { status: 401, message, .. }) if message == "401 Unauthorized"
        ));
        assert!(matches!(
            error(503, ""),
            Some(GitLabError::Status { status: 503, .. })
        ));
    }
}
