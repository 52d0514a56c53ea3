//! The read-only share over time, from the per-scan counts.
//!
//! Per repository, the state at a moment is its last finished scan at or before it. Summing
//! that over repositories for every week would probe the scans once per (week, repository);
//! instead each scan contributes its difference to the repository's previous scan in the
//! week it finished, and a running sum over the weeks telescopes back to "the last scan of
//! each repository" — one pass over the owner's scans, in the order of the covering index
//! `scans_report_trend` (newest first, so the previous scan is `lead`), without a sort.

use super::{Counts, TrendPoint};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Mutex;

/// What a trend was computed from: the repositories, the current week, and a fingerprint of
/// their finished scans (count, newest id, sums of every count and of the finish times).
type Key = (Vec<i64>, i64, (i64, i64, i64, i64, i64, i64, i64, i64));

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
    let stamp: (i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "select count(*), coalesce(max(id), 0),
                coalesce(sum(units), 0)::bigint, coalesce(sum(read_only), 0)::bigint,
                coalesce(sum(suppressed), 0)::bigint, coalesce(sum(writable), 0)::bigint,
                coalesce(sum(unknown), 0)::bigint,
                coalesce(sum((extract(epoch from finished_at) * 1000)::bigint), 0)::bigint
         from scans
         where repository_id = any($1) and state = 'done'
           and finished_at is not null and finished_at <= $2",
    )
    .bind(ids)
    .bind(now)
    .fetch_one(pool)
    .await?;
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

type WeekTuple = (NaiveDate, i64, i64, i64, i64, i64, i64);

/// One point per week (Monday to Sunday, UTC) from the first scan's week to `now`'s week.
pub async fn weekly(
    pool: &PgPool,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<TrendPoint>, sqlx::Error> {
    let rows: Vec<WeekTuple> = sqlx::query_as(
        "with deltas as (
             select date_trunc('week', finished_at at time zone 'UTC')::date as week,
                    case when lead(id) over w is null then 1 else 0 end as repos,
                    units - coalesce(lead(units) over w, 0) as units,
                    read_only - coalesce(lead(read_only) over w, 0) as read_only,
                    suppressed - coalesce(lead(suppressed) over w, 0) as suppressed,
                    writable - coalesce(lead(writable) over w, 0) as writable,
                    unknown - coalesce(lead(unknown) over w, 0) as unknown
             from scans
             where repository_id = any($1) and state = 'done'
               and finished_at is not null and finished_at <= $2
             window w as (partition by repository_id order by finished_at desc)
         ),
         per_week as (
             select week, sum(repos) as repos, sum(units) as units,
                    sum(read_only) as read_only, sum(suppressed) as suppressed,
                    sum(writable) as writable, sum(unknown) as unknown
             from deltas group by week
         ),
         weeks as (
             select generate_series(
                        (select min(week) from per_week),
                        date_trunc('week', $2 at time zone 'UTC')::date,
                        interval '7 days')::date as week
         )
         select weeks.week + 6,
                (sum(coalesce(p.repos, 0)) over run)::bigint,
                (sum(coalesce(p.units, 0)) over run)::bigint,
                (sum(coalesce(p.read_only, 0)) over run)::bigint,
                (sum(coalesce(p.suppressed, 0)) over run)::bigint,
                (sum(coalesce(p.writable, 0)) over run)::bigint,
                (sum(coalesce(p.unknown, 0)) over run)::bigint
         from weeks left join per_week p on p.week = weeks.week
         window run as (order by weeks.week)
         order by weeks.week",
    )
    .bind(ids)
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(week_end, repositories, units, read_only, suppressed, writable, unknown)| {
                let counts = Counts {
                    units,
                    read_only,
                    suppressed,
                    writable,
                    unknown,
                };
                TrendPoint {
                    week_end,
                    repositories,
                    read_only_share: counts.share(),
                    counts,
                }
            },
        )
        .collect())
}

/// The counts summed over each repository's last finished scan at or before `when`.
pub async fn at(pool: &PgPool, ids: &[i64], when: DateTime<Utc>) -> Result<Counts, sqlx::Error> {
    let (units, read_only, suppressed, writable, unknown): (i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "select coalesce(sum(s.units), 0)::bigint, coalesce(sum(s.read_only), 0)::bigint,
                    coalesce(sum(s.suppressed), 0)::bigint, coalesce(sum(s.writable), 0)::bigint,
                    coalesce(sum(s.unknown), 0)::bigint
             from unnest($1::bigint[]) as r(id)
             cross join lateral (
                 select units, read_only, suppressed, writable, unknown from scans
                 where repository_id = r.id and state = 'done'
                   and finished_at is not null and finished_at <= $2
                 order by finished_at desc
                 limit 1
             ) s",
        )
        .bind(ids)
        .bind(when)
        .fetch_one(pool)
        .await?;
    Ok(Counts {
        units,
        read_only,
        suppressed,
        writable,
        unknown,
    })
}
