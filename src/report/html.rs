//! The report as HTML: askama templates under `templates/report/`, styles and the table
//! sorting script inline, so the page loads nothing from the network and prints as is.

use super::{
    Exemption, ExemptionStatus, FixTimes, OwnerReport, RepositoryReport, RepositoryRow, chart,
};
use askama::Template;
use chrono::{DateTime, Utc};

/// One repository row, formatted, with the values the sorting script compares.
struct RowView {
    name: String,
    href: String,
    private: bool,
    units: i64,
    read_only: i64,
    suppressed: i64,
    writable: i64,
    share: String,
    /// -1 for a repository without units, so those sort before 0 %.
    share_sort: String,
    /// Width of the share bar, CSS.
    bar: String,
    last_scan: String,
    last_scan_sort: String,
    commit: String,
    open: i64,
}

/// One row of the team table, formatted.
struct TeamView {
    team: String,
    /// `?team=…`: the owner page narrowed to this team.
    href: String,
    units: i64,
    writable: i64,
    repositories: i64,
    median: String,
    median_sort: String,
    p90: String,
    p90_sort: String,
    overdue: i64,
}

/// One severity's time to fix, formatted.
struct SeverityView {
    severity: String,
    fixed: i64,
    median: String,
    p90: String,
    overdue: i64,
}

/// One overdue unit, formatted.
struct OverdueView {
    repository: String,
    href: String,
    path: String,
    line: i32,
    unit: String,
    owners: String,
    days: i64,
}

#[derive(Template)]
#[template(path = "report/owner.html")]
struct OwnerPage<'a> {
    r: &'a OwnerReport,
    generated: String,
    share: String,
    change: String,
    change_class: &'static str,
    chart: String,
    rows: Vec<RowView>,
    median: String,
    teams: Vec<TeamView>,
    severities: Vec<SeverityView>,
    overdue: Vec<OverdueView>,
    /// Overdue units in all, listed or not.
    overdue_total: i64,
    target_days: u32,
    exemptions: Vec<ExemptionView>,
    soon: usize,
    expired: usize,
    soon_days: i64,
}

#[derive(Template)]
#[template(path = "report/repository.html")]
struct RepositoryPage<'a> {
    r: &'a RepositoryReport,
    owner_href: String,
    share: String,
    last_scan: String,
    exemptions: Vec<ExemptionView>,
    soon: usize,
    expired: usize,
    soon_days: i64,
    /// Where the fix-all pull request button posts, relative to the page; no button when
    /// `None`.
    fix_action: Option<String>,
}

/// One exemption, formatted for `report/exemptions.html`.
struct ExemptionView {
    /// `repo: path:line` on the owner's page, `path:line` on a repository's.
    place: String,
    href: Option<String>,
    unit: String,
    kind: &'static str,
    reason: String,
    owners: String,
    expires: String,
    /// `active`, `expiring` or `expired`: the row's class.
    status: &'static str,
    /// "in 12 days", "expired 3 days ago"; empty when nothing is due.
    flag: String,
}

fn exemption_views(list: &[Exemption], with_repository: bool) -> Vec<ExemptionView> {
    list.iter()
        .map(|e| ExemptionView {
            place: if with_repository {
                format!("{}: {}:{}", e.repository, e.path, e.line)
            } else {
                format!("{}:{}", e.path, e.line)
            },
            href: e.url.clone(),
            unit: match &e.container {
                Some(c) => format!("{} / {c}", e.workload),
                None => e.workload.clone(),
            },
            kind: match e.kind.as_str() {
                "comment" => "ignore comment",
                "annotation" => "annotation",
                "config" => ".immutabot.yml",
                _ => "other",
            },
            reason: e.reason.clone(),
            owners: e.owners.join(", "),
            expires: e.expires.map_or("never".to_string(), |d| d.to_string()),
            status: match e.status {
                ExemptionStatus::Active => "active",
                ExemptionStatus::Expiring => "expiring",
                ExemptionStatus::Expired => "expired",
            },
            flag: match (e.status, e.days_left) {
                (ExemptionStatus::Expiring, Some(0)) => "expires today".to_string(),
                (ExemptionStatus::Expiring, Some(1)) => "expires tomorrow".to_string(),
                (ExemptionStatus::Expiring, Some(d)) => format!("expires in {d} days"),
                (ExemptionStatus::Expired, Some(-1)) => "expired yesterday".to_string(),
                (ExemptionStatus::Expired, Some(d)) => format!("expired {} days ago", -d),
                _ => String::new(),
            },
        })
        .collect()
}

/// How many exemptions are in `status`.
fn in_status(list: &[Exemption], status: ExemptionStatus) -> usize {
    list.iter().filter(|e| e.status == status).count()
}

