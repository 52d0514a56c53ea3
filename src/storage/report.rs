//! The compliance report's reads: repositories with their latest scan, rules, pull-request
//! activity, writable units and the weekly trend. Every query after the first is scoped by
//! the ids of the owner's repositories, which the first one looks up.

use crate::ids::Forge;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

/// A repository of an owner with the counts of its latest finished scan.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RepoScanRow {
    /// Row id.
    pub id: i64,
    /// Owner as stored (the forge's spelling; a GitLab group's full path).
    pub owner: String,
    /// Name.
    pub name: String,
    /// Private repository.
    pub private: bool,
    /// Latest scan's units, when scanned.
    pub units: Option<i32>,
    /// Read-only units.
    pub read_only: Option<i32>,
    /// Suppressed units.
    pub suppressed: Option<i32>,
    /// Writable units.
    pub writable: Option<i32>,
    /// Units of unknown status.
    pub unknown: Option<i32>,
    /// When the latest scan finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Its commit.
    pub commit_sha: Option<String>,
    /// Open findings on open pull requests.
    pub open_findings: i64,
}

/// `text` as a `LIKE` pattern matching itself literally.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The owner's repositories on `forge` (case-insensitive owner, not removed), by name. On
/// GitLab an owner is a group and includes its subgroups: `a` holds `a/b` and `a/b/c`.
/// `name` narrows the list to one repository (of the owner itself).
pub async fn repositories(
    pool: &PgPool,
    forge: Forge,
    owner: &str,
    name: Option<&str>,
) -> sqlx::Result<Vec<RepoScanRow>> {
    let nested = (forge == Forge::GitLab && name.is_none())
        .then(|| format!("{}/%", like_literal(&owner.to_lowercase())));
    sqlx::query_as(
        "with repos as (
             select id, owner, name, private from repositories
             where forge = $3 and removed_at is null
               and (lower(owner) = lower($1) or lower(owner) like $4 escape '\\')
               and ($2::text is null or lower(name) = lower($2))
         ),
         open_findings as (
             select f.repository_id, count(*) as n
             from findings f join pull_requests p on p.id = f.pull_request_id
             where f.repository_id in (select id from repos)
               and f.state = 'open' and p.state = 'open'
             group by f.repository_id
         )
         select r.id, r.owner, r.name, r.private,
                s.units, s.read_only, s.suppressed, s.writable, s.unknown,
                s.finished_at, s.commit_sha, coalesce(o.n, 0) as open_findings
         from repos r
         left join lateral (
             select units, read_only, suppressed, writable, unknown, finished_at, commit_sha
             from scans
             where repository_id = r.id and state = 'done' and finished_at is not null
             order by finished_at desc
             limit 1
         ) s on true
         left join open_findings o on o.repository_id = r.id
         order by lower(r.owner), lower(r.name), r.id",
    )
    .bind(owner)
    .bind(name)
    .bind(forge.as_str())
    .bind(nested)
    .fetch_all(pool)
    .await
}

