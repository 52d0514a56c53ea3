//! `POST /webhooks/gitlab`: verify the token, parse, record, answer.
//!
//! GitLab disables a hook that keeps failing, and for good after 4xx answers: so only a
//! wrong token (401) and an unreadable payload (400) are refused; an event we do not act on
//! is answered 200, before anything is stored.

use super::AppState;
use super::webhook::{answer, header, invalid};
use crate::forge::gitlab::webhook::{self, GitLabEvent};
use crate::webhook::gitlab::{self as intake, GitLabDelivery};
use crate::webhook::intake::Intake;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;
use tracing::{info, warn};

/// What the GitLab endpoint and the report need of GitLab's settings.
#[derive(Clone)]
pub struct GitLabHook {
    /// `X-Gitlab-Token` values accepted (several while rotating).
    pub secrets: Arc<Vec<Vec<u8>>>,
    /// The instance's web root, for links to files.
    pub web_url: Arc<str>,
}

/// An event name fit for a metric label: GitLab's are short words (`Merge Request Hook`).
fn event_name(headers: &HeaderMap) -> &str {
    header(headers, "x-gitlab-event")
        .filter(|e| e.len() <= 64 && e.bytes().all(|b| b.is_ascii_alphabetic() || b == b' '))
        .unwrap_or("unknown")
}

/// The delivery's own id: `Idempotency-Key` stays the same when GitLab sends an event
/// again; older instances send only `X-Gitlab-Event-UUID`.
fn uuid(headers: &HeaderMap) -> Option<&str> {
    header(headers, "idempotency-key")
        .or_else(|| header(headers, "x-gitlab-event-uuid"))
        .filter(|g| g.len() <= 100 && g.bytes().all(|b| b.is_ascii_graphic()))
}

/// Handles one delivery.
pub async fn gitlab(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return super::webhook::unread_body("gitlab", e),
    };
    let Some(hook) = &s.gitlab else {
        return answer(
            StatusCode::NOT_FOUND,
            "unknown",
            "not_configured",
            "GitLab is not configured on this service\n".into(),
        );
    };
    let token = headers.get("x-gitlab-token").map(|v| v.as_bytes());
    if !webhook::token_matches(token, &hook.secrets) {
        warn!("GitLab webhook with a missing or wrong token refused");
        return answer(
            StatusCode::UNAUTHORIZED,
            "unknown",
            "unauthorized",
            "X-Gitlab-Token missing or wrong\n".into(),
        );
    }
    let event = event_name(&headers);
    let parsed = webhook::parse(&body).map_err(|e| e.to_string());
    let job = parsed
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|ev| intake::job_of(ev).map(|job| (ev, job)));
    let (parsed, job) = match job {
        Ok((parsed, Some(job))) => (parsed, job),
        Ok((GitLabEvent::Ignored(why), None)) => {
            info!(event, reason = %why, "GitLab delivery ignored");
            return answer(
                StatusCode::OK,
                event,
                "ignored",
                format!("ignored: {why}\n"),
            );
        }
        Ok((_, None)) => return answer(StatusCode::OK, event, "ignored", "ignored\n".into()),
        Err(why) => {
            // Sent with GitLab's token but unreadable: keep a record so it is not lost.
            warn!(event, error = %why, "GitLab delivery could not be read");
            let stored = intake::record_invalid(&s.pool, uuid(&headers), event, &body, &why).await;
            return invalid(stored.is_ok(), event, &why.to_string());
        }
    };
    let uuid = uuid(&headers);
    let Some(guid) = webhook::dedupe_key(uuid, parsed) else {
        return answer(StatusCode::OK, event, "ignored", "ignored\n".into());
    };
    let delivery = GitLabDelivery {
        guid: &guid,
        event,
        action: intake::action_of(parsed),
    };
    // During an outage, answer at once rather than queue for a connection.
    let outage = s.intake.outage();
    let recorded = if outage.available().await {
        intake::record(outage, &delivery, &job).await
    } else {
        Err(crate::webhook::outage::unavailable())
    };
    match recorded {
        Ok(outcome) => {
            info!(delivery = %guid, event, outcome = outcome.label(), "GitLab delivery recorded");
            if let Intake::Queued(_) = outcome {
                s.wake.notify_waiters();
            }
            let status = match outcome {
                Intake::Queued(_) => StatusCode::ACCEPTED,
                _ => StatusCode::OK,
            };
            answer(
                status,
                event,
                outcome.label(),
                format!("{}\n", outcome.label()),
            )
        }
        Err(e) => {
            // A 5xx only pauses the hook for a while; GitLab lists the delivery as failed under
            // the hook's recent events, where it can be sent again. Nothing is stored.
            outage.note(&e);
            warn!(error = %e, "could not store the GitLab delivery; answering 503");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                event,
                "database_unavailable",
                "database unavailable; send the delivery again from the webhook's recent events\n"
                    .into(),
            )
        }
    }
}
