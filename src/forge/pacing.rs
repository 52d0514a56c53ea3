//! Spacing of content-creating requests: GitHub's best practices ask for at least a second
//! between writes, and bursts of writes are what trips the secondary rate limit; GitLab
//! limits note creation per user, so its discussions and notes are spaced the same way.

use std::future::Future;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Runs writes one at a time, each starting at least `interval` after the previous ended.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer that has not written yet.
    pub(crate) fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            last: Mutex::new(None),
        }
    }

    /// Waits for its turn, runs `write`, and records when it finished. The lock is held
    /// across the request so one installation's writes are also serial, as GitHub asks.
    pub(crate) async fn run<T>(&self, write: impl Future<Output = T>) -> T {
        let mut last = self.last.lock().await;
        if let Some(previous) = *last {
            tokio::time::sleep_until(previous + self.interval).await;
        }
        let out = write.await;
        *last = Some(Instant::now());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_are_spaced() {
        let pacer = Pacer::new(Duration::from_millis(60));
        let start = Instant::now();
        pacer.run(async {}).await;
        assert!(
            start.elapsed() < Duration::from_millis(60),
            "the first write waits for nothing"
        );
        pacer.run(async {}).await;
        pacer.run(async {}).await;
        assert!(start.elapsed() >= Duration::from_millis(120));
    }

    #[tokio::test]
    async fn concurrent_writes_take_turns() {
        let pacer = std::sync::Arc::new(Pacer::new(Duration::from_millis(40)));
        let start = Instant::now();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move { pacer.run(async { Instant::now() }).await })
            })
            .collect();
        let mut starts = Vec::new();
        for task in tasks {
            starts.push(task.await.unwrap());
        }
        starts.sort();
        assert!(starts[1] - starts[0] >= Duration::from_millis(40));
        assert!(starts[2] - starts[1] >= Duration::from_millis(40));
        assert!(start.elapsed() >= Duration::from_millis(80));
    }
}
