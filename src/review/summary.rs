//! The check run's visible output: a one-line title and a Markdown summary with a table per
//! file and per finding, kept under GitHub's 65,535-character limit by dropping rows.

use crate::analyze::NOT_RECOGNISED;
use crate::config::{FilterMode, Gate};
use crate::forge::{CheckOutput, Conclusion};
use crate::model::{Format, ReadOnly, Role};
use crate::review::baseline::AddedExemption;
use crate::review::plan::{
    AnnotationReason, PRE_EXISTING, Placement, Plan, PlannedFinding, ReviewFile,
};
use crate::review::render::{plural, render};
use crate::review::{MAX_SUMMARY_CHARS, escape};
use crate::rules::RuleId;
use askama::Template;
use std::cmp::Reverse;

/// Something the summary must say that the plan does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// `.immutabot.yml` changed in the pull request; the base branch's version was used.
    ConfigChanged,
    /// The base branch's `.immutabot.yml` could not be used (the message says why).
    ConfigInvalid(String),
    /// Any other remark, as plain text (it is escaped).
    Text(String),
}

struct FileRow {
    path: String,
    units: usize,
    read_only: usize,
    findings: usize,
}

struct FindingRow {
    rule: String,
    location: String,
    unit: String,
    severity: String,
    placement: &'static str,
}

/// One exemption the pull request adds, as `review/exemptions.md` lists it.
struct ExemptionRow {
    location: String,
    unit: String,
    rules: String,
    kind: &'static str,
    reason: String,
    expires: String,
}

/// Exemptions listed in the summary at most; a pull request adding more says how many.
const MAX_EXEMPTION_ROWS: usize = 50;

#[derive(Template)]
#[template(path = "review/summary.md")]
struct SummaryTemplate<'a> {
    lead: &'a str,
    exemptions: &'a [ExemptionRow],
    exemptions_more: usize,
    files: &'a [FileRow],
    files_more: usize,
    findings: &'a [FindingRow],
    findings_more: usize,
    notes: &'a [String],
    notes_more: usize,
}

