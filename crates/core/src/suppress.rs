//! Suppressions written in the file: `# immutabot:ignore <rule> [expires=YYYY-MM-DD] <reason>`.
//!
//! A comment applies to the unit whose line it is on, or which it stands just above (a block
//! of comment lines directly above the line counts). A reason is required: a suppression is
//! a decision somebody must be able to read later. An `expires=` date makes it lapse after
//! that day; the date is only recorded here, [`crate::expiry`] compares it with today.
//!
//! Comments are read from the line text rather than from the parser: asking the parser for
//! comment events costs a third of its speed, and only the few lines around units matter.

use crate::date::{Date, DateError};
use crate::rules::RuleId;
use crate::yaml::Source;

const MARKER: &str = "immutabot:ignore";
/// What introduces the expiry date, right after the rule ids.
const EXPIRES: &str = "expires=";

/// What a comment near a line says about a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Suppressed, with the reason given.
    Suppressed {
        /// The reason given.
        reason: String,
        /// The last day it holds, when the comment says.
        expires: Option<Date>,
        /// 1-based line of the comment.
        line: usize,
    },
    /// A matching comment without a reason: not honoured.
    MissingReason,
    /// A matching comment whose `expires=` is not a date: not honoured.
    BadExpiry(DateError),
    /// Nothing applies.
    None,
}

/// Looks for an ignore comment for `rule` on `line` or in the comment block above it.
pub fn comment_for(src: &Source<'_>, line: usize, rule: RuleId) -> Verdict {
    let mut verdict = check_line(src.line(line), line, rule);
    let mut l = line;
    while verdict == Verdict::None && l > 1 {
        l -= 1;
        let text = src.line(l).trim_start();
        if !text.starts_with('#') {
            break;
        }
        verdict = check_line(text, l, rule);
    }
    verdict
}

fn check_line(line: &str, number: usize, rule: RuleId) -> Verdict {
    let Some(at) = line.find(MARKER) else {
        return Verdict::None;
    };
    if !opens_comment(&line[..at]) {
        return Verdict::None;
    }
    let rest = line[at + MARKER.len()..].trim_start();
    let (id, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !id.split(',').any(|i| i == "all" || i == rule.as_str()) {
        return Verdict::None;
    }
    let mut reason = reason.trim();
    let mut expires = None;
    if let Some(after) = reason.strip_prefix(EXPIRES) {
        let (date, rest) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
        match Date::parse(date) {
            Ok(d) => expires = Some(d),
            Err(e) => return Verdict::BadExpiry(e),
        }
        reason = rest.trim();
    }
    if reason.is_empty() {
        Verdict::MissingReason
    } else {
        Verdict::Suppressed {
            reason: reason.to_string(),
            expires,
            line: number,
        }
    }
}

/// An `immutabot:ignore` comment naming a rule that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRule {
    /// 1-based line of the comment.
    pub line: usize,
    /// 1-based column (in characters) of the unknown id.
    pub column: usize,
    /// The id as written.
    pub id: String,
    /// The known id it most likely means, when one is close.
    pub closest: Option<&'static str>,
}

/// Every rule id in an ignore comment of `src` that names no rule: such a comment suppresses
/// nothing, silently, while `.immutabot.yml` rejects the same typo. One pass over the text.
pub fn unknown_rules(src: &Source<'_>) -> Vec<UnknownRule> {
    let text = src.text();
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(text.as_bytes(), MARKER) {
        let line = src.line_of(at);
        let start = src.line_start(line);
        if !opens_comment(&text[start..at]) {
            continue;
        }
        let rest = &src.line(line)[at - start + MARKER.len()..];
        let id_at = at + MARKER.len() + (rest.len() - rest.trim_start().len());
        let ids = rest
            .trim_start()
            .split(char::is_whitespace)
            .next()
            .unwrap_or("");
        let mut offset = id_at;
        for id in ids.split(',') {
            if !id.is_empty() && id != "all" && RuleId::parse(id).is_none() {
                out.push(UnknownRule {
                    line,
                    column: text[start..offset].chars().count() + 1,
                    id: id.to_string(),
                    closest: closest(id),
                });
            }
            offset += id.len() + 1;
        }
    }
    out
}

/// The known rule id nearest to `id`, when it is near enough to be a typo.
fn closest(id: &str) -> Option<&'static str> {
    RuleId::ALL
        .iter()
        .map(|r| r.as_str())
        .chain(["all"])
        .map(|known| (strsim::damerau_levenshtein(id, known), known))
        .filter(|&(d, known)| d <= known.len() / 3)
        .min()
        .map(|(_, known)| known)
}

/// The marker must open a comment: `#` (at the start or after a blank, as YAML wants a
/// comment), optional blanks, then the marker.
fn opens_comment(before: &str) -> bool {
    before
        .trim_end_matches([' ', '\t'])
        .strip_suffix('#')
        .is_some_and(|b| b.is_empty() || b.ends_with([' ', '\t']))
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
            Verdict::Suppressed {
                reason: "legacy app, tracked in OPS-1".into(),
                expires: None,
                line: 2
            }
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

    #[test]
    fn exempt_comments_take_an_expiry_date_after_the_rule_ids() {
        let t = "services:\n  # immutabot:ignore all expires=2026-12-31 migrating in OPS-2\n  web:\n    image: x\n  db: # immutabot:ignore all expires=2026-12-31\n    image: y\n  q: # immutabot:ignore all expires=2026-02-30 typo\n    image: z\n";
        let src = Source::new(t);
        assert_eq!(
            comment_for(&src, 3, RuleId::WritableRootFilesystem),
            Verdict::Suppressed {
                reason: "migrating in OPS-2".into(),
                expires: Some(Date::parse("2026-12-31").unwrap()),
                line: 2
            }
        );
        assert_eq!(
            comment_for(&src, 5, RuleId::WritableRootFilesystem),
            Verdict::MissingReason
        );
        assert_eq!(
            comment_for(&src, 7, RuleId::WritableRootFilesystem),
            Verdict::BadExpiry(DateError {
                text: "2026-02-30".into()
            })
        );
    }

    #[test]
    fn unknown_ids_are_found_with_their_column_and_closest_id() {
        let t = "services:\n  # immutabot:ignore writeable-root-filesystem legacy\n  web: # immutabot:ignore all,tmpfs-owned-by-rot,zzz why\n    image: '# immutabot:ignore nothing-here'\n";
        let found = unknown_rules(&Source::new(t));
        let short: Vec<_> = found
            .iter()
            .map(|u| (u.line, u.column, u.id.as_str(), u.closest))
            .collect();
        assert_eq!(
            short,
            [
                (
                    2,
                    22,
                    "writeable-root-filesystem",
                    Some("writable-root-filesystem")
                ),
                (3, 31, "tmpfs-owned-by-rot", Some("tmpfs-owned-by-root")),
                (3, 50, "zzz", None),
            ]
        );
    }
}