/// Current default-branch units per rule, as (rule, units).
pub async fn unit_rules(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "select rule, count(*) from unit_states u cross join unnest(u.rules) as rule
         where u.repository_id = any($1) and u.valid_to is null and cardinality(u.rules) > 0
         group by rule",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Open findings of open pull requests per rule, as (rule, findings).
pub async fn open_finding_rules(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "select f.rule, count(*) from findings f join pull_requests p on p.id = f.pull_request_id
         where f.repository_id = any($1) and f.state = 'open' and p.state = 'open'
         group by f.rule",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Pull-request activity in a time window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    /// Checks started.
    pub checks: i64,
    /// Findings first seen (unsuppressed).
    pub raised: i64,
    /// Findings fixed.
    pub fixed: i64,
    /// Median hours from first seen to fixed.
    pub median_hours: Option<f64>,
}

/// Checks, raised and fixed findings, and the median time to fix, in `(since, until]`.
pub async fn activity(
    pool: &PgPool,
    ids: &[i64],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<ActivityRow> {
    sqlx::query_as(
        "select
             (select count(*) from checks
              where repository_id = any($1) and started_at > $2 and started_at <= $3) as checks,
             (select count(*) from findings
              where repository_id = any($1) and state <> 'suppressed'
                and first_seen_at > $2 and first_seen_at <= $3) as raised,
             count(*) as fixed,
             percentile_cont(0.5) within group (
                 order by extract(epoch from fixed_at - first_seen_at)::float8) / 3600.0
                 as median_hours
         from findings
         where repository_id = any($1) and fixed_at > $2 and fixed_at <= $3",
    )
    .bind(ids)
    .bind(since)
    .bind(until)
    .fetch_one(pool)
    .await
}

/// A current writable (or unknown) unit with the commit that first saw it so.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnitLinkRow {
    /// File path.
    pub path: String,
    /// Line in `commit`.
    pub line: i32,
    /// Workload.
    pub workload: String,
    /// Container.
    pub container: Option<String>,
    /// Image.
    pub image: Option<String>,
    /// `false` or `unknown`.
    pub state: String,
    /// Rule ids.
    pub rules: Vec<String>,
    /// The commit of the scan the state is valid from.
    pub commit_sha: String,
    /// The stored patch.
    pub fix: Option<serde_json::Value>,
    /// Its file's owners (CODEOWNERS).
    pub owners: Vec<String>,
}

/// One repository's current writable and unknown units, by path and line.
pub async fn writable_units(pool: &PgPool, repo_id: i64) -> sqlx::Result<Vec<UnitLinkRow>> {
    sqlx::query_as(
        "select u.path, u.line, u.workload, u.container, u.image, u.state, u.rules,
                s.commit_sha, u.fix, u.owners
         from unit_states u join scans s on s.id = u.valid_from_scan
         where u.repository_id = $1 and u.valid_to is null and u.state in ('false', 'unknown')
         order by u.path, u.line, u.workload, u.container nulls first",
    )
    .bind(repo_id)
    .fetch_all(pool)
    .await
}

/// A fingerprint of the repositories' finished scans up to a moment: count, newest id, sums
/// of every count and of the finish times (milliseconds).
pub type ScanStamp = (i64, i64, i64, i64, i64, i64, i64, i64);

/// The [`ScanStamp`] of the finished scans at or before `now`: one index-only pass.
pub async fn scan_stamp(pool: &PgPool, ids: &[i64], now: DateTime<Utc>) -> sqlx::Result<ScanStamp> {
    sqlx::query_as(
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
    .await
}

/// Unit counts summed over repositories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CountsRow {
    /// Units.
    pub units: i64,
    /// Read-only units.
    pub read_only: i64,
    /// Suppressed units.
    pub suppressed: i64,
    /// Writable units.
    pub writable: i64,
    /// Units of unknown status.
    pub unknown: i64,
}

/// One week of the trend.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WeekRow {
    /// The week's last day (Sunday).
    pub week_end: NaiveDate,
    /// Repositories scanned by then.
    pub repositories: i64,
    /// Their counts.
    #[sqlx(flatten)]
    pub counts: CountsRow,
}

/// One row per week (Monday to Sunday, UTC) from the first scan's week to `now`'s week: each
/// scan contributes its difference to the repository's previous scan in the week it
/// finished, and a running sum telescopes back to each repository's last scan (see
/// `report::trend`).
pub async fn weekly(pool: &PgPool, ids: &[i64], now: DateTime<Utc>) -> sqlx::Result<Vec<WeekRow>> {
    sqlx::query_as(concat!(
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
         ",
        weekly_running_sums!("$2")
    ))
    .bind(ids)
    .bind(now)
    .fetch_all(pool)
    .await
}

/// The counts summed over each repository's last finished scan at or before `when`.
pub async fn counts_at(pool: &PgPool, ids: &[i64], when: DateTime<Utc>) -> sqlx::Result<CountsRow> {
    sqlx::query_as(
        "select coalesce(sum(s.units), 0)::bigint as units,
                coalesce(sum(s.read_only), 0)::bigint as read_only,
                coalesce(sum(s.suppressed), 0)::bigint as suppressed,
                coalesce(sum(s.writable), 0)::bigint as writable,
                coalesce(sum(s.unknown), 0)::bigint as unknown
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
    .await
}
