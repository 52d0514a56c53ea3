//! The check-run annotation for a finding that gets no inline comment.

use crate::forge::{Annotation, AnnotationLevel};
use crate::model::{Finding, Severity};
use crate::review::plan::ReviewFile;
use crate::review::{fix_diff, place, to_u32, truncate};
use crate::rules::RuleId;

/// GitHub's limits on an annotation's title and on its message and details (64 KiB).
const MAX_TITLE: usize = 255;
pub(crate) const MAX_DETAILS: usize = 65_535;

/// The check-run annotation for a finding.
pub fn annotation(file: &ReviewFile<'_>, finding: &Finding) -> Annotation {
    let title = match RuleId::parse(&finding.rule) {
        Some(rule) => format!("{} ({rule})", rule.title()),
        None => finding.rule.clone(),
    };
    let lines = place::lines(finding);
    Annotation {
        path: file.report.path.clone(),
        start_line: to_u32(*lines.start()),
        end_line: to_u32(*lines.end()),
        annotation_level: level(finding.severity),
        title: truncate(&title, MAX_TITLE),
        message: truncate(&finding.message, MAX_DETAILS),
        raw_details: finding.fix.as_ref().map(|fix| {
            let details = format!(
                "Suggested fix: {}\n\n{}",
                fix.description,
                fix_diff::unified(file.source, fix)
            );
            truncate(&details, MAX_DETAILS)
        }),
    }
}

/// The annotation level GitHub shows for a severity.
pub fn level(severity: Severity) -> AnnotationLevel {
    match severity {
        Severity::Error => AnnotationLevel::Failure,
        Severity::Warning => AnnotationLevel::Warning,
        Severity::Info => AnnotationLevel::Notice,
    }
}
