//! Suppressions written in the file: `# immutabot:ignore <rule> <reason>`.
//!
//! A comment applies to the unit whose line it is on, or which it stands just above (a block
//! of comment lines directly above the line counts). A reason is required: a suppression is
//! a decision somebody must be able to read later.
//!
//! Comments are read from the line text rather than from the parser: asking the parser for
//! comment events costs a third of its speed, and only the few lines around units matter.

use crate::rules::RuleId;
use crate::yaml::Source;

const MARKER: &str = "immutabot:ignore";

/// What a comment near a line says about a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Suppressed, with the reason given.
    Suppressed(String),
    /// A matching comment without a reason: not honoured.
    MissingReason,
    /// Nothing applies.
    None,
}

/// Looks for an ignore comment for `rule` on `line` or in the comment block above it.
pub fn comment_for(src: &Source<'_>, line: usize, rule: RuleId) -> Verdict {
    let mut verdict = check_line(src.line(line), rule);
    let mut l = line;
    while verdict == Verdict::None && l > 1 {
        l -= 1;
        let text = src.line(l).trim_start();
        if !text.starts_with('#') {
            break;
        }
        verdict = check_line(text, rule);
    }
    verdict
}

fn check_line(line: &str, rule: RuleId) -> Verdict {
    let Some(at) = line.find(MARKER) else {
        return Verdict::None;
    };
    // The marker must open a comment: `#`, optional blanks, then the marker.
    let before = line[..at].trim_end_matches([' ', '\t']);
    if !before.ends_with('#') {
        return Verdict::None;
    }
    let rest = line[at + MARKER.len()..].trim_start();
    let (id, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !id.split(',').any(|i| i == "all" || i == rule.as_str()) {
        return Verdict::None;
    }
    let reason = reason.trim();
    if reason.is_empty() {
        Verdict::MissingReason
    } else {
        Verdict::Suppressed(reason.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_the_line_and_above() {
        let t = "services:\n  # immutabot:ignore writable-root-filesystem legacy app, tracked in OPS-1\n  web:\n    image: x\n  db: # immutabot:ignore all\n    image: y\n";
        let src = Source::new(t);
        assert_eq!(
            comment_for(&src, 3, RuleId::WritableRootFilesystem),
            Verdict::Suppressed("legacy app, tracked in OPS-1".into())
        );
        assert_eq!(
            comment_for(&src, 3, RuleId::MissingScratchMount),
            Verdict::None
        );
        assert_eq!(
            comment_for(&src, 5, RuleId::WritableRootFilesystem),
            Verdict::MissingReason
        );
    }
}
