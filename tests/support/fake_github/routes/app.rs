//! App-level endpoints (JWT): installation tokens and the webhook delivery log.

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::super::state::{Delivery, Token};
use super::super::{auth, hooks};
use super::{ApiResult, Shared, error, json_response};

/// `POST /app/installations/{id}/access_tokens` → 201 with a fresh `ghs_…` token.
pub async fn access_token(
    AxState(shared): AxState<Shared>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> ApiResult {
    let mut st = shared.lock();
    auth::require_jwt(&st, &shared.key, &headers)?;
    if !st.installations.contains_key(&id) {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    }
    st.tokens_minted += 1;
    let token = format!("ghs_{:0>36}", st.tokens_minted);
    let expires_at = Utc::now() + st.token_ttl;
    st.tokens.insert(
        token.clone(),
        Token {
            installation_id: id,
            expires_at,
        },
    );
    Ok(json_response(
        StatusCode::CREATED,
        json!({
            "token": token,
            "expires_at": expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "permissions": {
                "checks": "write", "contents": "read", "metadata": "read", "pull_requests": "write",
            },
            "repository_selection": "selected",
        }),
    ))
}

pub fn delivery_json(d: &Delivery) -> serde_json::Value {
    json!({
        "id": d.id,
        "guid": d.guid,
        "delivered_at": d.delivered_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "redelivery": d.redelivery,
        "duration": d.duration,
        "status": d.status,
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repository_id": d.repository_id,
    })
}

/// `GET /app/hook/deliveries?per_page=&cursor=` → newest first, paged by an opaque cursor
/// announced in an absolute `Link: <…>; rel="next"`.
pub async fn list_deliveries(
    AxState(shared): AxState<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    auth::require_jwt(&st, &shared.key, &headers)?;
    let per_page = q
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30usize)
        .clamp(1, 100);
    // The cursor names the newest delivery id of the page it starts.
    let start = match q.get("cursor") {
        None => u64::MAX,
        Some(c) => match c.strip_prefix("v1_").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return Err(error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid cursor")),
        },
    };
    let mut all: Vec<&Delivery> = st.deliveries.iter().filter(|d| d.id <= start).collect();
    all.sort_by_key(|d| std::cmp::Reverse(d.id));
    let page: Vec<_> = all
        .iter()
        .take(per_page)
        .map(|d| delivery_json(d))
        .collect();
    let mut resp = json_response(StatusCode::OK, json!(page));
    if let Some(next) = all.get(per_page) {
        let link = format!(
            "<{}/app/hook/deliveries?per_page={per_page}&cursor=v1_{}>; rel=\"next\"",
            st.base_url, next.id
        );
        resp.headers_mut()
            .insert(header::LINK, HeaderValue::from_str(&link).expect("ascii"));
    }
    Ok(resp)
}

/// `POST /app/hook/deliveries/{id}/attempts` → 202 `{}`, after re-sending the stored payload
/// with the same guid (sent before answering, so a test sees it once the call returns).
pub async fn redeliver(
    AxState(shared): AxState<Shared>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> ApiResult {
    let original = {
        let st = shared.lock();
        auth::require_jwt(&st, &shared.key, &headers)?;
        st.deliveries.iter().find(|d| d.id == id).cloned()
    };
    let Some(d) = original else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    hooks::send(&shared, &d.event, &d.guid, d.payload, true).await;
    Ok(json_response(StatusCode::ACCEPTED, json!({})))
}

/// Webhook secret of Apps the fake creates from a manifest.
pub const MANIFEST_WEBHOOK_SECRET: &str = "whsec-made-by-the-fake";

/// `POST /app-manifests/{code}/conversions` (no authentication, like GitHub): a code from
/// the manifest flow becomes the App's id, key and webhook secret, once.
pub async fn convert_manifest(
    AxState(shared): AxState<Shared>,
    Path(code): Path<String>,
) -> ApiResult {
    let mut st = shared.lock();
    if !st.manifest_codes.remove(&code) {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    }
    let pem = std::fs::read_to_string(auth::TEST_APP_KEY_PEM).expect("the test App key");
    Ok(json_response(
        StatusCode::CREATED,
        json!({
            "id": st.app_id,
            "slug": "immutabot-test",
            "name": "immutabot test",
            "html_url": "https://github.com/apps/immutabot-test",
            "client_id": "Iv1.test",
            "client_secret": "not-used",
            "webhook_secret": MANIFEST_WEBHOOK_SECRET,
            "pem": pem,
        }),
    ))
}
