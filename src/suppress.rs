//! Suppressions written in the file: `# immutabot:ignore <rule> <reason>`.
//!
//! A comment applies to the unit whose line it is on, or which it stands just above (a block
//! of comment lines directly above the line counts). A reason is required: a suppression is
//! a decision somebody must be able to read later.

use crate::rules::RuleId;
use crate::yaml::{Source, Stream};

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
pub fn comment_for(s: &Stream, src: &Source<'_>, line: usize, rule: RuleId) -> Verdict {
    let mut verdict = check_line(s, line, rule);
    let mut l = line;
    while verdict == Verdict::None && l > 1 {
        l -= 1;
        let text = src.line(l).trim_start();
        if !text.starts_with('#') {
            break;
        }
        verdict = check_line(s, l, rule);
    }
    verdict
}

fn check_line(s: &Stream, line: usize, rule: RuleId) -> Verdict {
    for c in s.comments_on(line) {
        let text = c.text.trim();
        let Some(rest) = text.strip_prefix(MARKER) else {
            continue;
        };
        let rest = rest.trim_start();
        let (id, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let ids_match = id.split(',').any(|i| i == "all" || i == rule.as_str());
        if !ids_match {
            continue;
        }
        let reason = reason.trim();
        return if reason.is_empty() {
            Verdict::MissingReason
        } else {
            Verdict::Suppressed(reason.to_string())
        };
    }
    Verdict::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Limits;

    #[test]
    fn on_the_line_and_above() {
        let t = "services:\n  # immutabot:ignore writable-root-filesystem legacy app, tracked in OPS-1\n  web:\n    image: x\n  db: # immutabot:ignore all\n    image: y\n";
        let s = Stream::parse(t, Limits::default());
        let src = Source::new(t);
        assert_eq!(
            comment_for(&s, &src, 3, RuleId::WritableRootFilesystem),
            Verdict::Suppressed("legacy app, tracked in OPS-1".into())
        );
        assert_eq!(
            comment_for(&s, &src, 3, RuleId::MissingScratchMount),
            Verdict::None
        );
        assert_eq!(
            comment_for(&s, &src, 5, RuleId::WritableRootFilesystem),
            Verdict::MissingReason
        );
    }
}