/// The check run's title, summary and annotations for a planned review.
pub fn check_output(plan: &Plan, files: &[ReviewFile<'_>], notes: &[Note]) -> CheckOutput {
    let file_rows: Vec<FileRow> = files
        .iter()
        .filter(|f| f.report.format != Format::Skipped)
        .map(|f| FileRow {
            path: escape::cell(&escape::code(&f.report.path)),
            units: f.report.units.len(),
            read_only: count_units(f, |r| r == ReadOnly::True),
            findings: f
                .report
                .findings
                .iter()
                .filter(|x| x.suppressed.is_none())
                .count(),
        })
        .collect();
    let mut shown: Vec<&PlannedFinding> = plan
        .findings
        .iter()
        .filter(|f| f.placement != Placement::Suppressed)
        .collect();
    // Rows are dropped from the end when the summary is too long: the change's worst first.
    shown.sort_by_key(|f| (!f.in_diff, Reverse(f.severity), &f.path, f.line));
    let finding_rows: Vec<FindingRow> = shown.iter().map(|f| finding_row(f, plan)).collect();
    let note_lines = note_lines(plan, files, notes);
    let lead = lead(plan);
    let exemptions = Exemptions {
        rows: plan
            .added_exemptions
            .iter()
            .take(MAX_EXEMPTION_ROWS)
            .map(exemption_row)
            .collect(),
        more: plan
            .added_exemptions
            .len()
            .saturating_sub(MAX_EXEMPTION_ROWS),
    };
    let summary = fit(&lead, &exemptions, &file_rows, &finding_rows, &note_lines);
    CheckOutput {
        title: title(plan, files),
        summary,
        annotations: plan.annotations.clone(),
    }
}

/// The exemptions section: the rows shown and how many more there are.
struct Exemptions {
    rows: Vec<ExemptionRow>,
    more: usize,
}

fn exemption_row(e: &AddedExemption) -> ExemptionRow {
    ExemptionRow {
        location: escape::cell(&escape::code(&format!("{}:{}", e.path, e.line))),
        unit: escape::cell(&e.unit.as_deref().map_or("—".to_string(), escape::code)),
        rules: escape::cell(
            &e.rules
                .iter()
                .map(|r| escape::code(r))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        kind: match e.kind {
            crate::model::SuppressionKind::Comment => "`immutabot:ignore` comment",
            crate::model::SuppressionKind::Annotation => "annotation",
            crate::model::SuppressionKind::Config => "`.immutabot.yml`",
        },
        reason: escape::cell(&escape::message(&e.reason.replace('`', "'"))),
        expires: e.expires.map_or("**never**".to_string(), |d| d.to_string()),
    }
}

/// Renders with as many rows as fit: findings go first, then files, then notes.
fn fit(
    lead: &str,
    exemptions: &Exemptions,
    files: &[FileRow],
    findings: &[FindingRow],
    notes: &[String],
) -> String {
    let render_with = |nf: usize, nx: usize, nn: usize| {
        render(&SummaryTemplate {
            lead,
            exemptions: &exemptions.rows,
            exemptions_more: exemptions.more,
            files: &files[..nf],
            files_more: files.len() - nf,
            findings: &findings[..nx],
            findings_more: findings.len() - nx,
            notes: &notes[..nn],
            notes_more: notes.len() - nn,
        })
    };
    let fits = |s: &String| s.len() <= MAX_SUMMARY_CHARS;
    let (nf, nx, nn) = (files.len(), findings.len(), notes.len());
    let full = render_with(nf, nx, nn);
    if fits(&full) {
        return full;
    }
    let nx = most(nx, |k| fits(&render_with(nf, k, nn)));
    let nf = if nx == 0 {
        most(nf, |k| fits(&render_with(k, 0, nn)))
    } else {
        nf
    };
    let nn = if nx == 0 && nf == 0 {
        most(nn, |k| fits(&render_with(0, 0, k)))
    } else {
        nn
    };
    // Only an absurdly long lead could still not fit; cut it rather than fail the check.
    crate::review::truncate(&render_with(nf, nx, nn), MAX_SUMMARY_CHARS)
}

/// The largest `k <= n` for which `ok(k)` holds, given that `ok` only turns false as `k`
/// grows; 0 when none does.
fn most(n: usize, ok: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

fn finding_row(f: &PlannedFinding, plan: &Plan) -> FindingRow {
    let unit = match (&f.workload, &f.container) {
        (Some(w), Some(c)) => format!("{}, {}", escape::code(w), escape::code(c)),
        (Some(w), None) => escape::code(w),
        (None, _) => "—".to_string(),
    };
    let failing = f.fails(plan.fail_on);
    FindingRow {
        rule: escape::code(&f.rule),
        location: escape::cell(&escape::code(&format!("{}:{}", f.path, f.line))),
        unit: escape::cell(&unit),
        severity: if failing {
            format!("**{}**", f.severity)
        } else {
            f.severity.to_string()
        },
        placement: placement_text(f.placement),
    }
}

/// Where a finding went, as the "Where" column says it.
fn placement_text(p: Placement) -> &'static str {
    match p {
        Placement::Suggestion => "comment with suggestion",
        Placement::DiffBlock => "comment with patch",
        Placement::Comment => "comment",
        Placement::AlreadyOpen => "earlier comment, still open",
        Placement::Annotation(AnnotationReason::OutsideDiff) => "annotation (not in the changes)",
        Placement::Annotation(AnnotationReason::NoDiffLine) => "annotation (no diff line)",
        Placement::Annotation(AnnotationReason::NoPatch) => "annotation (no diff from GitHub)",
        Placement::Annotation(AnnotationReason::CommentLimit) => "annotation (comment limit)",
        Placement::Annotation(AnnotationReason::LoneCarriageReturn) => {
            "annotation (lone carriage returns: lines differ from the diff's)"
        }
        Placement::Annotation(AnnotationReason::PreExisting) => {
            "notice (already on the base branch)"
        }
        Placement::Suppressed => "suppressed",
    }
}

fn lead(plan: &Plan) -> String {
    let c = &plan.counts;
    let verdict = match plan.conclusion {
        Conclusion::Failure if plan.gate == Gate::New => format!(
            "**Failed:** this pull request introduces {} at severity `{}` or above.",
            plural(c.failing, "finding", "findings"),
            plan.fail_on
        ),
        Conclusion::Failure => format!(
            "**Failed:** {} in the changes {} at severity `{}` or above.",
            plural(c.failing, "finding", "findings"),
            if c.failing == 1 { "is" } else { "are" },
            plan.fail_on
        ),
        _ if plan.gate == Gate::New && c.in_diff > c.pre_existing => format!(
            "**Passed:** no finding this pull request introduces is at severity `{}` or above.",
            plan.fail_on
        ),
        _ if plan.gate == Gate::New && c.pre_existing > 0 => {
            "**Passed:** this pull request introduces no finding.".to_string()
        }
        _ if c.in_diff > 0 => format!(
            "**Passed:** no finding in the changes is at severity `{}` or above.",
            plan.fail_on
        ),
        _ => "**Passed:** nothing in the changes needs attention.".to_string(),
    };
    let filter = match plan.filter {
        FilterMode::Added => {
            "A finding is part of the changes when one of its lines was added (`review.filter: added`)."
        }
        FilterMode::DiffContext => {
            "A finding is part of the changes when one of its lines is in the diff (`review.filter: diff_context`)."
        }
        FilterMode::File => "Every finding in a changed file counts (`review.filter: file`).",
        FilterMode::Nofilter => "Every finding counts (`review.filter: nofilter`).",
    };
    format!("{verdict} {filter}")
}

fn note_lines(plan: &Plan, files: &[ReviewFile<'_>], notes: &[Note]) -> Vec<String> {
    let mut out: Vec<String> = notes
        .iter()
        .map(|n| match n {
            Note::ConfigChanged => "`.immutabot.yml` changed in this pull request; its changes take effect after merge (the base branch's version was used).".to_string(),
            Note::ConfigInvalid(why) => format!(
                "The base branch's `.immutabot.yml` cannot be used, so the defaults were: {}",
                escape::code(why)
            ),
            Note::Text(text) => escape::message(&text.replace('`', "'")),
        })
        .collect();
    if plan.counts.over_limit > 0 {
        out.push(format!(
            "A review holds at most {} comments; {} went to the annotations instead.",
            plan.max_comments,
            plural(plan.counts.over_limit, "finding", "findings")
        ));
    }
    if plan.counts.pre_existing > 0 {
        out.push(format!(
            "{} already on the base branch: with `review.fail_on: new` such findings are notices and do not fail the check.",
            plural(plan.counts.pre_existing, "finding was", "findings were")
        ));
    }
    if plan.counts.suppressed > 0 {
        out.push(format!(
            "{} suppressed (by comment, annotation or `.immutabot.yml`) and not listed.",
            plural(plan.counts.suppressed, "finding is", "findings are")
        ));
    }
    for f in files.iter().filter(|f| f.patch.is_none()) {
        out.push(format!(
            "GitHub did not provide a usable diff of {} (binary or too large): its findings count as changed and are annotations.",
            escape::code(&f.report.path)
        ));
    }
    let mut unrecognised = 0;
    for f in files {
        match f.report.skipped_reason.as_deref() {
            Some(NOT_RECOGNISED) => unrecognised += 1,
            Some(reason) => out.push(format!(
                "{} was skipped: {}",
                escape::code(&f.report.path),
                escape::message(reason)
            )),
            None => {}
        }
    }
    if unrecognised > 0 {
        out.push(format!(
            "{} not a Compose file or Kubernetes manifest.",
            plural(
                unrecognised,
                "changed YAML or JSON file is",
                "changed YAML or JSON files are"
            )
        ));
    }
    out
}

fn title(plan: &Plan, files: &[ReviewFile<'_>]) -> String {
    let c = &plan.counts;
    let changed: Vec<&PlannedFinding> = plan
        .findings
        .iter()
        .filter(|f| {
            f.in_diff && f.placement != Placement::Suppressed && f.placement != PRE_EXISTING
        })
        .collect();
    let writable = changed
        .iter()
        .filter(|f| f.rule == RuleId::WritableRootFilesystem.as_str())
        .count();
    let others = changed.len() - writable;
    let roots = plural(
        writable,
        "writable root file system",
        "writable root file systems",
    );
    match (writable, others) {
        (0, 0) if c.findings > 0 => format!(
            "No findings in the changes; {} elsewhere in the changed files",
            c.findings
        ),
        (0, 0) => units_title(files),
        (_, 0) => format!("{roots} in this pull request"),
        (0, n) => format!("{} in this pull request", plural(n, "finding", "findings")),
        (_, n) => format!(
            "{roots} and {} in this pull request",
            plural(n, "other finding", "other findings")
        ),
    }
}

/// The title when nothing was found: how many units there are and that they are read-only.
fn units_title(files: &[ReviewFile<'_>]) -> String {
    let units = files.iter().map(|f| f.report.units.len()).sum::<usize>();
    let read_only = files
        .iter()
        .map(|f| count_units(f, |r| r == ReadOnly::True))
        .sum::<usize>();
    let roles = files.iter().flat_map(|f| &f.report.units).map(|u| u.role);
    let (services, containers) = roles.fold((false, false), |(s, c), r| {
        (s || r == Role::Service, c || r != Role::Service)
    });
    let (one, many) = match (services, containers) {
        (true, false) => ("service", "services"),
        (false, true) => ("container", "containers"),
        _ => ("service or container", "services and containers"),
    };
    match units {
        0 => "No services or containers in the changed files".to_string(),
        1 if read_only == 1 => format!("The {one} is read-only"),
        n if read_only == n => format!("All {n} {many} read-only"),
        n => format!("{read_only} of {n} {many} read-only, the rest exempted"),
    }
}

fn count_units(f: &ReviewFile<'_>, pick: impl Fn(ReadOnly) -> bool) -> usize {
    f.report.units.iter().filter(|u| pick(u.read_only)).count()
}
