//! A worker: claims jobs, keeps their lease alive while it runs them, records the outcome.

use super::{Claimed, Job, Outcome, claim, finish};
use crate::ids::JobId;
use crate::storage::jobs::extend;
use sqlx::PgPool;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};
use tracing::{Instrument, info, warn};

/// First wait before recording an outcome again after the database was unreachable.
const BOOKKEEPING_FIRST_RETRY: Duration = Duration::from_millis(100);
/// Longest wait between tries: the outcome is recorded within this of the database's return.
const BOOKKEEPING_MAX_RETRY: Duration = Duration::from_secs(2);

/// What runs a claimed job. Errors are outcomes, never panics across the worker.
pub type Handler = Arc<dyn Fn(Task) -> Pin<Box<dyn Future<Output = Outcome> + Send>> + Send + Sync>;

/// A claimed job, decoded: what a handler gets.
#[derive(Debug, Clone)]
pub struct Task {
    /// The job's id.
    pub id: JobId,
    /// The job.
    pub job: Job,
}

/// Timing knobs of a worker.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a claim holds a job before another worker may take it.
    pub lease: Duration,
    /// How long an idle worker sleeps before looking again (a wake-up cuts it short).
    pub poll: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            lease: Duration::from_secs(120),
            poll: Duration::from_secs(1),
        }
    }
}

/// One worker loop.
pub struct Worker {
    /// The queue's database.
    pub pool: PgPool,
    /// Unique name (host, process, index): what the lease records.
    pub name: String,
    /// Its timing.
    pub timing: Timing,
    /// Runs jobs.
    pub handler: Handler,
    /// Poked by the webhook endpoint when it queued something.
    pub wake: Arc<Notify>,
}

impl Worker {
    /// Runs until `shutdown` turns true; a job in hand is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        info!(worker = %self.name, "worker started");
        while !*shutdown.borrow() {
            match self.step().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    warn!(worker = %self.name, error = %e, "could not claim a job; retrying");
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.timing.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        info!(worker = %self.name, "worker stopped");
    }

    /// Claims and runs one job; `Ok(false)` when there was none.
    pub async fn step(&self) -> sqlx::Result<bool> {
        let Some(job) = claim(&self.pool, &self.name, self.timing.lease).await? else {
            return Ok(false);
        };
        metrics::histogram!("immutabot_job_wait_seconds", "kind" => job.kind.clone())
            .record(job.waited_secs);
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind,
            delivery = job.delivery_guid.as_deref().unwrap_or(""), attempt = job.attempts);
        let started = Instant::now();
        let outcome = match decode(&job) {
            Err(outcome) => outcome,
            Ok(task) => self.run_leased(task).instrument(span.clone()).await,
        };
        let kind = job.kind.clone();
        let state = self.record(&job, &outcome).await?;
        let elapsed = started.elapsed().as_secs_f64();
        let label = state.clone().unwrap_or_else(|| "lost".to_string());
        metrics::histogram!("immutabot_job_duration_seconds", "kind" => kind.clone())
            .record(elapsed);
        metrics::counter!("immutabot_jobs_total", "kind" => kind, "state" => label.clone())
            .increment(1);
        span.in_scope(|| match &outcome {
            Outcome::Failed(e) | Outcome::Permanent(e) => {
                warn!(state = %label, error = %e, "job attempt failed")
            }
            _ => info!(state = %label, seconds = elapsed, "job finished"),
        });
        Ok(true)
    }

    /// Records the outcome. While the database is unreachable it tries again, with backoff,
    /// until it is back: the job is not left `running` until its lease runs out in a process
    /// that is alive. (Another worker that took it meanwhile makes the answer `None`.)
    async fn record(&self, job: &Claimed, outcome: &Outcome) -> sqlx::Result<Option<String>> {
        let mut delay = BOOKKEEPING_FIRST_RETRY;
        loop {
            match finish(&self.pool, job, &self.name, outcome).await {
                Err(e) if crate::db::connection_class(&e) => {
                    warn!(error = %e, retry_in_ms = delay.as_millis() as u64,
                        "could not record the job's outcome; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(BOOKKEEPING_MAX_RETRY);
                }
                other => return other,
            }
        }
    }

    async fn run_leased(&self, task: Task) -> Outcome {
        let id = task.id;
        let handler = self.handler.clone();
        // A spawned task starts without the caller's span; carry it so job logs keep the
        // delivery id.
        let mut work = tokio::spawn(handler(task).instrument(tracing::Span::current()));
        let mut tick = tokio::time::interval(self.timing.lease / 3);
        tick.tick().await;
        loop {
            tokio::select! {
                done = &mut work => {
                    return match done {
                        Ok(outcome) => outcome,
                        Err(e) => Outcome::Failed(format!("the job panicked: {e}")),
                    };
                }
                _ = tick.tick() => {
                    match extend(&self.pool, id, &self.name, self.timing.lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            warn!("lost the lease on the job; another worker has it");
                            work.abort();
                            return Outcome::Failed("lease lost".into());
                        }
                        Err(e) => warn!(error = %e, "could not extend the lease"),
                    }
                }
            }
        }
    }
}

/// The task to run, or the outcome that stops the job before it runs.
fn decode(job: &Claimed) -> Result<Task, Outcome> {
    if job.attempts > job.max_attempts {
        // Claimed again after its lease expired once too often: the job keeps killing its
        // workers. Stop here and keep it for a human.
        return Err(Outcome::Failed(format!(
            "gave up after {} attempts (lease expired)",
            job.max_attempts
        )));
    }
    // Retrying cannot make a payload readable.
    let decoded =
        Job::decode(&job.kind, &job.payload).map_err(|e| Outcome::Permanent(e.to_string()))?;
    Ok(Task {
        id: job.job_id(),
        job: decoded,
    })
}
