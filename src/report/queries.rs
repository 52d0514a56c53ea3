//! Reads one owner's report from the scan and pull-request history.
//!
//! The SQL is in [`crate::storage::report`]. Every query is scoped by the ids of the owner's
//! repositories, which the first query looks up; the rest run concurrently on the pool.

use super::{
    Counts, Exemption, ExemptionStatus, OverdueUnit, OwnerReport, PullRequestActivity,
    RepositoryReport, RepositoryRow, RuleRow, SHAPE_VERSION, Summary, TeamRow, TimeToFix,
    WINDOW_DAYS, WritableUnit, links,
};
use super::{teams, trend};
use crate::ids::Forge;
use crate::model::Fix;
use crate::rules::RuleId;
use crate::storage::{self, report::RepoScanRow};
use chrono::{DateTime, Duration, NaiveDate, Utc};
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
    forge: Forge,
    owner: String,
    row: RepositoryRow,
}

/// How an owner's report is narrowed and judged.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Only the units this team owns (`@org/team`, or `(no owner)`), when set.
    pub team: Option<&'a str>,
    /// Units writable longer than this many days are overdue.
    pub fix_target_days: u32,
    /// Overdue units listed at most, the longest writable first (all are counted).
    pub overdue_listed: usize,
}

/// `IMMUTABOT_FIX_TARGET_DAYS`' default.
pub const DEFAULT_FIX_TARGET_DAYS: u32 = 30;

/// Overdue units a report lists: an organisation's backlog can hold tens of thousands, which
/// made a 12 MB page; the team filter lists a team's own.
pub const OVERDUE_LISTED: usize = 200;

impl Default for View<'_> {
    fn default() -> Self {
        View {
            team: None,
            fix_target_days: DEFAULT_FIX_TARGET_DAYS,
            overdue_listed: OVERDUE_LISTED,
        }
    }
}

/// The forges' web roots, for links to files.
#[derive(Debug, Clone, Copy)]
pub struct WebRoots<'a> {
    /// GitHub's (`https://github.com`).
    pub github: &'a str,
    /// GitLab's, when GitLab is configured.
    pub gitlab: Option<&'a str>,
}

/// The owner's repositories (case-insensitive owner, not removed) on every forge, by name,
/// each with the counts of its latest finished scan and its open pull-request findings: a
/// GitHub account's, and a GitLab group's with its subgroups' (named from the group down,
/// `sub/project`). `name` narrows the list to one repository.
async fn repositories(
    pool: &PgPool,
    owner: &str,
    name: Option<&str>,
) -> Result<Vec<Repo>, ReportError> {
    let mut repos = Vec::new();
    for forge in [Forge::GitHub, Forge::GitLab] {
        let (owner, name) = split_nested(forge, owner, name);
        let rows = storage::report::repositories(pool, forge, &owner, name).await?;
        repos.extend(rows.into_iter().map(|r| repo_of(forge, r)));
    }
    for r in &mut repos {
        if r.forge == Forge::GitLab && r.owner.len() > owner.len() {
            // A subgroup's project is shown by its path below the asked-for group.
            r.row.name = format!("{}/{}", &r.owner[owner.len() + 1..], r.row.name);
        }
    }
    Ok(repos)
}

/// On GitLab, `owner`/`sub/project` is the project `project` of group `owner/sub`.
fn split_nested<'a>(forge: Forge, owner: &str, name: Option<&'a str>) -> (String, Option<&'a str>) {
    match (forge, name.and_then(|n| n.rsplit_once('/'))) {
        (Forge::GitLab, Some((sub, project))) => (format!("{owner}/{sub}"), Some(project)),
        _ => (owner.to_string(), name),
    }
}

fn repo_of(forge: Forge, r: RepoScanRow) -> Repo {
    let counts = Counts {
        units: r.units.unwrap_or(0).into(),
        read_only: r.read_only.unwrap_or(0).into(),
        suppressed: r.suppressed.unwrap_or(0).into(),
        writable: r.writable.unwrap_or(0).into(),
        unknown: r.unknown.unwrap_or(0).into(),
    };
    Repo {
        id: r.id,
        forge,
        owner: r.owner,
        row: RepositoryRow {
            name: r.name,
            private: r.private,
            read_only_share: counts.share(),
            counts,
            last_scan_at: r.finished_at,
            last_commit: r.commit_sha,
            open_pull_request_findings: r.open_findings,
            owners: Vec::new(),
        },
    }
}

