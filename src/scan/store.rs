//! Writing a scan's snapshot in one transaction (unit states by change, then the scan's
//! counts), so a report never sees half a scan. The scan row's own steps are in
//! [`crate::storage::scans`].

use super::snapshot::{self, Counts, UnitRow, Unsettled};
use crate::ids::JobId;
use crate::storage::{self, exemptions, jobs, scans};
use anyhow::Context;
use sqlx::PgPool;

/// How writing a snapshot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored: rows inserted and closed, rows left as they were.
    Stored {
        /// New rows.
        inserted: usize,
        /// Rows closed.
        closed: usize,
        /// Rows kept.
        kept: usize,
    },
    /// A scan queued later already finished: this older picture is dropped.
    Stale,
}

/// What a snapshot is written from.
pub struct Snapshot<'a> {
    /// The scan row.
    pub scan_id: i64,
    /// The repository.
    pub repo_id: i64,
    /// The job that made it: jobs of one repository are queued in commit order.
    pub job_id: i64,
    /// The job's dedupe key (`scan:<repo id>`).
    pub dedupe_key: &'a str,
    /// Every unit of the commit.
    pub rows: &'a [UnitRow],
    /// Their counts.
    pub counts: Counts,
    /// A note kept on the scan (an invalid `.immutabot.yml`), if any.
    pub note: Option<&'a str>,
    /// What the scan could not look at: its units keep their last state.
    pub unsettled: &'a Unsettled,
}

/// Writes a snapshot in one transaction. Scans of one repository are serialised, and a scan
/// whose job was queued before one that already finished is dropped: two workers finishing
/// out of order must not put an older commit's picture over a newer one.
pub async fn write(pool: &PgPool, s: &Snapshot<'_>) -> anyhow::Result<Written> {
    let mut tx = pool.begin().await.context("starting the snapshot")?;
    storage::lock_key(&mut tx, s.dedupe_key).await?;
    if jobs::newer_done(&mut tx, s.dedupe_key, JobId(s.job_id)).await? {
        scans::drop_unfinished(&mut tx, s.scan_id).await?;
        tx.commit().await?;
        return Ok(Written::Stale);
    }
    let current = scans::current_units(&mut tx, s.repo_id)
        .await
        .context("reading the current unit states")?;
    let changes = snapshot::changes(&current, s.rows, s.unsettled);
    let mut counts = s.counts;
    for row in &changes.carried {
        counts.add(&row.state);
    }
    scans::close_units(&mut tx, &changes.close, s.scan_id)
        .await
        .context("closing unit states")?;
    for row in &changes.insert {
        scans::insert_unit(&mut tx, s.repo_id, s.scan_id, row)
            .await
            .context("inserting unit states")?;
    }
    exemptions::record(&mut tx, s.repo_id, s.scan_id, &changes.insert)
        .await
        .context("recording exemptions")?;
    scans::finish(&mut tx, s.scan_id, counts, s.note)
        .await
        .context("finishing the scan")?;
    tx.commit().await.context("committing the snapshot")?;
    Ok(Written::Stored {
        inserted: changes.insert.len(),
        closed: changes.close.len(),
        kept: changes.kept + changes.carried.len(),
    })
}
