//! The report as HTML: askama templates under `templates/report/`, styles and the table
//! sorting script inline, so the page loads nothing from the network and prints as is.

use super::{OwnerReport, RepositoryReport, RepositoryRow, chart};
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
}

#[derive(Template)]
#[template(path = "report/repository.html")]
struct RepositoryPage<'a> {
    r: &'a RepositoryReport,
    owner_href: String,
    share: String,
    last_scan: String,
    /// Where the fix-all pull request button posts, relative to the page.
    fix_action: String,
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
    })
}

/// One repository's page: every writable unit with its link and patch.
pub fn repository_page(r: &RepositoryReport) -> String {
    super::render_page(&RepositoryPage {
        r,
        owner_href: format!("../{}", path_segment(&r.owner)),
        fix_action: format!("{}/fix-pull-request", path_segment(&r.repository.name)),
        share: percent(r.repository.read_only_share),
        last_scan: r
            .repository
            .last_scan_at
            .map_or("never".to_string(), timestamp),
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
