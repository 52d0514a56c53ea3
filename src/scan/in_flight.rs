//! Single flight for blob analyses: when two scans in one process need the same blob's
//! report at the same time (an organisation's first installation scans many repositories
//! that share manifests), one fetches and analyses it and the other waits for its report in
//! the cache, instead of both doing the same work.
//!
//! A claim is released when its holder drops it, whether or not a report was stored (the
//! file ran out of time, a fetch failed): a waiter then reads the cache again and does the
//! work itself for whatever is still missing. Replicas do not share claims; the cache's
//! upsert keeps their duplicate work harmless.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Blob analyses in progress in this process, by cache key.
#[derive(Default)]
pub struct InFlight {
    running: Mutex<HashMap<String, watch::Receiver<()>>>,
}

/// The right to fetch and analyse one blob; waiters are let go when it is dropped.
pub struct Claim {
    key: String,
    owner: Arc<InFlight>,
    _done: watch::Sender<()>,
}

/// Someone else's analysis of a blob, to wait for.
pub struct Wait(watch::Receiver<()>);

/// Either the work is ours, or another scan is doing it.
pub enum Turn {
    /// Do the work; drop the claim once its report is stored.
    Mine(Claim),
    /// Wait, then read the cache again.
    Theirs(Wait),
}

/// The key of one blob's analysis: the same inputs as the cache's plain key.
pub fn key(blob: &str, path: &str, config_hash: &str) -> String {
    format!("{config_hash}\0{path}\0{blob}")
}

impl InFlight {
    /// Claims `key`, unless another scan holds it.
    pub fn claim(self: &Arc<Self>, key: String) -> Turn {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rx) = running.get(&key) {
            return Turn::Theirs(Wait(rx.clone()));
        }
        let (tx, rx) = watch::channel(());
        running.insert(key.clone(), rx);
        Turn::Mine(Claim {
            key,
            owner: self.clone(),
            _done: tx,
        })
    }

    /// How many analyses are claimed now.
    pub fn len(&self) -> usize {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no analysis is claimed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut running = self.owner.running.lock().unwrap_or_else(|e| e.into_inner());
        running.remove(&self.key);
        // `_done` drops after this, which wakes every waiter.
    }
}

impl Wait {
    /// Returns once the claim's holder is done (or gave up).
    pub async fn done(mut self) {
        // `changed` fails once the sender is gone: that is the signal.
        while self.0.changed().await.is_ok() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn the_second_claim_waits_for_the_first_and_the_key_is_free_after() {
        let flights = Arc::new(InFlight::default());
        let Turn::Mine(first) = flights.claim(key("b", "p", "c")) else {
            panic!("the first claim is ours");
        };
        let Turn::Theirs(wait) = flights.claim(key("b", "p", "c")) else {
            panic!("the second claim waits");
        };
        assert!(matches!(flights.claim(key("b2", "p", "c")), Turn::Mine(_)));
        let waiting = tokio::spawn(wait.done());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "still held");
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("let go when the claim is dropped")
            .unwrap();
        assert!(flights.is_empty());
        assert!(matches!(flights.claim(key("b", "p", "c")), Turn::Mine(_)));
    }
}
