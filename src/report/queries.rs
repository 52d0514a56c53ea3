//! Reads one owner's report from the scan and pull-request history.
//!
//! Runtime-checked queries (no `query!` macros), so building needs no database. Every query
//! is scoped by the ids of the owner's repositories, which the first query looks up; the
//! rest run concurrently on the pool.

use super::trend;
use super::{
    Counts, OwnerReport, PullRequestActivity, RepositoryReport, RepositoryRow, RuleRow,
    SHAPE_VERSION, Summary, WINDOW_DAYS, WritableUnit, links,
};
use crate::model::Fix;
use crate::rules::RuleId;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use std::collections::BTreeMap;

/// Why a report could not be made; callers answer 404 for [`ReportError::NotFound`].
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The owner has no repositories (or the repository is not one of them).
    #[error("no such owner or repository")]
    NotFound,
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A repository of the owner with its latest finished scan.
struct Repo {
    id: i64,
    owner: String,
    row: RepositoryRow,
}

type RepoTuple = (
    i64,
    String,
    String,
    bool,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<DateTime<Utc>>,
    Option<String>,
    i64,
);

/// The owner's repositories (case-insensitive owner, not removed), by name, each with the
/// counts of its latest finished scan and its open pull-request findings. `name` narrows the
/// list to one repository.
async fn repositories(
    pool: &PgPool,
    owner: &str,
    name: Option<&str>,
) -> Result<Vec<Repo>, ReportError> {
    let rows: Vec<RepoTuple> = sqlx::query_as(
        "with repos as (
             select id, owner, name, private from repositories
             where lower(owner) = lower($1) and removed_at is null
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
                s.finished_at, s.commit_sha, coalesce(o.n, 0)
         from repos r
         left join lateral (
             select units, read_only, suppressed, writable, unknown, finished_at, commit_sha
             from scans
             where repository_id = r.id and state = 'done' and finished_at is not null
             order by finished_at desc
             limit 1
         ) s on true
         left join open_findings o on o.repository_id = r.id
         order by lower(r.name), r.id",
    )
    .bind(owner)
    .bind(name)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, owner, name, private, u, ro, sup, w, unk, at, commit, open)| {
                let counts = Counts {
                    units: u.unwrap_or(0).into(),
                    read_only: ro.unwrap_or(0).into(),
                    suppressed: sup.unwrap_or(0).into(),
                    writable: w.unwrap_or(0).into(),
                    unknown: unk.unwrap_or(0).into(),
                };
                Repo {
                    id,
                    owner,
                    row: RepositoryRow {
                        name,
                        private,
                        read_only_share: counts.share(),
                        counts,
                        last_scan_at: at,
                        last_commit: commit,
                        open_pull_request_findings: open,
                    },
                }
            },
        )
        .collect())
}

