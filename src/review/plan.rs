//! Deciding where every finding of a pull request goes: an inline comment (with a suggestion
//! when GitHub can apply one), the check run's annotations, or nowhere new because a comment
//! on it is already open.

use crate::config::{Config, FilterMode, Gate};
use crate::forge::{Annotation, AnnotationLevel, Conclusion, ReviewComment};
use crate::model::{FileReport, Finding, Severity};
use crate::output::fingerprint;
use crate::review::baseline::{AddedExemption, Baseline};
use crate::review::diff::FileDiff;
use crate::review::place::{self, Anchor};
use crate::review::pointers::Pointers;
use crate::review::render::{self, FixView};
use crate::review::{MAX_COMMENT_CHARS, annotate, fix_diff, to_u32};
use serde::Serialize;
use std::collections::HashSet;

/// One changed file of the pull request, analysed.
#[derive(Debug, Clone, Copy)]
pub struct ReviewFile<'a> {
    /// What the analysis core said about the file at the head commit.
    pub report: &'a FileReport,
    /// The text that was analysed, for showing patches that cannot be suggestions.
    pub source: &'a str,
    /// The file's parsed diff; `None` when GitHub omitted the patch (or it did not parse).
    pub patch: Option<&'a FileDiff>,
}

/// Why a finding went to the check run rather than to an inline comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationReason {
    /// The filter mode says the finding is not part of the change.
    OutsideDiff,
    /// Part of the change, but none of its lines is in a hunk (`file`/`nofilter` modes).
    NoDiffLine,
    /// GitHub gave no diff for the file.
    NoPatch,
    /// The review already holds the most comments we post at once.
    CommentLimit,
    /// The file breaks lines with a lone carriage return: YAML (and so the finding) counts
    /// it as a line break, the forge's diff does not, so no line number can be trusted there.
    LoneCarriageReturn,
    /// The base branch already has it and `review.fail_on: new` gates on new findings only.
    PreExisting,
}

/// The placement of a finding the base branch already had.
pub const PRE_EXISTING: Placement = Placement::Annotation(AnnotationReason::PreExisting);

/// Where a finding went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// An inline comment with a suggestion GitHub can apply.
    Suggestion,
    /// An inline comment showing the patch as a diff (it spans more than one hunk).
    DiffBlock,
    /// An inline comment without a patch (the finding has none, or it is too long).
    Comment,
    /// A comment from an earlier review with the same fingerprint is still open.
    AlreadyOpen,
    /// A check-run annotation.
    Annotation(AnnotationReason),
    /// Exempted by a suppression: neither commented nor annotated.
    Suppressed,
}

impl Placement {
    /// Whether this placement posts an inline comment.
    pub fn is_comment(self) -> bool {
        matches!(
            self,
            Placement::Suggestion | Placement::DiffBlock | Placement::Comment
        )
    }
}

/// An inline comment to post, with the fingerprint its marker carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedComment {
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The comment itself.
    pub comment: ReviewComment,
}

/// One finding and where it went, for the check's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFinding {
    /// Stable identity (rule, path, workload), never line numbers.
    pub fingerprint: String,
    /// Path in the head commit.
    pub path: String,
    /// Rule id.
    pub rule: String,
    /// Effective severity.
    pub severity: Severity,
    /// 1-based line.
    pub line: usize,
    /// The unit's workload, when the finding is about one.
    pub workload: Option<String>,
    /// The unit's container (Kubernetes only).
    pub container: Option<String>,
    /// Whether the filter mode counts it as part of the change.
    pub in_diff: bool,
    /// Where it went.
    pub placement: Placement,
}

impl PlannedFinding {
    /// Whether it fails the check: part of the change, severe enough, and not already on
    /// the base branch.
    pub fn fails(&self, fail_on: Severity) -> bool {
        self.in_diff && self.severity >= fail_on && self.placement != PRE_EXISTING
    }
}

/// How many findings went where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Findings that are not suppressed.
    pub findings: usize,
    /// Suppressed findings.
    pub suppressed: usize,
    /// Unsuppressed findings that are part of the change.
    pub in_diff: usize,
    /// Unsuppressed findings that are part of the change and fail the check.
    pub failing: usize,
    /// New inline comments.
    pub commented: usize,
    /// Findings whose comment from an earlier review is still open.
    pub already_open: usize,
    /// Annotations.
    pub annotated: usize,
    /// Annotations only because the comment limit was reached.
    pub over_limit: usize,
    /// Findings the base branch already had (`review.fail_on: new`): never failing.
    pub pre_existing: usize,
}

