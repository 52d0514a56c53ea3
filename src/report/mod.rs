//! The org-wide compliance report: what one owner's repositories look like today, how that
//! changed week by week, and what pull requests did about it.
//!
//! [`queries`] reads the scan and pull-request history into the plain types below; the
//! renderers ([`html`], [`csv`], and serde for JSON) never touch the database, so the server
//! and `immutabot report` print exactly the same thing.

pub mod chart;
pub mod csv;
pub mod html;
pub mod links;
pub mod queries;
pub mod teams;
pub mod trend;

use crate::model::Fix;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Version of the JSON shape; bumped only on incompatible changes (see docs/report.md).
pub const SHAPE_VERSION: u32 = 1;

/// Renders a template; rendering into a `String` fails only if a value's `Display` fails,
/// and ours never do.
fn render_page(t: &impl askama::Template) -> String {
    t.render()
        .unwrap_or_else(|e| format!("immutabot could not render this page: {e}"))
}

/// Days the "change" figures and the pull-request activity look back.
pub const WINDOW_DAYS: i64 = 30;

/// Everything the report says about one owner (organisation or user).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnerReport {
    /// Shape version ([`SHAPE_VERSION`]).
    pub version: u32,
    /// The owner as stored on its repositories (GitHub's spelling).
    pub owner: String,
    /// When the report was computed.
    pub generated_at: DateTime<Utc>,
    /// Headline figures.
    pub summary: Summary,
    /// Read-only share at the end of every week of the history, oldest first.
    pub trend: Vec<TrendPoint>,
    /// One row per repository, by name.
    pub repositories: Vec<RepositoryRow>,
    /// One row per rule that has current units or open pull-request findings.
    pub rules: Vec<RuleRow>,
    /// Pull-request activity over the last [`WINDOW_DAYS`] days.
    pub pull_requests: PullRequestActivity,
    /// The team the report is narrowed to (`?team=`), if any.
    pub team: Option<String>,
    /// One row per owner of current units (CODEOWNERS), `(no owner)` included.
    pub teams: Vec<TeamRow>,
    /// Time from first seen writable to fixed on the default branch.
    pub time_to_fix: TimeToFix,
    /// Units writable for longer than the target, oldest first: the first
    /// [`queries::OVERDUE_LISTED`] of them.
    pub overdue_units: Vec<OverdueUnit>,
    /// How many units are writable for longer than the target, listed or not.
    pub overdue_total: i64,
    /// Every exemption on the default branches, the soonest to lapse first.
    pub exemptions: Vec<Exemption>,
}

/// Unit counts of one or more scans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Services and containers.
    pub units: i64,
    /// Read-only ones.
    pub read_only: i64,
    /// Exempted by a suppression (never counted as read-only).
    pub suppressed: i64,
    /// Writable ones.
    pub writable: i64,
    /// Ones whose status the file does not decide.
    pub unknown: i64,
}

impl Counts {
    /// Read-only units over all units; `None` without units.
    pub fn share(&self) -> Option<f64> {
        (self.units > 0).then(|| self.read_only as f64 / self.units as f64)
    }

    /// Adds another repository's counts.
    pub fn add(&mut self, other: &Counts) {
        self.units += other.units;
        self.read_only += other.read_only;
        self.suppressed += other.suppressed;
        self.writable += other.writable;
        self.unknown += other.unknown;
    }
}

/// The headline figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Repositories of the owner (not removed from the installation).
    pub repositories: i64,
    /// Of those, repositories with at least one finished scan.
    pub scanned_repositories: i64,
    /// Counts over each repository's latest finished scan.
    #[serde(flatten)]
    pub counts: Counts,
    /// `read_only / units` (0..1); `null` without units.
    pub read_only_share: Option<f64>,
    /// The share [`WINDOW_DAYS`] days ago; `null` when nothing was scanned by then.
    pub read_only_share_before: Option<f64>,
    /// `read_only_share - read_only_share_before`; `null` when either is.
    pub read_only_share_change: Option<f64>,
    /// Findings still open on open pull requests.
    pub open_pull_request_findings: i64,
}

/// The state at the end of one week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// Sunday of the week (weeks start on Monday, UTC).
    pub week_end: NaiveDate,
    /// Repositories scanned by then.
    pub repositories: i64,
    /// Counts over each repository's last finished scan at or before the week's end.
    #[serde(flatten)]
    pub counts: Counts,
    /// `read_only / units`; `null` without units.
    pub read_only_share: Option<f64>,
}

/// One repository's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepositoryRow {
    /// Repository name (without the owner).
    pub name: String,
    /// Private on GitHub.
    pub private: bool,
    /// Counts of the latest finished scan (zero when never scanned).
    #[serde(flatten)]
    pub counts: Counts,
    /// `read_only / units`; `null` without units.
    pub read_only_share: Option<f64>,
    /// When the latest finished scan ended; `null` when never scanned.
    pub last_scan_at: Option<DateTime<Utc>>,
    /// The commit that scan read.
    pub last_commit: Option<String>,
    /// Findings still open on open pull requests.
    pub open_pull_request_findings: i64,
    /// Owners (CODEOWNERS) of its current units, sorted.
    pub owners: Vec<String>,
}

/// How many units break one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRow {
    /// Stable rule id, e.g. `writable-root-filesystem`.
    pub rule: String,
    /// One-line title (the id again for a rule this build does not know).
    pub title: String,
    /// Current units on default branches with an unsuppressed finding of this rule.
    pub units: i64,
    /// Findings of this rule still open on open pull requests.
    pub open_pull_request_findings: i64,
}

