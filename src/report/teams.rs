//! Ownership and time to fix, pure: the per-team table, the median and 90th percentile time
//! from first seen to fixed (per severity and per team), and the units writable for longer
//! than the target, from the rows [`crate::storage::owners`] reads.

use super::{FixTimes, OverdueUnit, SeverityTimes, TeamRow, TeamTimes, TimeToFix};
use crate::owners::NO_OWNER;
use crate::storage::owners::{EpisodeRow, TeamCountRow};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Severities in the order the report lists them; anything else (rows stored before
/// severities were) comes after them.
const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

/// What an episode's severity is shown as when its row has none.
pub const UNRATED: &str = "(unrated)";

/// The owner groups of an episode or unit: its owners, or [`NO_OWNER`].
fn groups(owners: &[String]) -> Vec<&str> {
    if owners.is_empty() {
        vec![NO_OWNER]
    } else {
        owners.iter().map(String::as_str).collect()
    }
}

/// Whether `owners` puts a unit in `team` (case-insensitive, as the forges compare names).
pub fn in_team(owners: &[String], team: &str) -> bool {
    groups(owners).iter().any(|g| g.eq_ignore_ascii_case(team))
}

/// The `p` quantile (0..=1) of sorted values, interpolated like Postgres'
/// `percentile_cont`; `None` without values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p.clamp(0.0, 1.0) * last as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
}

/// Collects hours to fix and overdue counts for one group.
#[derive(Default)]
struct Tally {
    hours: Vec<f64>,
    overdue: i64,
}

impl Tally {
    fn times(mut self) -> FixTimes {
        self.hours.sort_by(f64::total_cmp);
        FixTimes {
            fixed: self.hours.len() as i64,
            median_hours: percentile(&self.hours, 0.5),
            p90_hours: percentile(&self.hours, 0.9),
            overdue: self.overdue,
        }
    }
}

/// Time to fix per severity and per team, and the overdue units (oldest first), as of
/// `now`. `repository` names a repository row id.
pub fn time_to_fix(
    episodes: &[EpisodeRow],
    target_days: u32,
    now: DateTime<Utc>,
    repository: impl Fn(i64) -> Option<String>,
) -> (TimeToFix, Vec<OverdueUnit>) {
    let target = Duration::days(target_days.into());
    let mut by_severity: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_team: BTreeMap<String, Tally> = BTreeMap::new();
    let mut overdue = Vec::new();
    for e in episodes {
        let severity = e.severity.clone().unwrap_or_else(|| UNRATED.to_string());
        let late = e.fixed_at.is_none() && now - e.first_seen > target;
        let hours = e
            .fixed_at
            .map(|t| (t - e.first_seen).num_seconds() as f64 / 3600.0);
        let count = |t: &mut Tally| {
            t.hours.extend(hours);
            t.overdue += i64::from(late);
        };
        count(by_severity.entry(severity.clone()).or_default());
        for team in groups(&e.owners) {
            count(by_team.entry(team.to_string()).or_default());
        }
        if late && let Some(name) = repository(e.repository_id) {
            overdue.push(OverdueUnit {
                repository: name,
                path: e.path.clone(),
                line: e.line,
                workload: e.workload.clone(),
                container: e.container.clone(),
                owners: e.owners.clone(),
                severity,
                writable_since: e.first_seen,
                days_writable: (now - e.first_seen).num_days(),
            });
        }
    }
    overdue.sort_by(|a, b| {
        (a.writable_since, &a.repository, &a.path, a.line).cmp(&(
            b.writable_since,
            &b.repository,
            &b.path,
            b.line,
        ))
    });
    let mut severities: Vec<SeverityTimes> = by_severity
        .into_iter()
        .map(|(severity, t)| SeverityTimes {
            severity,
            times: t.times(),
        })
        .collect();
    let order = |s: &str| {
        SEVERITIES
            .iter()
            .position(|x| *x == s)
            .unwrap_or(SEVERITIES.len())
    };
    severities.sort_by_key(|s| order(&s.severity));
    let teams = by_team
        .into_iter()
        .map(|(team, t)| TeamTimes {
            team,
            times: t.times(),
        })
        .collect();
    (
        TimeToFix {
            target_days,
            by_severity: severities,
            by_team: teams,
        },
        overdue,
    )
}

/// The per-team table: current counts joined with each team's time to fix, most writable
/// units first, `(no owner)` last among equals.
pub fn team_rows(counts: Vec<TeamCountRow>, times: &TimeToFix) -> Vec<TeamRow> {
    let mut rows: Vec<TeamRow> = counts
        .into_iter()
        .map(|c| TeamRow {
            times: times
                .by_team
                .iter()
                .find(|t| t.team == c.team)
                .map_or_else(FixTimes::default, |t| t.times.clone()),
            team: c.team,
            units: c.units,
            read_only: c.read_only,
            writable: c.writable,
            repositories: c.repositories,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.writable
            .cmp(&a.writable)
            .then_with(|| (a.team == NO_OWNER).cmp(&(b.team == NO_OWNER)))
            .then_with(|| a.team.to_lowercase().cmp(&b.team.to_lowercase()))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::days(day)
    }

    fn episode(owners: &[&str], severity: &str, first: i64, fixed: Option<i64>) -> EpisodeRow {
        EpisodeRow {
            repository_id: 1,
            path: format!("p{first}.yaml"),
            line: 1,
            workload: "w".into(),
            container: None,
            owners: owners.iter().map(|s| s.to_string()).collect(),
            severity: Some(severity.into()),
            first_seen: at(first),
            fixed_at: fixed.map(at),
        }
    }

    #[test]
    fn percentiles_interpolate_like_postgres() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[4.0], 0.9), Some(4.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        let p90 = percentile(&[10.0, 20.0, 30.0, 40.0, 50.0], 0.9).unwrap();
        assert!((p90 - 46.0).abs() < 1e-9);
    }

    #[test]
    fn fixed_episodes_give_the_times_and_open_old_ones_are_overdue() {
        let episodes = [
            episode(&["@a/ops"], "error", 0, Some(1)),
            episode(&["@a/ops"], "error", 0, Some(3)),
            episode(&["@a/ops", "@a/web"], "warning", 10, None),
            episode(&[], "error", 50, None),
        ];
        let (t, overdue) = time_to_fix(&episodes, 30, at(60), |_| Some("shop".into()));
        let ops = t.by_team.iter().find(|x| x.team == "@a/ops").unwrap();
        assert_eq!((ops.times.fixed, ops.times.overdue), (2, 1));
        assert_eq!(ops.times.median_hours, Some(48.0));
        let none = t.by_team.iter().find(|x| x.team == NO_OWNER).unwrap();
        assert_eq!((none.times.fixed, none.times.overdue), (0, 0));
        let sev: Vec<&str> = t.by_severity.iter().map(|s| s.severity.as_str()).collect();
        assert_eq!(sev, ["error", "warning"]);
        assert_eq!(overdue.len(), 1);
        assert_eq!(
            (overdue[0].days_writable, overdue[0].path.as_str()),
            (50, "p10.yaml")
        );
    }
}
