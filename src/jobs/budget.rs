//! A time budget per analysed file: each analysis runs on the blocking pool, and one that
//! takes longer than its budget is given up on (its thread finishes on its own), so the job
//! and its worker go on with the other files.

use crate::model::FileReport;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

/// How long the core may take over one file before the job goes on without it.
pub const FILE_BUDGET: Duration = Duration::from_secs(10);

/// How a file that ran out of time is reported (the start of its skipped reason).
const NOT_ANALYSED: &str = "not analysed";

/// `analyse(shared, path)` for each path in order, each within `budget`; `None` for a path
/// that ran out of time.
pub async fn each<S, T, F>(
    shared: &Arc<S>,
    paths: Vec<String>,
    budget: Duration,
    analyse: Arc<F>,
) -> anyhow::Result<Vec<(String, Option<T>)>>
where
    S: Send + Sync + 'static,
    T: Send + 'static,
    F: Fn(&S, &str) -> T + Send + Sync + 'static,
{
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let (s, a, p) = (shared.clone(), analyse.clone(), path.clone());
        let task = tokio::task::spawn_blocking(move || a(&s, &p));
        let ran = match tokio::time::timeout(budget, task).await {
            Ok(joined) => Some(joined.context("the analysis panicked")?),
            Err(_) => None,
        };
        out.push((path, ran));
    }
    Ok(out)
}

/// The report of a file that ran out of time.
pub fn out_of_time(path: &str, budget: Duration) -> FileReport {
    let reason = format!("{NOT_ANALYSED}: took longer than {} s", budget.as_secs());
    crate::render::skipped(path, &reason)
}

/// Whether a report is of a file that ran out of time.
pub fn is_out_of_time(r: &FileReport) -> bool {
    r.skipped_reason
        .as_deref()
        .is_some_and(|s| s.starts_with(NOT_ANALYSED))
}
