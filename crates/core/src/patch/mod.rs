//! Patches as whole-line replacements, and applying them.

pub mod edit;
mod plan;
pub mod render;

pub use plan::{Planner, volume_name};

use crate::model::Fix;

/// Applies one fix to `text`: lines `start_line..=end_line` become `replacement`.
///
/// Returns `None` when the fix does not fit the text (a line out of range).
pub fn apply(text: &str, fix: &Fix) -> Option<String> {
    let src = crate::yaml::Source::new(text);
    if fix.start_line == 0 || fix.end_line < fix.start_line || fix.end_line > src.line_count() {
        return None;
    }
    let start = src.line_start(fix.start_line);
    let end = src.line_range(fix.end_line).end;
    let mut out = String::with_capacity(text.len() + fix.replacement.len());
    out.push_str(&text[..start]);
    out.push_str(&fix.replacement);
    out.push_str(&text[end..]);
    Some(out)
}

/// Applies several fixes whose line ranges do not overlap; overlapping ones are skipped
/// (the caller re-analyses and applies them in a next round). Returns the new text and how
/// many fixes were applied.
pub fn apply_all<'a>(text: &str, fixes: impl IntoIterator<Item = &'a Fix>) -> (String, usize) {
    let mut fixes: Vec<&Fix> = fixes.into_iter().collect();
    fixes.sort_by_key(|f| (f.start_line, f.end_line));
    let mut chosen: Vec<&Fix> = Vec::new();
    for f in fixes {
        if chosen.last().is_none_or(|c| c.end_line < f.start_line) {
            chosen.push(f);
        }
    }
    // One pass over one line index: applying them one at a time copied the whole text and
    // re-indexed it per fix, quadratic in a file with thousands of findings.
    let src = crate::yaml::Source::new(text);
    let lines = src.line_count();
    let mut out = String::with_capacity(
        text.len() + chosen.iter().map(|f| f.replacement.len()).sum::<usize>(),
    );
    let (mut copied, mut applied) = (0, 0);
    for f in chosen {
        if f.start_line == 0 || f.end_line < f.start_line || f.end_line > lines {
            continue;
        }
        let start = src.line_start(f.start_line);
        out.push_str(&text[copied..start]);
        out.push_str(&f.replacement);
        copied = src.line_range(f.end_line).end;
        applied += 1;
    }
    out.push_str(&text[copied..]);
    (out, applied)
}
