//! Ownership reads for the report: current units per team (CODEOWNERS owners stored on each
//! unit row), each repository's owners, counts narrowed to one team, and the writable
//! episodes of every unit, from which time to fix is computed.

use super::report::{CountsRow, WeekRow};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Whether unit row `u` has owner `$2`, case-insensitively (GitHub's names are): a probe of
/// the GIN index `unit_states_owner_keys` on the lower-cased owners. A macro, so that the
/// statements stay literals.
macro_rules! owned_by {
    () => {
        "immutabot_owner_keys(u.owners) @> array[lower($2::text)]"
    };
}

/// The statement `before`, team predicate, `after` for team `$team`: whether unit row `u`
/// belongs to it. The no-owner group is the units whose file no CODEOWNERS line covers; for
/// any other name the statement is one index probe. Two statements rather than one with an
/// `or` on the parameter, so that a generic plan cannot lose the probe.
macro_rules! for_team {
    ($team:expr, [$($before:expr),*], [$($after:expr),*]) => {
        if $team == crate::owners::NO_OWNER {
            concat!($($before,)* "(cardinality(u.owners) = 0 or ", owned_by!(), ")" $(, $after)*)
        } else {
            concat!($($before,)* owned_by!() $(, $after)*)
        }
    };
}

/// One team's current units.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamCountRow {
    /// `@org/team`, a user, an email, or `(no owner)`.
    pub team: String,
    /// Units.
    pub units: i64,
    /// Read-only units.
    pub read_only: i64,
    /// Writable or undecided units.
    pub writable: i64,
    /// Repositories holding the team's units.
    pub repositories: i64,
}

