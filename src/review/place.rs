//! Where on the pull request's diff one finding can be shown: a pure function of the
//! finding, its file's diff and the filter mode.

use crate::config::FilterMode;
use crate::model::Finding;
use crate::review::diff::FileDiff;
use std::ops::RangeInclusive;

/// Where an inline comment for a finding can sit, or why none can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The fix's lines all lie in one hunk: a comment on exactly them carries a suggestion.
    Suggestion {
        /// First line, when the fix replaces more than one.
        start_line: Option<usize>,
        /// Last (or only) line.
        line: usize,
    },
    /// The finding has a fix that no single hunk covers: comment on `line`, show a diff.
    Diff {
        /// The first line of the finding's range that a hunk shows.
        line: usize,
    },
    /// The finding has no fix: a plain comment on `line`.
    Plain {
        /// The first line of the finding's range that a hunk shows.
        line: usize,
    },
    /// GitHub gave no diff for the file, so no line can be commented on.
    NoPatch,
    /// No line of the finding (or of its fix) is in a hunk.
    NoDiffLine,
}

/// The lines a finding covers, never empty.
pub fn lines(finding: &Finding) -> RangeInclusive<usize> {
    finding.line..=finding.end_line.max(finding.line)
}

/// Whether a finding belongs to the pull request under `mode`.
///
/// A file whose diff GitHub left out (binary or too large) is judged as changed all over:
/// a security check must not pass because the change was too big to show.
pub fn in_diff(mode: FilterMode, diff: Option<&FileDiff>, finding: &Finding) -> bool {
    let Some(diff) = diff else {
        return true;
    };
    match mode {
        FilterMode::Added => diff.first_added_in(lines(finding)).is_some(),
        FilterMode::DiffContext => diff.first_hunk_line_in(lines(finding)).is_some(),
        FilterMode::File | FilterMode::Nofilter => true,
    }
}

/// Where a comment for `finding` can be anchored on the new side of `diff`.
pub fn anchor(diff: Option<&FileDiff>, finding: &Finding) -> Anchor {
    let Some(diff) = diff else {
        return Anchor::NoPatch;
    };
    let fix_lines = finding
        .fix
        .as_ref()
        .map(|f| f.start_line..=f.end_line.max(f.start_line));
    if let Some(fix) = &fix_lines
        && *fix.start() > 0
        && diff.one_hunk_covers(fix.clone())
    {
        let (start, end) = (*fix.start(), *fix.end());
        return Anchor::Suggestion {
            start_line: (start < end).then_some(start),
            line: end,
        };
    }
    // The finding's own lines first; failing those, any shown line of its fix.
    let line = diff
        .first_hunk_line_in(lines(finding))
        .or_else(|| fix_lines.and_then(|f| diff.first_hunk_line_in(f)));
    match (line, finding.fix.is_some()) {
        (Some(line), true) => Anchor::Diff { line },
        (Some(line), false) => Anchor::Plain { line },
        (None, _) => Anchor::NoDiffLine,
    }
}
