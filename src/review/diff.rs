//! One file's unified diff, as GitHub's `patch` field gives it: which new-side lines a review
//! comment may be anchored on, and which of them the pull request added.
//!
//! GitHub rejects a whole review (422) when one comment sits outside a hunk, so every anchor
//! is checked here before anything is posted. A patch that does not add up is an error value:
//! the caller then treats the file as having no usable diff.

use std::ops::RangeInclusive;

/// A patch that could not be parsed, with the 1-based line of the patch where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("patch line {line}: {message}")]
pub struct DiffError {
    /// 1-based line of the patch text.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One `@@ -a,b +c,d @@` hunk, reduced to its new-side (RIGHT) line range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hunk {
    /// First old-side line (0 when the hunk adds to an empty file).
    pub old_start: usize,
    /// Old-side lines the hunk covers.
    pub old_len: usize,
    /// First new-side line.
    pub new_start: usize,
    /// New-side lines the hunk covers (context and added).
    pub new_len: usize,
}

impl Hunk {
    /// Whether new-side line `line` is one of this hunk's context or added lines.
    pub fn contains(&self, line: usize) -> bool {
        self.new_len > 0 && line >= self.new_start && line - self.new_start < self.new_len
    }

    /// The first new-side line of this hunk inside `range`, if any.
    fn first_in(&self, range: &RangeInclusive<usize>) -> Option<usize> {
        if self.new_len == 0 {
            return None;
        }
        let first = self.new_start.max(*range.start());
        (first <= *range.end() && self.contains(first)).then_some(first)
    }
}

/// A parsed file diff: its hunks and the new-side lines it adds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDiff {
    hunks: Vec<Hunk>,
    /// New-side numbers of `+` lines, ascending (hunks come in file order).
    added: Vec<usize>,
    /// Every new-side line a hunk shows, ascending, with the old-side counter there.
    old_at: Vec<(usize, usize)>,
}

impl FileDiff {
    /// Parses a GitHub `patch` string (git's file headers before the first hunk are allowed).
    pub fn parse(patch: &str) -> Result<FileDiff, DiffError> {
        Parser::default().run(patch)
    }

    /// The hunks, in patch order.
    pub fn hunks(&self) -> &[Hunk] {
        &self.hunks
    }

    /// Whether new-side line `line` was added (a `+` line).
    pub fn is_added(&self, line: usize) -> bool {
        self.added.binary_search(&line).is_ok()
    }

    /// The old-side line counter where new-side line `line` stands, when a hunk shows it: a
    /// context line's own old-side number, or for an added line the number the next old line
    /// has. GitLab anchors a comment on a context line by both numbers and builds its line
    /// codes (`sha1(path)_old_new`) from this pair.
    pub fn old_line_at(&self, line: usize) -> Option<usize> {
        let i = self
            .old_at
            .binary_search_by_key(&line, |&(new, _)| new)
            .ok()?;
        Some(self.old_at[i].1)
    }

    /// The index of the hunk that shows new-side line `line` (added or context).
    pub fn hunk_of(&self, line: usize) -> Option<usize> {
        self.hunks.iter().position(|h| h.contains(line))
    }

    /// The first added line inside `range`.
    pub fn first_added_in(&self, range: RangeInclusive<usize>) -> Option<usize> {
        let i = self.added.partition_point(|&l| l < *range.start());
        self.added.get(i).copied().filter(|l| range.contains(l))
    }

    /// The first line inside `range` that some hunk shows (a valid RIGHT-side anchor).
    pub fn first_hunk_line_in(&self, range: RangeInclusive<usize>) -> Option<usize> {
        self.hunks.iter().filter_map(|h| h.first_in(&range)).min()
    }

    /// Whether all of `range` lies inside one hunk, so one multi-line comment can cover it.
    pub fn one_hunk_covers(&self, range: RangeInclusive<usize>) -> bool {
        match self.hunk_of(*range.start()) {
            Some(i) => range.start() <= range.end() && self.hunks[i].contains(*range.end()),
            None => false,
        }
    }
}

/// Lines git may print before the first hunk of a file.
const HEADER_PREFIXES: [&str; 15] = [
    "diff ",
    "index ",
    "--- ",
    "+++ ",
    "old mode ",
    "new mode ",
    "deleted file mode ",
    "new file mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
    "Binary files ",
];

