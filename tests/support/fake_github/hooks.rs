//! Webhook deliveries the fake "sends": signed like GitHub's, POSTed to the configured URL, and
//! logged the way `GET /app/hook/deliveries` reports them.

use std::time::{Duration, Instant};

use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::routes::Shared;
use super::state::Delivery;

/// GitHub gives up on a receiver after 10 s.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the `X-Hub-Signature-256` value.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// How a delivery went: the receiver's status code (0: no answer), GitHub's status text, and
/// how long it took in seconds.
pub struct Outcome {
    pub status_code: u16,
    pub status: String,
    pub duration: f64,
}

/// Appends a delivery to the log, reading action and ids from the payload like GitHub.
pub fn record(
    shared: &Shared,
    event: &str,
    guid: &str,
    payload: Vec<u8>,
    redelivery: bool,
    outcome: Outcome,
) -> u64 {
    let Outcome {
        status_code,
        status,
        duration,
    } = outcome;
    let v: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
    let mut st = shared.lock();
    let id = st.next_id();
    st.deliveries.push(Delivery {
        id,
        guid: guid.to_string(),
        delivered_at: Utc::now(),
        redelivery,
        duration,
        status,
        status_code,
        event: event.to_string(),
        action: v["action"].as_str().map(str::to_string),
        installation_id: v["installation"]["id"].as_u64(),
        repository_id: v["repository"]["id"].as_u64(),
        payload,
    });
    id
}

/// POSTs the payload with GitHub's headers and logs the outcome; returns the receiver's
/// status, 0 when it could not be reached or did not answer in time.
pub async fn send(
    shared: &Shared,
    event: &str,
    guid: &str,
    payload: Vec<u8>,
    redelivery: bool,
) -> u16 {
    let (url, secret, app_id) = {
        let st = shared.lock();
        (st.webhook_url.clone(), st.webhook_secret.clone(), st.app_id)
    };
    let started = Instant::now();
    let outcome = match url {
        None => Err("no webhook URL configured".to_string()),
        Some(url) => {
            let request = http::Request::post(url)
                .header("content-type", "application/json")
                .header("user-agent", "GitHub-Hookshot/fake")
                .header("x-github-event", event)
                .header("x-github-delivery", guid)
                .header("x-github-hook-id", "1")
                .header("x-github-hook-installation-target-type", "integration")
                .header("x-github-hook-installation-target-id", app_id.to_string())
                .header("x-hub-signature-256", signature(&secret, &payload))
                .body(payload.clone())
                .expect("a valid request");
            match tokio::time::timeout(DELIVERY_TIMEOUT, shared.http.execute(request)).await {
                Ok(Ok(resp)) => Ok(resp.status().as_u16()),
                Ok(Err(e)) => Err(format!("failed to connect to host: {e}")),
                Err(_) => Err("timed out".to_string()),
            }
        }
    };
    let duration = started.elapsed().as_secs_f64();
    let (code, text) = match outcome {
        Ok(code) if (200..300).contains(&code) => (code, "OK".to_string()),
        Ok(code) => (code, format!("Invalid HTTP Response: {code}")),
        Err(e) => (0, e),
    };
    let outcome = Outcome {
        status_code: code,
        status: text,
        duration,
    };
    record(shared, event, guid, payload, redelivery, outcome);
    code
}
