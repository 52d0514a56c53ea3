//! Group commit for pull-request deliveries. Each delivery must be durable before GitHub gets
//! its answer, and a commit waits for the disk: one commit per delivery caps intake at the
//! disk's flush rate. Deliveries that arrive while a commit is in flight are recorded
//! together in the next transaction, and each gets its answer once that commit is done:
//! just as durable, many deliveries per flush. A batch is one statement (one round trip).

use super::intake::{self, Delivery, Intake};
use crate::forge::github::webhook::event::ReviewRequest;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Most deliveries in one transaction.
const MAX_BATCH: usize = 128;

struct Pending {
    guid: String,
    event: String,
    action: Option<String>,
    review: ReviewRequest,
    reply: oneshot::Sender<sqlx::Result<Intake>>,
}

/// Records pull-request deliveries in shared transactions.
pub struct Batcher {
    tx: mpsc::Sender<Pending>,
}

impl Batcher {
    /// Starts `committers` tasks: while one commits, the next gathers the following batch.
    pub fn start(pool: PgPool, committers: usize) -> Batcher {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..committers.max(1) {
            tokio::spawn(committer(pool.clone(), rx.clone()));
        }
        Batcher { tx }
    }

    /// Records one delivery; returns once the transaction that holds it has committed.
    pub async fn record(&self, d: &Delivery<'_>, review: &ReviewRequest) -> sqlx::Result<Intake> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            guid: d.guid.to_string(),
            event: d.event.to_string(),
            action: d.action.map(str::to_string),
            review: review.clone(),
            reply,
        };
        self.tx
            .send(pending)
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn committer(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(p) => batch.push(p),
                None => return,
            }
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
        }
        // One lock order for every batch (the function takes per-pull-request locks), so two
        // committers never deadlock on each other.
        batch.sort_by_key(|p| (p.review.repo.id, p.review.number.0));
        match together(&pool, &batch).await {
            Ok(results) => {
                for (p, r) in batch.into_iter().zip(results) {
                    let _ = p.reply.send(Ok(r));
                }
            }
            // One bad delivery must not fail the others: record them one by one.
            Err(e) => {
                tracing::warn!(error = %e, deliveries = batch.len(), "batch not recorded; recording one by one");
                for p in batch {
                    let d = delivery(&p);
                    let r = intake::review_in_one_round_trip(&pool, &d, &p.review).await;
                    let _ = p.reply.send(r);
                }
            }
        }
    }
}

fn delivery(p: &Pending) -> Delivery<'_> {
    Delivery {
        guid: &p.guid,
        event: &p.event,
        action: p.action.as_deref(),
    }
}

async fn together(pool: &PgPool, batch: &[Pending]) -> sqlx::Result<Vec<Intake>> {
    let items: Vec<_> = batch.iter().map(|p| (delivery(p), &p.review)).collect();
    let results = intake::reviews_in_one_round_trip(pool, &items).await?;
    metrics::histogram!("immutabot_intake_batch_size").record(batch.len() as f64);
    Ok(results)
}