#[derive(Default)]
struct Parser {
    diff: FileDiff,
    /// Old and new lines still expected by the current hunk, and the next number on each side.
    left_old: usize,
    left_new: usize,
    next_new: usize,
    next_old: usize,
    in_hunks: bool,
}

impl Parser {
    fn run(mut self, patch: &str) -> Result<FileDiff, DiffError> {
        let mut last = 0;
        for (i, line) in patch.lines().enumerate() {
            last = i + 1;
            self.line(line).map_err(|message| DiffError {
                line: i + 1,
                message,
            })?;
        }
        if self.left_old > 0 || self.left_new > 0 {
            return Err(DiffError {
                line: last,
                message: format!(
                    "the patch ends inside a hunk ({} old and {} new lines missing)",
                    self.left_old, self.left_new
                ),
            });
        }
        Ok(self.diff)
    }

    fn line(&mut self, line: &str) -> Result<(), String> {
        let pending = self.left_old > 0 || self.left_new > 0;
        if line.starts_with('\\') {
            // "\ No newline at end of file" qualifies the line before it; it is not a line.
            return if self.in_hunks {
                Ok(())
            } else {
                Err("a `\\` line before any hunk".into())
            };
        }
        if !pending {
            if line.starts_with("@@") {
                return self.header(line);
            }
            if !self.in_hunks && HEADER_PREFIXES.iter().any(|p| line.starts_with(p)) {
                return Ok(());
            }
            return Err(if self.in_hunks {
                "more lines than the hunk header counts".into()
            } else {
                "expected a hunk header `@@ -a,b +c,d @@`".into()
            });
        }
        match line.as_bytes().first() {
            // An empty line is a context line whose single space an editor or mailer trimmed.
            Some(b' ') | None => {
                self.left_old = take(self.left_old, "context")?;
                self.left_new = take(self.left_new, "context")?;
                self.diff.old_at.push((self.next_new, self.next_old));
                self.next_new += 1;
                self.next_old += 1;
            }
            Some(b'-') => {
                self.left_old = take(self.left_old, "removed")?;
                self.next_old += 1;
            }
            Some(b'+') => {
                self.left_new = take(self.left_new, "added")?;
                self.diff.added.push(self.next_new);
                self.diff.old_at.push((self.next_new, self.next_old));
                self.next_new += 1;
            }
            _ => return Err("a hunk line must start with ` `, `+`, `-` or `\\`".into()),
        }
        Ok(())
    }

    fn header(&mut self, line: &str) -> Result<(), String> {
        let hunk = parse_header(line)?;
        if let Some(prev) = self.diff.hunks.last()
            && hunk.new_start < prev.new_start + prev.new_len
        {
            return Err("hunks overlap or are out of order".into());
        }
        // Room for every number on both sides, so that `next_new` and `next_old` never overflow.
        hunk.new_start
            .checked_add(hunk.new_len)
            .and(hunk.old_start.checked_add(hunk.old_len))
            .ok_or("hunk range overflows")?;
        self.left_old = hunk.old_len;
        self.left_new = hunk.new_len;
        self.next_new = hunk.new_start;
        self.next_old = hunk.old_start;
        self.in_hunks = true;
        self.diff.hunks.push(hunk);
        Ok(())
    }
}

fn take(left: usize, what: &str) -> Result<usize, String> {
    left.checked_sub(1)
        .ok_or_else(|| format!("a {what} line beyond the hunk header's counts"))
}

/// `@@ -a[,b] +c[,d] @@[ section heading]`; an omitted count means 1.
fn parse_header(line: &str) -> Result<Hunk, String> {
    let bad = || format!("malformed hunk header `{}`", shorten(line));
    let rest = line.strip_prefix("@@ -").ok_or_else(bad)?;
    let (ranges, _heading) = rest.split_once(" @@").ok_or_else(bad)?;
    let (old, new) = ranges.split_once(" +").ok_or_else(bad)?;
    let (old_start, old_len) = range(old).ok_or_else(bad)?;
    let (new_start, new_len) = range(new).ok_or_else(bad)?;
    if new_len > 0 && new_start == 0 {
        return Err(bad());
    }
    Ok(Hunk {
        old_start,
        old_len,
        new_start,
        new_len,
    })
}

fn range(s: &str) -> Option<(usize, usize)> {
    let (start, len) = match s.split_once(',') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => (number(s)?, 1),
    };
    Some((start, len))
}

fn number(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn shorten(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests;
