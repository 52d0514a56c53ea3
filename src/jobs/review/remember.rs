//! Step 5, remember: the check and its findings in the history, which the report and the
//! next review read. Also where a review starts: the check row exists before anything is
//! posted, so a retry finds the status an earlier attempt created.

use crate::forge::Conclusion;
use crate::forge::review::{ChangeRequest, StatusId};
use crate::model::{FileReport, ReadOnly};
use crate::review::plan::{Placement, Plan};
use crate::storage::checks::{self as history, CheckCounts, FindingRecord};
use sqlx::PgPool;
use std::collections::HashSet;

use super::Target;

/// A check in the history and our status on the forge.
pub struct Check {
    /// The history's check id.
    pub id: i64,
    /// Our status on the forge.
    pub status: StatusId,
}

/// Records the check and shows our status on the head as running.
pub async fn start<F: ChangeRequest>(
    pool: &PgPool,
    forge: &F,
    target: &Target,
) -> anyhow::Result<Check> {
    let started = history::start_check(
        pool,
        target.repo_id,
        target.number.0,
        target.head.as_str(),
        target.rerun,
    )
    .await?;
    let existing = started.check_run.map(StatusId);
    let status = forge
        .start_status_once(&target.head, existing, &started.key, started.maybe_made)
        .await?;
    if existing.is_none() {
        history::set_check_run(pool, started.id, status.0).await?;
    }
    Ok(Check {
        id: started.id,
        status,
    })
}

/// Records a check that a newer head made moot.
pub async fn cancelled(pool: &PgPool, check: &Check) -> anyhow::Result<()> {
    let conclusion = Conclusion::Cancelled.as_str();
    history::finish_check(pool, check.id, conclusion, &CheckCounts::default(), &[]).await?;
    Ok(())
}

/// Records the finished check and its findings; returns how many earlier findings are fixed.
pub async fn finish(
    pool: &PgPool,
    check: &Check,
    plan: &Plan,
    reports: &[FileReport],
    open: &HashSet<String>,
    posted: usize,
) -> anyhow::Result<usize> {
    let (counts, records) = history_of(plan, reports, open, posted);
    let conclusion = plan.conclusion.as_str();
    let fixed = history::finish_check(pool, check.id, conclusion, &counts, &records).await?;
    Ok(fixed.len())
}

fn history_of(
    plan: &Plan,
    reports: &[FileReport],
    open: &HashSet<String>,
    posted: usize,
) -> (CheckCounts, Vec<FindingRecord>) {
    let mut counts = unit_counts(reports);
    counts.comments = posted as i32;
    let records = plan
        .findings
        .iter()
        .map(|f| {
            let suppressed = f.placement == Placement::Suppressed;
            if !suppressed {
                counts.findings += 1;
                counts.in_diff += i32::from(f.in_diff);
            }
            FindingRecord {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.clone(),
                path: f.path.clone(),
                line: f.line as i32,
                workload: f.workload.clone(),
                container: f.container.clone(),
                severity: f.severity.as_str().to_string(),
                suppressed,
                commented: (f.placement.is_comment() && posted > 0)
                    || open.contains(&f.fingerprint),
            }
        })
        .collect();
    (counts, records)
}

fn unit_counts(reports: &[FileReport]) -> CheckCounts {
    let mut counts = CheckCounts {
        files_checked: reports.len() as i32,
        ..CheckCounts::default()
    };
    for r in reports {
        let with = |state: ReadOnly| r.units.iter().filter(|u| u.read_only == state).count() as i32;
        counts.units += r.units.len() as i32;
        counts.read_only += with(ReadOnly::True);
        counts.suppressed += with(ReadOnly::Suppressed);
    }
    counts
}
