//! Webhook deliveries GitHub could not hand to us, and asking for them again. GitHub never
//! redelivers by itself; this is how an outage of ours is caught up.

use super::GitHubError;
use super::app::GitHubApp;
use super::client::ApiRequest;
use super::credentials::AppCredentials;
use crate::forge::FailedDelivery;
use crate::forge::link::next_link;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;

/// 100 pages of 100 deliveries; GitHub keeps three days of them.
const MAX_DELIVERY_PAGES: usize = 100;

#[derive(Debug, Clone, Deserialize)]
struct DeliveryJson {
    id: i64,
    guid: String,
    delivered_at: DateTime<Utc>,
    /// 0 when GitHub got no answer at all.
    #[serde(default)]
    status_code: Option<i64>,
    #[serde(default)]
    event: String,
}

/// Of the attempts since `since`, the guids whose latest attempt did not get a 2xx, oldest
/// first. A failed attempt that a later redelivery made good is not failed any more.
fn still_failed(deliveries: Vec<DeliveryJson>, since: DateTime<Utc>) -> Vec<FailedDelivery> {
    let mut latest: HashMap<String, DeliveryJson> = HashMap::new();
    for delivery in deliveries.into_iter().filter(|d| d.delivered_at >= since) {
        let newer = latest
            .get(&delivery.guid)
            .is_none_or(|seen| (delivery.delivered_at, delivery.id) > (seen.delivered_at, seen.id));
        if newer {
            latest.insert(delivery.guid.clone(), delivery);
        }
    }
    let mut failed: Vec<FailedDelivery> = latest
        .into_values()
        .filter(|d| !(200..300).contains(&d.status_code.unwrap_or(0)))
        .map(|d| FailedDelivery {
            id: d.id,
            guid: d.guid,
            event: d.event,
            delivered_at: d.delivered_at,
        })
        .collect();
    failed.sort_by_key(|d| (d.delivered_at, d.id));
    failed
}

impl GitHubApp {
    /// Deliveries since `since` whose latest attempt failed (non-2xx or no answer), oldest
    /// first; pages are followed (under the API root only) until they reach back past `since`.
    pub async fn failed_deliveries(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<FailedDelivery>, GitHubError> {
        let core = &self.core;
        let mut url = core.root.url("/app/hook/deliveries?per_page=100")?;
        let mut seen = Vec::new();
        for _ in 0..MAX_DELIVERY_PAGES {
            let request = ApiRequest::get(url);
            let answer = core.send(&request, &AppCredentials(core)).await?;
            let page: Vec<DeliveryJson> = answer.json(&request.what())?;
            // Newest first: once a page reaches before `since`, later pages are older still.
            let reached_back = page.is_empty() || page.iter().any(|d| d.delivered_at < since);
            seen.extend(page);
            if reached_back {
                break;
            }
            match next_link(&answer.headers) {
                Some(next) => url = core.root.followable(&next)?,
                None => break,
            }
        }
        Ok(still_failed(seen, since))
    }

    /// Asks GitHub to send delivery `delivery_id` again (same guid, new delivery id).
    pub async fn redeliver(&self, delivery_id: i64) -> Result<(), GitHubError> {
        let core = &self.core;
        let path = format!("/app/hook/deliveries/{delivery_id}/attempts");
        let request = ApiRequest::write(
            http::Method::POST,
            core.root.url(&path)?,
            &serde_json::json!({}),
        )?;
        core.send(&request, &AppCredentials(core)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: i64, guid: &str, minute: u32, status: i64) -> DeliveryJson {
        DeliveryJson {
            id,
            guid: guid.into(),
            delivered_at: format!("2026-11-28T10:{minute:02}:00Z").parse().unwrap(),
            status_code: Some(status),
            event: "pull_request".into(),
        }
    }

    fn ids(failed: &[FailedDelivery]) -> Vec<i64> {
        failed.iter().map(|d| d.id).collect()
    }

    #[test]
    fn only_the_latest_attempt_of_a_guid_counts() {
        let since = "2026-11-28T10:00:00Z".parse().unwrap();
        let all = vec![
            delivery(5, "a", 30, 200), // redelivery of "a" succeeded
            delivery(4, "c", 20, 0),   // no answer at all
            delivery(3, "b", 15, 502), // b's redelivery failed too
            delivery(2, "b", 10, 503),
            delivery(1, "a", 5, 500),
        ];
        let failed = still_failed(all, since);
        assert_eq!(ids(&failed), [3, 4]);
        assert_eq!(failed[0].guid, "b");
        assert_eq!(failed[0].event, "pull_request");
    }

    #[test]
    fn attempts_before_since_are_ignored() {
        let since = "2026-11-28T10:10:00Z".parse().unwrap();
        let all = vec![delivery(2, "x", 20, 201), delivery(1, "y", 5, 500)];
        assert!(still_failed(all, since).is_empty());
    }

    #[test]
    fn missing_status_is_a_failure() {
        let since = "2026-11-28T10:00:00Z".parse().unwrap();
        let mut d = delivery(1, "x", 1, 0);
        d.status_code = None;
        assert_eq!(ids(&still_failed(vec![d], since)), [1]);
    }
}