/// Units per rule on default branches (of `team`'s units, when set), and open
/// pull-request findings per rule.
async fn rules(
    pool: &PgPool,
    ids: &[i64],
    team: Option<&str>,
) -> Result<Vec<RuleRow>, ReportError> {
    let units = match team {
        Some(team) => storage::owners::team_unit_rules(pool, ids, team).await?,
        None => storage::report::unit_rules(pool, ids).await?,
    };
    let open = storage::report::open_finding_rules(pool, ids).await?;
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
    let a = storage::report::activity(pool, ids, since, now).await?;
    Ok(PullRequestActivity {
        window_days: WINDOW_DAYS,
        checks: a.checks,
        findings_raised: a.raised,
        findings_fixed: a.fixed,
        median_hours_to_fix: a.median_hours,
    })
}

/// The owner's report as of `now`, every team, the default fix target.
pub async fn owner_report(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<OwnerReport, ReportError> {
    owner_report_with(pool, owner, now, View::default()).await
}

/// The owner's report as of `now`, narrowed to `view.team` when set: its repositories,
/// their counts, the weekly trend, the rules, the team table and the time to fix then cover
/// only that team's units (pull-request activity stays the owner's: pull requests have no
/// owner).
pub async fn owner_report_with(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
    view: View<'_>,
) -> Result<OwnerReport, ReportError> {
    let mut repos = repositories(pool, owner, None).await?;
    let Some(first) = repos.first() else {
        return Err(ReportError::NotFound);
    };
    let owner = first.owner.clone();
    let all_ids: Vec<i64> = repos.iter().map(|r| r.id).collect();
    if let Some(team) = view.team {
        narrow_to_team(pool, &mut repos, &all_ids, team).await?;
    }
    let ids: Vec<i64> = repos.iter().map(|r| r.id).collect();
    let then = now - Duration::days(WINDOW_DAYS);
    let (weeks, before, rules, pull_requests, ownership) = tokio::try_join!(
        async {
            Ok::<_, ReportError>(match view.team {
                Some(team) => trend::team_weekly(pool, &all_ids, team, now).await?,
                None => trend::weekly_cached(pool, &all_ids, now).await?,
            })
        },
        async {
            Ok(match view.team {
                Some(team) => trend::team_at(pool, &all_ids, team, then).await?,
                None => trend::at(pool, &all_ids, then).await?,
            })
        },
        rules(pool, &ids, view.team),
        activity(pool, &all_ids, now),
        ownership(pool, &repos, now, view),
    )?;
    let Ownership {
        teams,
        time_to_fix,
        overdue_units,
        overdue_total,
        repository_owners,
    } = ownership;
    for r in &mut repos {
        if let Some((_, owners)) = repository_owners.iter().find(|(id, _)| *id == r.id) {
            r.row.owners = owners.clone();
        }
    }
    let mut exemptions = exemptions(pool, &repos, None, now.date_naive()).await?;
    if let Some(team) = view.team {
        exemptions.retain(|e| teams::in_team(&e.owners, team));
    }
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
        team: view.team.map(str::to_string),
        teams,
        time_to_fix,
        overdue_units,
        overdue_total,
        exemptions,
    })
}

/// Keeps the repositories where `team` owns current units, each with the counts of those
/// units only.
async fn narrow_to_team(
    pool: &PgPool,
    repos: &mut Vec<Repo>,
    ids: &[i64],
    team: &str,
) -> Result<(), ReportError> {
    let counts = storage::owners::team_repository_counts(pool, ids, team).await?;
    repos.retain_mut(|r| {
        let Some(c) = counts.iter().find(|c| c.repository_id == r.id) else {
            return false;
        };
        let c = c.counts;
        r.row.counts = Counts {
            units: c.units,
            read_only: c.read_only,
            suppressed: c.suppressed,
            writable: c.writable,
            unknown: c.unknown,
        };
        r.row.read_only_share = r.row.counts.share();
        true
    });
    Ok(())
}

/// The report's ownership parts.
struct Ownership {
    teams: Vec<TeamRow>,
    time_to_fix: TimeToFix,
    overdue_units: Vec<OverdueUnit>,
    overdue_total: i64,
    repository_owners: Vec<(i64, Vec<String>)>,
}

