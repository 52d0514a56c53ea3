//! `POST /webhooks/github`: verify, parse, record, answer.

use super::AppState;
use crate::forge::github::webhook::event::{self, Event};
use crate::forge::github::webhook::signature;
use crate::webhook::intake::{self, Delivery, Intake};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;
use tracing::{info, warn};

/// A header's value, when it is text.
pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The answer to a delivery, counted by event and outcome.
pub(super) fn answer(
    status: StatusCode,
    event: &str,
    outcome: &'static str,
    text: String,
) -> Response {
    metrics::counter!("immutabot_webhook_deliveries_total",
        "event" => event.to_string(), "outcome" => outcome)
    .increment(1);
    (status, text).into_response()
}

/// The answer to a signed delivery that could not be read: 400 once its record is kept (the
/// sender must not retry it as it is), 503 when even that failed, so the forge retries and
/// nothing is lost.
pub(super) fn invalid(stored: bool, event: &str, why: &str) -> Response {
    let status = if stored {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    answer(status, event, "invalid", format!("{why}\n"))
}

/// A body the server would not read (over [`super::MAX_BODY`], or cut off): nothing of it can
/// be verified or stored, so it is answered with its own status, counted and logged.
pub(super) fn unread_body(forge: &'static str, e: BytesRejection) -> Response {
    let status = e.status();
    let outcome = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too_large"
    } else {
        "unreadable_body"
    };
    warn!(forge, status = status.as_u16(), error = %e.body_text(), "webhook body refused");
    answer(status, "unknown", outcome, format!("{}\n", e.body_text()))
}

/// Handles one delivery. The signature is checked over the raw bytes before anything is
/// parsed or stored; the answer goes out as soon as the delivery's transaction commits.
pub async fn github(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return unread_body("github", e),
    };
    let sig = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if !signature::verify(&s.live.secrets(), sig, &body) {
        warn!("webhook with a missing or wrong signature refused");
        return answer(
            StatusCode::UNAUTHORIZED,
            "unknown",
            "unauthorized",
            "signature missing or wrong\n".into(),
        );
    }
    // Event names are GitHub's own short words; anything else is not worth a metric label.
    let event_name = header(&headers, "x-github-event")
        .filter(|e| e.len() <= 64 && e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    let guid = header(&headers, "x-github-delivery")
        .filter(|g| !g.is_empty() && g.len() <= 100 && g.bytes().all(|b| b.is_ascii_graphic()));
    let (Some(event_name), Some(guid)) = (event_name, guid) else {
        return answer(
            StatusCode::BAD_REQUEST,
            "unknown",
            "bad_headers",
            "X-GitHub-Event and X-GitHub-Delivery are required\n".into(),
        );
    };
    let (action, parsed) = event::parse_with_action(event_name, &body);
    let span = tracing::info_span!(
        "delivery",
        delivery = guid,
        event = event_name,
        action = action.as_deref().unwrap_or("")
    );
    // During an outage, answer at once rather than queue for a connection (see
    // `webhook::outage`): GitHub records the delivery as failed, the reconciler asks again.
    let outage = s.intake.outage();
    if !outage.available().await {
        return refused(
            &s,
            &span,
            event_name,
            &crate::webhook::outage::unavailable(),
        );
    }
    let _enter = span.enter();
    let delivery = Delivery {
        guid,
        event: event_name,
        action: action.as_deref(),
    };
    let parsed = match parsed {
        Ok(ev) => ev,
        Err(e) => {
            // Signed by GitHub but unreadable: keep a record so it is not silently lost.
            let why = e.to_string();
            warn!(error = %why, "signed delivery could not be read");
            let stored = intake::record_invalid(outage, &delivery, &why).await;
            return invalid(stored.is_ok(), event_name, &why);
        }
    };
    drop(_enter);
    let recorded = match &parsed {
        Event::Review(r) => s.intake.record(&delivery, r).await,
        other => intake::record(outage, &delivery, other).await,
    };
    match recorded {
        Ok(outcome) => {
            let _enter = span.enter();
            info!(outcome = outcome.label(), "delivery recorded");
            if let Intake::Queued(_) = outcome {
                s.wake.notify_waiters();
            }
            let status = match outcome {
                Intake::Queued(_) => StatusCode::ACCEPTED,
                _ => StatusCode::OK,
            };
            answer(
                status,
                event_name,
                outcome.label(),
                format!("{}\n", outcome.label()),
            )
        }
        Err(e) => {
            outage.note(&e);
            refused(&s, &span, event_name, &e)
        }
    }
}

/// 503: the delivery could not be stored. GitHub shows it as failed; the reconciler asks for
/// it again once the database is back.
fn refused(s: &AppState, span: &tracing::Span, event: &str, e: &sqlx::Error) -> Response {
    s.lost_deliveries.store(true, Ordering::SeqCst);
    let _enter = span.enter();
    warn!(error = %e, "could not store the delivery; answering 503");
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        event,
        "database_unavailable",
        "database unavailable; the delivery will be requested again\n".into(),
    )
}
