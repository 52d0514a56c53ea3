//! GitHub's per-file `patch` strings: making them from two texts, and reading which lines a
//! review comment may anchor to.
//!
//! The parser is deliberately written here, apart from the product's own hunk parser, so that
//! a bug in one does not hide the same bug in the other.

use std::collections::BTreeSet;

use similar::{ChangeTag, TextDiff};

/// The hunk-only unified diff GitHub puts in a PR file's `patch`: no `---`/`+++` headers, three
/// lines of context, and no newline after the last line.
pub fn github_patch(old: &str, new: &str) -> String {
    let diff = TextDiff::from_lines(old, new);
    let udiff = diff.unified_diff();
    let mut lines: Vec<String> = Vec::new();
    for hunk in udiff.iter_hunks() {
        lines.push(hunk.header().to_string());
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            let text = change.value();
            lines.push(format!("{sign}{}", text.strip_suffix('\n').unwrap_or(text)));
            if change.missing_newline() {
                lines.push("\\ No newline at end of file".to_string());
            }
        }
    }
    lines.join("\n")
}

/// Counts of `+` and `-` lines, for the files list's `additions`/`deletions`.
pub fn line_counts(patch: &str) -> (u64, u64) {
    let mut adds = 0;
    let mut dels = 0;
    for line in patch.lines() {
        if line.starts_with('+') {
            adds += 1;
        } else if line.starts_with('-') {
            dels += 1;
        }
    }
    (adds, dels)
}

/// One hunk: the line numbers a comment may use on each side.
#[derive(Debug, Clone, Default)]
pub struct Hunk {
    /// New-side lines that are added or context (what `side: RIGHT` may point at).
    pub right: BTreeSet<u64>,
    /// Old-side lines that are removed or context (`side: LEFT`).
    pub left: BTreeSet<u64>,
}

impl Hunk {
    fn side(&self, side: Side) -> &BTreeSet<u64> {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    /// GitHub's spelling; anything else (or absent) is RIGHT, its default.
    pub fn parse(s: Option<&str>) -> Side {
        match s {
            Some("LEFT") => Side::Left,
            _ => Side::Right,
        }
    }
}

/// Parses the hunks of a `patch`. Lines before the first `@@` and malformed headers are
/// ignored, as a patch from GitHub never has them.
pub fn parse_hunks(patch: &str) -> Vec<Hunk> {
    let mut hunks = Vec::new();
    let mut current: Option<(Hunk, u64, u64)> = None;
    for line in patch.lines() {
        if let Some((old, new)) = parse_header(line) {
            if let Some((h, _, _)) = current.take() {
                hunks.push(h);
            }
            current = Some((Hunk::default(), old, new));
            continue;
        }
        let Some((hunk, old, new)) = current.as_mut() else {
            continue;
        };
        match line.as_bytes().first() {
            Some(b'+') => {
                hunk.right.insert(*new);
                *new += 1;
            }
            Some(b'-') => {
                hunk.left.insert(*old);
                *old += 1;
            }
            // `\ No newline at end of file` belongs to the line before it.
            Some(b'\\') => {}
            // A context line (GitHub never strips the leading space, but an empty line is
            // treated as context the way `git apply` does).
            _ => {
                hunk.right.insert(*new);
                hunk.left.insert(*old);
                *new += 1;
                *old += 1;
            }
        }
    }
    if let Some((h, _, _)) = current {
        hunks.push(h);
    }
    hunks
}

/// `@@ -a[,b] +c[,d] @@ …` → the first old and new line numbers.
fn parse_header(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(" +")?;
    let (new, _) = rest.split_once(" @@")?;
    let start = |r: &str| r.split(',').next()?.parse::<u64>().ok();
    Some((start(old)?, start(new)?))
}

/// Why a comment cannot be placed, in the words GitHub puts in a 422's `errors`.
pub fn check_anchor(
    hunks: &[Hunk],
    line: u64,
    side: Side,
    start: Option<(u64, Side)>,
) -> Result<(), &'static str> {
    let Some(hunk) = hunks.iter().find(|h| h.side(side).contains(&line)) else {
        return Err("Line could not be resolved");
    };
    if let Some((start_line, start_side)) = start {
        if start_side == side && start_line >= line {
            return Err("Pull request review thread start line must precede the end line.");
        }
        if !hunk.side(start_side).contains(&start_line) {
            return Err(
                "Pull request review thread start line must be part of the same hunk as the line.",
            );
        }
    }
    Ok(())
}