/// The whole decision for one review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Inline comments to post in one review, in file and line order.
    pub comments: Vec<PlannedComment>,
    /// Check-run annotations.
    pub annotations: Vec<Annotation>,
    /// Every finding, suppressed ones included.
    pub findings: Vec<PlannedFinding>,
    /// The check run's conclusion.
    pub conclusion: Conclusion,
    /// How many went where.
    pub counts: Counts,
    /// The severity that fails the check (from the config).
    pub fail_on: Severity,
    /// The filter mode used (from the config).
    pub filter: FilterMode,
    /// The comment limit used.
    pub max_comments: usize,
    /// Which findings fail the check (from the config).
    pub gate: Gate,
    /// Exemptions the pull request adds, when the base was compared.
    pub added_exemptions: Vec<AddedExemption>,
}

/// What a review compares the head with: the base branch's findings, and where a finding
/// the base already had points.
#[derive(Debug, Clone, Copy)]
pub struct Against<'a> {
    /// The base branch's findings and exemptions.
    pub baseline: &'a Baseline,
    /// Links for findings the pull request did not introduce.
    pub pointers: &'a Pointers,
}

/// Decides where every finding of `files` goes.
///
/// `already_open` holds the fingerprints of our unresolved comments from earlier reviews;
/// at most `max_comments` new comments are planned, the rest become annotations.
pub fn plan(
    files: &[ReviewFile<'_>],
    config: &Config,
    already_open: &HashSet<String>,
    max_comments: usize,
) -> Plan {
    plan_with(files, config, already_open, max_comments, None)
}

/// [`plan`], comparing the head with the base branch: `review.fail_on: new` passes findings
/// the base already had, and the exemptions the head adds are listed.
pub fn plan_against(
    files: &[ReviewFile<'_>],
    config: &Config,
    already_open: &HashSet<String>,
    max_comments: usize,
    against: Against<'_>,
) -> Plan {
    plan_with(files, config, already_open, max_comments, Some(against))
}

fn plan_with(
    files: &[ReviewFile<'_>],
    config: &Config,
    already_open: &HashSet<String>,
    max_comments: usize,
    against: Option<Against<'_>>,
) -> Plan {
    let mut out = Plan {
        comments: Vec::new(),
        annotations: Vec::new(),
        findings: Vec::new(),
        conclusion: Conclusion::Success,
        counts: Counts::default(),
        fail_on: config.fail_on,
        filter: config.review.filter,
        max_comments,
        gate: config.review.fail_on,
        added_exemptions: against.map_or_else(Vec::new, |a| {
            let reports: Vec<&FileReport> = files.iter().map(|f| f.report).collect();
            a.baseline.added_exemptions(&reports)
        }),
    };
    for file in files {
        let prints = fingerprint::all(file.report);
        for (finding, print) in file.report.findings.iter().zip(prints) {
            let (in_diff, placement) = match against {
                Some(a) if out.gate == Gate::New && a.baseline.had(&file.report.path, finding) => {
                    out.pre_existing(file, finding, config, a.pointers)
                }
                _ => out.place(file, finding, &print, config, already_open),
            };
            out.findings.push(PlannedFinding {
                fingerprint: print,
                path: file.report.path.clone(),
                rule: finding.rule.clone(),
                severity: finding.severity,
                line: finding.line,
                workload: finding.workload.clone(),
                container: finding.container.clone(),
                in_diff,
                placement,
            });
        }
    }
    out.counts = count(&out.findings, config.fail_on);
    out.counts.annotated = out.annotations.len();
    if out.counts.failing > 0 {
        out.conclusion = Conclusion::Failure;
    }
    out
}

impl Plan {
    /// A finding the base branch already had, under `review.fail_on: new`: a notice that
    /// says so and where it gets fixed, never a comment, never failing.
    fn pre_existing(
        &mut self,
        file: &ReviewFile<'_>,
        finding: &Finding,
        config: &Config,
        pointers: &Pointers,
    ) -> (bool, Placement) {
        let in_diff = place::in_diff(config.review.filter, file.patch, finding);
        if finding.suppressed.is_some() {
            return (in_diff, Placement::Suppressed);
        }
        let mut a = annotate::annotation(file, finding);
        a.annotation_level = AnnotationLevel::Notice;
        a.message = crate::review::truncate(
            &format!("{}{}", a.message, pointers.pre_existing_note()),
            annotate::MAX_DETAILS,
        );
        self.annotations.push(a);
        (
            in_diff,
            Placement::Annotation(AnnotationReason::PreExisting),
        )
    }

    /// Places one finding, adding its comment or annotation.
    fn place(
        &mut self,
        file: &ReviewFile<'_>,
        finding: &Finding,
        print: &str,
        config: &Config,
        already_open: &HashSet<String>,
    ) -> (bool, Placement) {
        let in_diff = place::in_diff(config.review.filter, file.patch, finding);
        if finding.suppressed.is_some() {
            return (in_diff, Placement::Suppressed);
        }
        let anchor = place::anchor(file.patch, finding);
        let placement = match anchor {
            _ if !in_diff => Placement::Annotation(AnnotationReason::OutsideDiff),
            // A suggestion there would replace other lines than the fix's (found by
            // fuzz/fuzz_targets/review_plan.rs).
            _ if has_lone_cr(file.source) => {
                Placement::Annotation(AnnotationReason::LoneCarriageReturn)
            }
            Anchor::NoPatch => Placement::Annotation(AnnotationReason::NoPatch),
            Anchor::NoDiffLine => Placement::Annotation(AnnotationReason::NoDiffLine),
            _ if already_open.contains(print) => return (in_diff, Placement::AlreadyOpen),
            _ if self.comments.len() >= self.max_comments => {
                Placement::Annotation(AnnotationReason::CommentLimit)
            }
            _ => {
                let (comment, placement) = comment(file, finding, print, anchor);
                self.comments.push(PlannedComment {
                    fingerprint: print.to_string(),
                    comment,
                });
                return (in_diff, placement);
            }
        };
        self.annotations.push(annotate::annotation(file, finding));
        (in_diff, placement)
    }
}

/// The inline comment for a finding at an anchor that exists.
fn comment(
    file: &ReviewFile<'_>,
    finding: &Finding,
    print: &str,
    anchor: Anchor,
) -> (ReviewComment, Placement) {
    let diff = match (anchor, &finding.fix) {
        (Anchor::Diff { .. }, Some(fix)) => fix_diff::unified(file.source, fix),
        _ => String::new(),
    };
    let (start_line, line, view) = match (anchor, &finding.fix) {
        (Anchor::Suggestion { start_line, line }, Some(fix)) => {
            (start_line, line, FixView::Suggestion(fix))
        }
        (Anchor::Diff { line }, Some(fix)) => (None, line, FixView::Diff(fix, &diff)),
        (Anchor::Plain { line } | Anchor::Diff { line }, _)
        | (Anchor::Suggestion { line, .. }, None) => (None, line, FixView::Nothing),
        (Anchor::NoPatch | Anchor::NoDiffLine, _) => (None, finding.line, FixView::Nothing),
    };
    let mut placement = match view {
        FixView::Suggestion(_) => Placement::Suggestion,
        FixView::Diff(..) => Placement::DiffBlock,
        _ => Placement::Comment,
    };
    let mut body = render::comment_body(finding, print, &view);
    if body.len() > MAX_COMMENT_CHARS
        && let Some(fix) = &finding.fix
    {
        body = render::comment_body(finding, print, &FixView::TooLong(fix));
        placement = Placement::Comment;
    }
    let comment = ReviewComment {
        path: file.report.path.clone(),
        start_line: start_line.map(to_u32),
        line: to_u32(line),
        body,
    };
    (comment, placement)
}

/// Whether `text` holds a `\r` that is not part of `\r\n`.
fn has_lone_cr(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'\r' && b.get(i + 1) != Some(&b'\n'))
}

fn count(findings: &[PlannedFinding], fail_on: Severity) -> Counts {
    let mut c = Counts::default();
    for f in findings {
        if f.placement == Placement::Suppressed {
            c.suppressed += 1;
            continue;
        }
        c.findings += 1;
        c.in_diff += usize::from(f.in_diff);
        c.failing += usize::from(f.fails(fail_on));
        c.pre_existing += usize::from(f.placement == PRE_EXISTING);
        c.commented += usize::from(f.placement.is_comment());
        c.already_open += usize::from(f.placement == Placement::AlreadyOpen);
        c.over_limit +=
            usize::from(f.placement == Placement::Annotation(AnnotationReason::CommentLimit));
    }
    c
}

#[cfg(test)]
mod tests;
