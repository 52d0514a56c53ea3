//! `/healthz`, `/readyz` and `/metrics`.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::time::Duration;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers and its schema is current: the replica may take traffic.
pub async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(3), crate::db::ready(&s.pool)).await {
        Ok(Ok(())) => (StatusCode::OK, "ready\n".to_string()),
        Ok(Err(why)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: database did not answer within 3 s\n".to_string(),
        ),
    }
}

/// Prometheus text format. The queue depth and the heap are read at scrape time, so they are
/// exact.
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    if let Ok(Ok(depth)) =
        tokio::time::timeout(Duration::from_secs(2), crate::queue::depth(&s.pool)).await
    {
        metrics::gauge!("immutabot_queue_depth").set(depth as f64);
    }
    super::heap::record();
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}