/// The owner's report page. Repository links are relative to `/report/{owner}`.
pub fn owner_page(r: &OwnerReport) -> String {
    let (change, change_class) = match r.summary.read_only_share_change {
        None => ("no scan 30 days ago".to_string(), "flat"),
        Some(c) if c.abs() < 0.0005 => ("±0.0 points in 30 days".to_string(), "flat"),
        Some(c) if c > 0.0 => (format!("+{:.1} points in 30 days", c * 100.0), "up"),
        Some(c) => (format!("{:.1} points in 30 days", c * 100.0), "down"),
    };
    let mut rows: Vec<&RepositoryRow> = r.repositories.iter().collect();
    // Least compliant first: that is what a reader acts on. Unscanned repositories last.
    rows.sort_by(|a, b| {
        let key = |x: &RepositoryRow| x.read_only_share.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
    });
    let rows = rows
        .into_iter()
        .map(|row| RowView {
            href: format!("{}/{}", path_segment(&r.owner), path_segment(&row.name)),
            name: row.name.clone(),
            private: row.private,
            units: row.counts.units,
            read_only: row.counts.read_only,
            suppressed: row.counts.suppressed,
            writable: row.counts.writable + row.counts.unknown,
            share: percent(row.read_only_share),
            share_sort: row
                .read_only_share
                .map_or("-1".to_string(), |s| format!("{s:.6}")),
            bar: format!("{:.1}%", row.read_only_share.unwrap_or(0.0) * 100.0),
            last_scan: row.last_scan_at.map_or("never".to_string(), timestamp),
            last_scan_sort: row.last_scan_at.map_or(String::new(), |t| t.to_rfc3339()),
            commit: row
                .last_commit
                .as_deref()
                .map_or(String::new(), |c| c.chars().take(7).collect()),
            open: row.open_pull_request_findings,
        })
        .collect();
    super::render_page(&OwnerPage {
        r,
        generated: timestamp(r.generated_at),
        share: percent(r.summary.read_only_share),
        change,
        change_class,
        chart: chart::trend_svg(&r.trend),
        rows,
        median: r
            .pull_requests
            .median_hours_to_fix
            .map_or("—".to_string(), hours),
        teams: team_views(r),
        severities: severity_views(r),
        overdue: overdue_views(r),
        overdue_total: r.overdue_total,
        target_days: r.time_to_fix.target_days,
        exemptions: exemption_views(&r.exemptions, true),
        soon: in_status(&r.exemptions, ExemptionStatus::Expiring),
        expired: in_status(&r.exemptions, ExemptionStatus::Expired),
        soon_days: crate::expiry::SOON_DAYS,
    })
}

/// A duration in hours as the page shows it, or a dash.
fn duration(h: Option<f64>) -> String {
    h.map_or("—".to_string(), hours)
}

/// The value the sorting script compares: unknown durations last.
fn duration_sort(h: Option<f64>) -> String {
    h.map_or("1e12".to_string(), |h| format!("{h:.3}"))
}

fn team_views(r: &OwnerReport) -> Vec<TeamView> {
    r.teams
        .iter()
        .map(|t| {
            let FixTimes {
                median_hours: median,
                p90_hours: p90,
                ..
            } = t.times;
            TeamView {
                href: format!("?team={}", query_value(&t.team)),
                team: t.team.clone(),
                units: t.units,
                writable: t.writable,
                repositories: t.repositories,
                median: duration(median),
                median_sort: duration_sort(median),
                p90: duration(p90),
                p90_sort: duration_sort(p90),
                overdue: t.times.overdue,
            }
        })
        .collect()
}

fn severity_views(r: &OwnerReport) -> Vec<SeverityView> {
    r.time_to_fix
        .by_severity
        .iter()
        .map(|s| SeverityView {
            severity: s.severity.clone(),
            fixed: s.times.fixed,
            median: duration(s.times.median_hours),
            p90: duration(s.times.p90_hours),
            overdue: s.times.overdue,
        })
        .collect()
}

fn overdue_views(r: &OwnerReport) -> Vec<OverdueView> {
    r.overdue_units
        .iter()
        .map(|u| OverdueView {
            href: format!("{}/{}", path_segment(&r.owner), path_segment(&u.repository)),
            repository: u.repository.clone(),
            path: u.path.clone(),
            line: u.line,
            unit: match &u.container {
                Some(c) => format!("{} / {c}", u.workload),
                None => u.workload.clone(),
            },
            owners: if u.owners.is_empty() {
                crate::owners::NO_OWNER.to_string()
            } else {
                u.owners.join(" ")
            },
            days: u.days_writable,
        })
        .collect()
}

/// A query-string value, percent-encoded except for unreserved characters.
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One repository's page: every writable unit with its link and patch, and with
/// `fix_button` the button that asks for its fix-all pull request.
pub fn repository_page(r: &RepositoryReport, fix_button: bool) -> String {
    super::render_page(&RepositoryPage {
        r,
        owner_href: format!("../{}", path_segment(&r.owner)),
        fix_action: fix_button
            .then(|| format!("{}/fix-pull-request", path_segment(&r.repository.name))),
        share: percent(r.repository.read_only_share),
        last_scan: r
            .repository
            .last_scan_at
            .map_or("never".to_string(), timestamp),
        exemptions: exemption_views(&r.exemptions, false),
        soon: in_status(&r.exemptions, ExemptionStatus::Expiring),
        expired: in_status(&r.exemptions, ExemptionStatus::Expired),
        soon_days: crate::expiry::SOON_DAYS,
    })
}

/// `63.2 %`, or a dash without units.
pub fn percent(share: Option<f64>) -> String {
    share.map_or("—".to_string(), |s| format!("{:.1} %", s * 100.0))
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn hours(h: f64) -> String {
    if h < 48.0 {
        format!("{h:.1} hours")
    } else {
        format!("{:.1} days", h / 24.0)
    }
}

/// GitHub names are `[A-Za-z0-9._-]`; anything else is encoded so a link stays one segment.
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
