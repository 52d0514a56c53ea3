//! The read-only share over time, from the per-scan counts.
//!
//! Per repository, the state at a moment is its last finished scan at or before it. Summing
//! that over repositories for every week would probe the scans once per (week, repository);
//! instead each scan contributes its difference to the repository's previous scan in the
//! week it finished, and a running sum over the weeks telescopes back to "the last scan of
//! each repository" — one pass over the owner's scans, in the order of the covering index
//! `scans_report_trend` (newest first, so the previous scan is `lead`), without a sort.

use super::{Counts, TrendPoint};
use crate::storage::{
    self,
    report::{CountsRow, ScanStamp, WeekRow},
};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Mutex;

/// What a trend was computed from: the repositories, the current week, and a fingerprint of
/// their finished scans (count, newest id, sums of every count and of the finish times).
type Key = (Vec<i64>, i64, ScanStamp);

/// Trends by what they were computed from. Past weeks only change when scans are added or
/// changed, which changes the fingerprint, so a hit is always what a fresh query would say.
static CACHE: Mutex<Option<HashMap<Key, Vec<TrendPoint>>>> = Mutex::new(None);

/// Entries kept before the cache starts over (one per owner and week, each a few kB).
const CACHE_ENTRIES: usize = 256;

/// [`weekly`], answered from memory while the owner's finished scans are unchanged.
///
/// The fingerprint is one index-only pass over `scans_report_trend` with plain sums, several
/// times cheaper than the trend's window pass over the same rows.
pub async fn weekly_cached(
    pool: &PgPool,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<TrendPoint>, sqlx::Error> {
    let stamp = storage::report::scan_stamp(pool, ids, now).await?;
    // Weeks start on Monday; 1970-01-01 was a Thursday.
    let week = (now.timestamp() + 3 * 86_400).div_euclid(7 * 86_400);
    let key: Key = (ids.to_vec(), week, stamp);
    if let Some(hit) = cache().as_ref().and_then(|m| m.get(&key)) {
        return Ok(hit.clone());
    }
    let points = weekly(pool, ids, now).await?;
    let mut guard = cache();
    let map = guard.get_or_insert_with(HashMap::new);
    if map.len() >= CACHE_ENTRIES {
        map.clear();
    }
    map.insert(key, points.clone());
    Ok(points)
}

fn cache() -> std::sync::MutexGuard<'static, Option<HashMap<Key, Vec<TrendPoint>>>> {
    // A panic while holding the lock leaves a map that is still consistent.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// One point per week (Monday to Sunday, UTC) from the first scan's week to `now`'s week.
pub async fn weekly(
    pool: &PgPool,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<TrendPoint>, sqlx::Error> {
    Ok(points(storage::report::weekly(pool, ids, now).await?))
}

/// [`weekly`] of one team's units (CODEOWNERS), from the units' own history.
pub async fn team_weekly(
    pool: &PgPool,
    ids: &[i64],
    team: &str,
    now: DateTime<Utc>,
) -> Result<Vec<TrendPoint>, sqlx::Error> {
    Ok(points(
        storage::owners::team_weekly(pool, ids, team, now).await?,
    ))
}

/// [`at`] of one team's units.
pub async fn team_at(
    pool: &PgPool,
    ids: &[i64],
    team: &str,
    when: DateTime<Utc>,
) -> Result<Counts, sqlx::Error> {
    Ok(counts_of(
        storage::owners::team_counts_at(pool, ids, team, when).await?,
    ))
}

fn points(rows: Vec<WeekRow>) -> Vec<TrendPoint> {
    rows.into_iter()
        .map(|w| {
            let counts = counts_of(w.counts);
            TrendPoint {
                week_end: w.week_end,
                repositories: w.repositories,
                read_only_share: counts.share(),
                counts,
            }
        })
        .collect()
}

/// The counts summed over each repository's last finished scan at or before `when`.
pub async fn at(pool: &PgPool, ids: &[i64], when: DateTime<Utc>) -> Result<Counts, sqlx::Error> {
    Ok(counts_of(
        storage::report::counts_at(pool, ids, when).await?,
    ))
}

fn counts_of(c: CountsRow) -> Counts {
    Counts {
        units: c.units,
        read_only: c.read_only,
        suppressed: c.suppressed,
        writable: c.writable,
        unknown: c.unknown,
    }
}