/// The team table, time to fix and overdue units of `repos` (of `view.team`, when set).
async fn ownership(
    pool: &PgPool,
    repos: &[Repo],
    now: DateTime<Utc>,
    view: View<'_>,
) -> Result<Ownership, ReportError> {
    let ids: Vec<i64> = repos.iter().map(|r| r.id).collect();
    let (mut counts, mut episodes, repository_owners) = tokio::try_join!(
        storage::owners::team_counts(pool, &ids),
        storage::owners::episodes(pool, &ids),
        storage::owners::repository_owners(pool, &ids),
    )?;
    if let Some(team) = view.team {
        counts.retain(|c| c.team.eq_ignore_ascii_case(team));
        episodes.retain(|e| teams::in_team(&e.owners, team));
    }
    let name = |id: i64| {
        repos
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.row.name.clone())
    };
    let (mut time_to_fix, mut overdue_units) =
        teams::time_to_fix(&episodes, view.fix_target_days, now, name);
    let overdue_total = overdue_units.len() as i64;
    overdue_units.truncate(view.overdue_listed);
    if let Some(team) = view.team {
        time_to_fix
            .by_team
            .retain(|t| t.team.eq_ignore_ascii_case(team));
    }
    Ok(Ownership {
        teams: teams::team_rows(counts, &time_to_fix),
        time_to_fix,
        overdue_units,
        overdue_total,
        repository_owners,
    })
}

/// The repositories' exemptions as of `today`, with links when `web` is given.
async fn exemptions(
    pool: &PgPool,
    repos: &[Repo],
    web: Option<WebRoots<'_>>,
    today: NaiveDate,
) -> Result<Vec<Exemption>, ReportError> {
    let ids: Vec<i64> = repos.iter().map(|r| r.id).collect();
    let rows = storage::exemptions::current(pool, &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|e| {
            let repo = repos.iter().find(|r| r.id == e.repository_id)?;
            let days_left = e.expires.map(|d| (d - today).num_days());
            Some(Exemption {
                repository: repo.row.name.clone(),
                url: web.map(|web| link(repo, web, &e.commit_sha, &e.path, e.line)),
                status: exemption_status(days_left),
                days_left,
                path: e.path,
                line: e.line,
                workload: e.workload,
                container: e.container,
                kind: e.kind,
                reason: e.reason,
                expires: e.expires,
                owners: e.owners,
            })
        })
        .collect())
}

/// Expired after its last day; expiring within [`crate::expiry::SOON_DAYS`] days of it.
fn exemption_status(days_left: Option<i64>) -> ExemptionStatus {
    match days_left {
        Some(d) if d < 0 => ExemptionStatus::Expired,
        Some(d) if d <= crate::expiry::SOON_DAYS => ExemptionStatus::Expiring,
        _ => ExemptionStatus::Active,
    }
}

/// A unit's file and line on its forge's web interface.
fn link(repo: &Repo, web: WebRoots<'_>, commit: &str, path: &str, line: i32) -> String {
    match repo.forge {
        Forge::GitHub => links::blob(web.github, &repo.owner, &repo.row.name, commit, path, line),
        Forge::GitLab => {
            let project = repo.row.name.rsplit('/').next().unwrap_or(&repo.row.name);
            let full = format!("{}/{project}", repo.owner);
            let root = web.gitlab.unwrap_or(crate::settings::GITLAB_DEFAULT_URL);
            links::gitlab_blob(root, &full, commit, path, line)
        }
    }
}

/// One repository's writable units, with links to the forges' web interfaces.
pub async fn repository_report(
    pool: &PgPool,
    owner: &str,
    name: &str,
    web: WebRoots<'_>,
) -> Result<RepositoryReport, ReportError> {
    let mut repos = repositories(pool, owner, Some(name)).await?;
    if repos.is_empty() {
        return Err(ReportError::NotFound);
    }
    let repo = repos.swap_remove(0);
    // The link uses the commit that first saw the unit in this state: its line number is
    // right for that commit even when later commits moved the unit without changing it.
    let units = storage::report::writable_units(pool, repo.id).await?;
    let writable_units = units
        .into_iter()
        .map(|u| WritableUnit {
            url: link(&repo, web, &u.commit_sha, &u.path, u.line),
            // A patch stored in another shape is dropped, not fatal.
            fix: u.fix.and_then(|v| serde_json::from_value::<Fix>(v).ok()),
            path: u.path,
            line: u.line,
            workload: u.workload,
            container: u.container,
            image: u.image,
            state: u.state,
            rules: u.rules,
            commit: u.commit_sha,
            owners: u.owners,
        })
        .collect();
    let today = Utc::now().date_naive();
    let exemptions = exemptions(pool, std::slice::from_ref(&repo), Some(web), today).await?;
    Ok(RepositoryReport {
        version: SHAPE_VERSION,
        owner: repo.owner,
        repository: repo.row,
        writable_units,
        exemptions,
    })
}