/// Current units per owner (a unit with two owners counts for each), with `(no owner)`.
pub async fn team_counts(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<TeamCountRow>> {
    sqlx::query_as(
        "select team, count(*) as units,
                count(*) filter (where u.state = 'true') as read_only,
                count(*) filter (where u.state in ('false', 'unknown')) as writable,
                count(distinct u.repository_id) as repositories
         from unit_states u
         cross join lateral unnest(case when cardinality(u.owners) = 0
                                        then array['(no owner)'] else u.owners end) as team
         where u.repository_id = any($1) and u.valid_to is null
         group by team",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Each repository's owners: every owner of its current units, sorted.
pub async fn repository_owners(
    pool: &PgPool,
    ids: &[i64],
) -> sqlx::Result<Vec<(i64, Vec<String>)>> {
    sqlx::query_as(
        "select u.repository_id, array_agg(distinct o order by o)
         from unit_states u cross join lateral unnest(u.owners) as o
         where u.repository_id = any($1) and u.valid_to is null
         group by u.repository_id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// One repository's counts over the current units of `team`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamRepositoryRow {
    /// Repository row id.
    pub repository_id: i64,
    /// Its counts over the team's units.
    #[sqlx(flatten)]
    pub counts: CountsRow,
}

/// Per repository, the counts of the current units `team` owns (repositories without any
/// are left out).
pub async fn team_repository_counts(
    pool: &PgPool,
    ids: &[i64],
    team: &str,
) -> sqlx::Result<Vec<TeamRepositoryRow>> {
    sqlx::query_as(for_team!(
        team,
        ["select u.repository_id, count(*) as units,
                count(*) filter (where u.state = 'true') as read_only,
                count(*) filter (where u.state = 'suppressed') as suppressed,
                count(*) filter (where u.state = 'false') as writable,
                count(*) filter (where u.state = 'unknown') as unknown
         from unit_states u
         where u.repository_id = any($1) and u.valid_to is null and "],
        [" group by u.repository_id"]
    ))
    .bind(ids)
    .bind(team)
    .fetch_all(pool)
    .await
}

/// Current units of `team` per rule, as (rule, units).
pub async fn team_unit_rules(
    pool: &PgPool,
    ids: &[i64],
    team: &str,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(for_team!(
        team,
        [
            "select rule, count(*) from unit_states u cross join unnest(u.rules) as rule
         where u.repository_id = any($1) and u.valid_to is null and cardinality(u.rules) > 0
           and "
        ],
        [" group by rule"]
    ))
    .bind(ids)
    .bind(team)
    .fetch_all(pool)
    .await
}

/// One stretch of time a unit was writable on its default branch: from the first row
/// version that saw it writable to the scan that saw it read-only (or still open).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EpisodeRow {
    /// Repository row id.
    pub repository_id: i64,
    /// File path (as of the episode's last row version).
    pub path: String,
    /// Line.
    pub line: i32,
    /// Workload.
    pub workload: String,
    /// Container.
    pub container: Option<String>,
    /// Owners as of the episode's last row version.
    pub owners: Vec<String>,
    /// Severity as of the episode's last row version.
    pub severity: Option<String>,
    /// When a scan first saw it writable.
    pub first_seen: DateTime<Utc>,
    /// When a scan saw it read-only; `None` while it is writable.
    pub fixed_at: Option<DateTime<Utc>>,
}

/// Every writable episode that was fixed (the next row version of the unit is read-only,
/// from the very scan that closed the writable one) or is still open. Episodes that ended
/// otherwise (the unit was deleted, suppressed, or became undecided) are neither. Row
/// versions that only re-tag a writable unit (new owners, a moved line) continue its episode.
pub async fn episodes(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<EpisodeRow>> {
    // One pass over each unit's row versions in the order of `unit_states_key_history`, no
    // join back and no grouping: a writable version starts an episode unless the version
    // before it was writable up to the very scan it began at, and ends one unless the version
    // after it continues it that way. The episode's first sighting is the latest start at or
    // before its last version; what is shown of it is that last version's.
    sqlx::query_as(
        "with history as (
             select u.repository_id, u.unit_key, u.path, u.line, u.workload, u.container,
                    u.owners, u.severity, u.state, u.id, u.valid_from, u.valid_to,
                    u.valid_to_scan,
                    case when lag(u.state) over w = 'false'
                              and lag(u.valid_to_scan) over w = u.valid_from_scan
                         then null else u.valid_from end as start,
                    lead(u.state) over w as next_state,
                    lead(u.valid_from_scan) over w as next_from_scan
             from unit_states u
             where u.repository_id = any($1)
             window w as (partition by u.repository_id, u.unit_key order by u.valid_from, u.id)
         ),
         versions as (
             select *, max(case when state = 'false' then start end)
                           over (partition by repository_id, unit_key order by valid_from, id)
                       as first_seen
             from history
         )
         select repository_id, path, line, workload, container, owners, severity, first_seen,
                valid_to as fixed_at
         from versions
         where state = 'false'
           and not coalesce(next_state = 'false' and next_from_scan = valid_to_scan, false)
           and (valid_to is null or (next_state = 'true' and next_from_scan = valid_to_scan))",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// The weekly trend of `team`'s units, from their row versions rather than the scans' counts
/// (a scan counts every unit, not one team's): each version adds itself to its state in the
/// week it began and takes itself away in the week it ended, and a running sum over the weeks
/// gives the state at each week's end. Repositories count from their first unit of the team.
pub async fn team_weekly(
    pool: &PgPool,
    ids: &[i64],
    team: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<WeekRow>> {
    sqlx::query_as(for_team!(
        team,
        ["with versions as (
             select u.repository_id, u.state, u.valid_from,
                    case when u.valid_to <= $3 then u.valid_to end as valid_to
             from unit_states u
             where u.repository_id = any($1) and u.valid_from <= $3 and "],
        [
            "),
         deltas as (
             select date_trunc('week', valid_from at time zone 'UTC')::date as week, state,
                    1 as d, 0 as repos
             from versions
             union all
             select date_trunc('week', valid_to at time zone 'UTC')::date, state, -1, 0
             from versions where valid_to is not null
             union all
             select date_trunc('week', min(valid_from) at time zone 'UTC')::date, null, 0, 1
             from versions group by repository_id
         ),
         per_week as (
             select week, sum(repos) as repos, sum(d) as units,
                    sum(d) filter (where state = 'true') as read_only,
                    sum(d) filter (where state = 'suppressed') as suppressed,
                    sum(d) filter (where state = 'false') as writable,
                    sum(d) filter (where state = 'unknown') as unknown
             from deltas group by week
         ),
         ",
            weekly_running_sums!("$3")
        ]
    ))
    .bind(ids)
    .bind(team)
    .bind(now)
    .fetch_all(pool)
    .await
}

/// `team`'s units as they stood at `when`.
pub async fn team_counts_at(
    pool: &PgPool,
    ids: &[i64],
    team: &str,
    when: DateTime<Utc>,
) -> sqlx::Result<CountsRow> {
    sqlx::query_as(for_team!(
        team,
        ["select count(*) as units,
                count(*) filter (where u.state = 'true') as read_only,
                count(*) filter (where u.state = 'suppressed') as suppressed,
                count(*) filter (where u.state = 'false') as writable,
                count(*) filter (where u.state = 'unknown') as unknown
         from unit_states u
         where u.repository_id = any($1) and u.valid_from <= $3
           and (u.valid_to is null or u.valid_to > $3) and "],
        []
    ))
    .bind(ids)
    .bind(team)
    .bind(when)
    .fetch_one(pool)
    .await
}