/// What pull requests did over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullRequestActivity {
    /// The window, in days.
    pub window_days: i64,
    /// Checks started (one per pull-request head commit).
    pub checks: i64,
    /// Findings first seen in the window.
    pub findings_raised: i64,
    /// Findings fixed in the window.
    pub findings_fixed: i64,
    /// Median time from first seen to fixed of the findings fixed in the window, in hours.
    pub median_hours_to_fix: Option<f64>,
}

/// Everything the report says about one repository: every unit that is not read-only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepositoryReport {
    /// Shape version ([`SHAPE_VERSION`]).
    pub version: u32,
    /// The owner as stored.
    pub owner: String,
    /// The row the owner's report shows for it.
    pub repository: RepositoryRow,
    /// Writable units (state `false` or `unknown`), by path and line.
    pub writable_units: Vec<WritableUnit>,
    /// The repository's exemptions, the soonest to lapse first.
    pub exemptions: Vec<Exemption>,
}

/// One writable unit of a repository's default branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WritableUnit {
    /// File path in the repository.
    pub path: String,
    /// 1-based line of the service key or container name.
    pub line: i32,
    /// Compose service or Kubernetes `Kind/name`.
    pub workload: String,
    /// Kubernetes container name.
    pub container: Option<String>,
    /// Image reference as written.
    pub image: Option<String>,
    /// `false` (writable) or `unknown`.
    pub state: String,
    /// Unsuppressed rule ids.
    pub rules: Vec<String>,
    /// Commit the line refers to (the scan that first saw the unit in this state).
    pub commit: String,
    /// The file and line on the forge.
    pub url: String,
    /// The suggested patch, when one can be made safely.
    pub fix: Option<Fix>,
    /// Its file's owners (CODEOWNERS), in the file's order.
    pub owners: Vec<String>,
}

/// Time to fix of one group: fixes counted, their median and 90th percentile, and the
/// units of the group writable for longer than the target.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FixTimes {
    /// Writable stretches that ended read-only on the default branch.
    pub fixed: i64,
    /// Median hours from first seen writable to fixed; `null` without fixes.
    pub median_hours: Option<f64>,
    /// 90th percentile of the same, in hours.
    pub p90_hours: Option<f64>,
    /// Units writable now for longer than the target.
    pub overdue: i64,
}

/// Time to fix of one severity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityTimes {
    /// `error`, `warning`, `info` (`(unrated)` for history stored before severities).
    pub severity: String,
    /// Its figures.
    #[serde(flatten)]
    pub times: FixTimes,
}

/// Time to fix of one team.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamTimes {
    /// The owner, or `(no owner)`.
    pub team: String,
    /// Its figures.
    #[serde(flatten)]
    pub times: FixTimes,
}

/// Time to fix on default branches.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimeToFix {
    /// The target (`IMMUTABOT_FIX_TARGET_DAYS`): units writable longer are overdue.
    pub target_days: u32,
    /// Per severity: error, warning, info.
    pub by_severity: Vec<SeverityTimes>,
    /// Per team, by name.
    pub by_team: Vec<TeamTimes>,
}

/// One team's row of the per-team table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamRow {
    /// The owner as CODEOWNERS writes it (`@org/team`, a user, an email), or `(no owner)`.
    pub team: String,
    /// Current units it owns.
    pub units: i64,
    /// Of those, read-only.
    pub read_only: i64,
    /// Writable or undecided.
    pub writable: i64,
    /// Repositories holding them.
    pub repositories: i64,
    /// Its time to fix.
    #[serde(flatten)]
    pub times: FixTimes,
}

/// A unit writable on its default branch for longer than the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdueUnit {
    /// Repository name.
    pub repository: String,
    /// File path.
    pub path: String,
    /// Line.
    pub line: i32,
    /// Workload.
    pub workload: String,
    /// Container.
    pub container: Option<String>,
    /// Owners (CODEOWNERS).
    pub owners: Vec<String>,
    /// Highest severity of its findings.
    pub severity: String,
    /// When a scan first saw it writable.
    pub writable_since: DateTime<Utc>,
    /// Whole days since.
    pub days_writable: i64,
}

/// Where an exemption stands on the report's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExemptionStatus {
    /// Holds, with no date or a date more than [`crate::expiry::SOON_DAYS`] days away.
    Active,
    /// Holds, but lapses within [`crate::expiry::SOON_DAYS`] days.
    Expiring,
    /// Its last day has passed: the finding counts again.
    Expired,
}

/// One exemption of a unit on a default branch: a suppression comment, an annotation or a
/// `.immutabot.yml` entry, with its reason and expiry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exemption {
    /// Repository name (without the owner).
    pub repository: String,
    /// File path in the repository.
    pub path: String,
    /// 1-based line of the unit.
    pub line: i32,
    /// Compose service or Kubernetes `Kind/name`.
    pub workload: String,
    /// Kubernetes container name.
    pub container: Option<String>,
    /// How it is written: `comment`, `annotation` or `config`.
    pub kind: String,
    /// The reason given.
    pub reason: String,
    /// Its last day; `null` when it never expires.
    pub expires: Option<NaiveDate>,
    /// Days from the report's day to `expires` (negative once lapsed).
    pub days_left: Option<i64>,
    /// Active, expiring soon, or expired.
    pub status: ExemptionStatus,
    /// Teams or people owning the unit (CODEOWNERS); empty when no line owns its file.
    pub owners: Vec<String>,
    /// The unit's file and line on the forge (repository pages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}
