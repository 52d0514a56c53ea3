//! Group commit for pull-request deliveries. Each delivery must be durable before GitHub gets
//! its answer, and a commit waits for the disk: one commit per delivery caps intake at the
//! disk's flush rate. Deliveries that arrive while a commit is in flight are recorded
//! together in the next transaction, and each gets its answer once that commit is done:
//! just as durable, many deliveries per flush. A batch is one statement (one round trip).
//!
//! A batch that fails for want of the database fails whole, at once: every delivery in it is
//! answered 503 (see [`super::outage`]). Only a batch the database refused is retried one
//! delivery at a time, so that one bad row costs one delivery.

use super::intake::{self, Delivery, Intake};
use super::outage::{self, Outage};
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
    outage: Arc<Outage>,
}

impl Batcher {
    /// Starts `committers` tasks: while one commits, the next gathers the following batch.
    pub fn start(pool: PgPool, committers: usize) -> Batcher {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let rx = Arc::new(Mutex::new(rx));
        let outage = Arc::new(Outage::new(pool));
        for _ in 0..committers.max(1) {
            tokio::spawn(committer(outage.clone(), rx.clone()));
        }
        Batcher { tx, outage }
    }

    /// Whether intake may use the database: shared by every endpoint that records deliveries.
    pub fn outage(&self) -> &Arc<Outage> {
        &self.outage
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

async fn committer(outage: Arc<Outage>, rx: Arc<Mutex<mpsc::Receiver<Pending>>>) {
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
        // Deliveries that queued while the database went away are answered without a wait.
        if !outage.available().await {
            refuse(batch, &outage::unavailable());
            continue;
        }
        // One lock order for every batch (the function takes per-pull-request locks), so two
        // committers never deadlock on each other.
        batch.sort_by_key(|p| (p.review.repo.id, p.review.number.0));
        match together(&outage, &batch).await {
            Ok(results) => {
                for (p, r) in batch.into_iter().zip(results) {
                    let _ = p.reply.send(Ok(r));
                }
            }
            Err(e) if outage::connection_class(&e) => {
                outage.note(&e);
                tracing::warn!(error = %e, deliveries = batch.len(), "database unavailable; batch refused");
                refuse(batch, &e);
            }
            // One bad delivery must not fail the others: record them one by one.
            Err(e) => {
                tracing::warn!(error = %e, deliveries = batch.len(), "batch not recorded; recording one by one");
                one_by_one(&outage, batch).await;
            }
        }
    }
}

/// Answers every delivery of the batch with `e`.
fn refuse(batch: Vec<Pending>, e: &sqlx::Error) {
    for p in batch {
        let _ = p.reply.send(Err(outage::shared(e)));
    }
}

/// Records each delivery in its own statement; once the database is gone, the rest are
/// refused at once.
async fn one_by_one(outage: &Outage, batch: Vec<Pending>) {
    for p in batch {
        if outage.is_down() {
            let _ = p.reply.send(Err(outage::unavailable()));
            continue;
        }
        let r = match outage.acquire().await {
            Ok(mut conn) => {
                intake::review_in_one_round_trip(&mut *conn, &delivery(&p), &p.review).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = &r {
            outage.note(e);
        }
        let _ = p.reply.send(r);
    }
}

fn delivery(p: &Pending) -> Delivery<'_> {
    Delivery {
        guid: &p.guid,
        event: &p.event,
        action: p.action.as_deref(),
    }
}

async fn together(outage: &Outage, batch: &[Pending]) -> sqlx::Result<Vec<Intake>> {
    let items: Vec<_> = batch.iter().map(|p| (delivery(p), &p.review)).collect();
    let mut conn = outage.acquire().await?;
    let results = intake::reviews_in_one_round_trip(&mut *conn, &items).await?;
    metrics::histogram!("immutabot_intake_batch_size").record(batch.len() as f64);
    Ok(results)
}