/// Units per rule on default branches, and open pull-request findings per rule.
async fn rules(pool: &PgPool, ids: &[i64]) -> Result<Vec<RuleRow>, ReportError> {
    let units: Vec<(String, i64)> = sqlx::query_as(
        "select rule, count(*) from unit_states u cross join unnest(u.rules) as rule
         where u.repository_id = any($1) and u.valid_to is null and cardinality(u.rules) > 0
         group by rule",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let open: Vec<(String, i64)> = sqlx::query_as(
        "select f.rule, count(*) from findings f join pull_requests p on p.id = f.pull_request_id
         where f.repository_id = any($1) and f.state = 'open' and p.state = 'open'
         group by f.rule",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut by_rule: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (rule, n) in units {
        by_rule.entry(rule).or_default().0 += n;
    }
    for (rule, n) in open {
        by_rule.entry(rule).or_default().1 += n;
    }
    let mut rows: Vec<RuleRow> = by_rule
        .into_iter()
        .map(|(rule, (units, open))| RuleRow {
            title: RuleId::parse(&rule).map_or_else(|| rule.clone(), |r| r.title().to_string()),
            rule,
            units,
            open_pull_request_findings: open,
        })
        .collect();
    // Biggest problem first; ties by id so the order is stable.
    rows.sort_by(|a, b| {
        (b.units + b.open_pull_request_findings)
            .cmp(&(a.units + a.open_pull_request_findings))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    Ok(rows)
}

/// Checks, raised and fixed findings, and the median time to fix, over the window before `now`.
async fn activity(
    pool: &PgPool,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<PullRequestActivity, ReportError> {
    let since = now - Duration::days(WINDOW_DAYS);
    let (checks, raised, fixed, median): (i64, i64, i64, Option<f64>) = sqlx::query_as(
        "select
             (select count(*) from checks
              where repository_id = any($1) and started_at > $2 and started_at <= $3),
             (select count(*) from findings
              where repository_id = any($1) and state <> 'suppressed'
                and first_seen_at > $2 and first_seen_at <= $3),
             count(*),
             percentile_cont(0.5) within group (
                 order by extract(epoch from fixed_at - first_seen_at)::float8) / 3600.0
         from findings
         where repository_id = any($1) and fixed_at > $2 and fixed_at <= $3",
    )
    .bind(ids)
    .bind(since)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(PullRequestActivity {
        window_days: WINDOW_DAYS,
        checks,
        findings_raised: raised,
        findings_fixed: fixed,
        median_hours_to_fix: median,
    })
}

/// The owner's report as of `now`.
pub async fn owner_report(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<OwnerReport, ReportError> {
    let repos = repositories(pool, owner, None).await?;
    let Some(first) = repos.first() else {
        return Err(ReportError::NotFound);
    };
    let owner = first.owner.clone();
    let ids: Vec<i64> = repos.iter().map(|r| r.id).collect();
    let (weeks, before, rules, pull_requests) = tokio::try_join!(
        async { Ok::<_, ReportError>(trend::weekly_cached(pool, &ids, now).await?) },
        async { Ok(trend::at(pool, &ids, now - Duration::days(WINDOW_DAYS)).await?) },
        rules(pool, &ids),
        activity(pool, &ids, now),
    )?;
    let mut counts = Counts::default();
    for r in &repos {
        counts.add(&r.row.counts);
    }
    let share = counts.share();
    let share_before = before.share();
    let summary = Summary {
        repositories: repos.len() as i64,
        scanned_repositories: repos
            .iter()
            .filter(|r| r.row.last_scan_at.is_some())
            .count() as i64,
        counts,
        read_only_share: share,
        read_only_share_before: share_before,
        read_only_share_change: share.zip(share_before).map(|(now, then)| now - then),
        open_pull_request_findings: repos.iter().map(|r| r.row.open_pull_request_findings).sum(),
    };
    Ok(OwnerReport {
        version: SHAPE_VERSION,
        owner,
        generated_at: now,
        summary,
        trend: weeks,
        repositories: repos.into_iter().map(|r| r.row).collect(),
        rules,
        pull_requests,
    })
}

type UnitTuple = (
    String,
    i32,
    String,
    Option<String>,
    Option<String>,
    String,
    Vec<String>,
    String,
    Option<serde_json::Value>,
);

/// One repository's writable units; `web_url` is the forge's web root for the links.
pub async fn repository_report(
    pool: &PgPool,
    owner: &str,
    name: &str,
    web_url: &str,
) -> Result<RepositoryReport, ReportError> {
    let mut repos = repositories(pool, owner, Some(name)).await?;
    if repos.is_empty() {
        return Err(ReportError::NotFound);
    }
    let repo = repos.swap_remove(0);
    // The link uses the commit that first saw the unit in this state: its line number is
    // right for that commit even when later commits moved the unit without changing it.
    let units: Vec<UnitTuple> = sqlx::query_as(
        "select u.path, u.line, u.workload, u.container, u.image, u.state, u.rules,
                s.commit_sha, u.fix
         from unit_states u join scans s on s.id = u.valid_from_scan
         where u.repository_id = $1 and u.valid_to is null and u.state in ('false', 'unknown')
         order by u.path, u.line, u.workload, u.container nulls first",
    )
    .bind(repo.id)
    .fetch_all(pool)
    .await?;
    let writable_units = units
        .into_iter()
        .map(
            |(path, line, workload, container, image, state, rules, commit, fix)| WritableUnit {
                url: links::blob(web_url, &repo.owner, &repo.row.name, &commit, &path, line),
                // A patch stored in another shape is dropped, not fatal.
                fix: fix.and_then(|v| serde_json::from_value::<Fix>(v).ok()),
                path,
                line,
                workload,
                container,
                image,
                state,
                rules,
                commit,
            },
        )
        .collect();
    Ok(RepositoryReport {
        version: SHAPE_VERSION,
        owner: repo.owner,
        repository: repo.row,
        writable_units,
    })
}
