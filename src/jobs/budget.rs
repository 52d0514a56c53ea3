//! Time budgets for analysis: each file runs on the blocking pool within its own budget,
//! and all of one job's files within the job's. A file over its budget is given up on (its
//! thread finishes on its own), and once the job's budget is spent the files left are not
//! started at all: the job and its worker go on, and the queue keeps flowing.

use crate::model::FileReport;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long the core may take over one file before the job goes on without it.
pub const FILE_BUDGET: Duration = Duration::from_secs(10);
/// How long the core may take over all of one job's files, per pass.
pub const JOB_BUDGET: Duration = Duration::from_secs(120);

/// How a file that ran out of time is reported (the start of its skipped reason).
const NOT_ANALYSED: &str = "not analysed";

/// The budgets of one pass over a job's files.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Each file's.
    pub file: Duration,
    /// All files' together.
    pub job: Duration,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            file: FILE_BUDGET,
            job: JOB_BUDGET,
        }
    }
}

/// Why a file was not analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfTime {
    /// It took longer than its own budget.
    File(Duration),
    /// The job's budget was spent before its turn.
    Job(Duration),
}

/// `analyse(shared, path)` for each path in order, within `budget`.
pub async fn each<S, T, F>(
    shared: &Arc<S>,
    paths: Vec<String>,
    budget: Budget,
    analyse: Arc<F>,
) -> anyhow::Result<Vec<(String, Result<T, OutOfTime>)>>
where
    S: Send + Sync + 'static,
    T: Send + 'static,
    F: Fn(&S, &str) -> T + Send + Sync + 'static,
{
    let deadline = Instant::now() + budget.job;
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            out.push((path, Err(OutOfTime::Job(budget.job))));
            continue;
        }
        let (s, a, p) = (shared.clone(), analyse.clone(), path.clone());
        let task = tokio::task::spawn_blocking(move || a(&s, &p));
        let ran = match tokio::time::timeout(budget.file.min(left), task).await {
            Ok(joined) => Ok(joined.context("the analysis panicked")?),
            Err(_) if left < budget.file => Err(OutOfTime::Job(budget.job)),
            Err(_) => Err(OutOfTime::File(budget.file)),
        };
        out.push((path, ran));
    }
    Ok(out)
}

/// The report of a file that ran out of time.
pub fn out_of_time(path: &str, why: OutOfTime) -> FileReport {
    let reason = match why {
        OutOfTime::File(d) => format!("{NOT_ANALYSED}: took longer than {} s", d.as_secs()),
        OutOfTime::Job(d) => format!(
            "{NOT_ANALYSED}: this job's files took longer than {} s together",
            d.as_secs()
        ),
    };
    crate::render::skipped(path, &reason)
}

/// Whether a report is of a file that ran out of time.
pub fn is_out_of_time(r: &FileReport) -> bool {
    r.skipped_reason
        .as_deref()
        .is_some_and(|s| s.starts_with(NOT_ANALYSED))
}
