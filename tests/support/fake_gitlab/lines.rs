//! Which (old, new) line pairs a GitLab diff shows, and their line codes: what GitLab checks a
//! discussion's position against. Written apart from the product's hunk parser on purpose.

use sha1::{Digest, Sha1};

/// One line of a diff: its old-side and new-side numbers (`None` on the side it is not on),
/// and for an added line the old-side counter GitLab puts in its line code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub old: Option<u64>,
    pub new: Option<u64>,
    pub code_old: u64,
    pub code_new: u64,
}

/// Every line of the hunks in `diff`, in order.
pub fn lines(diff: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let (mut old, mut new) = (0u64, 0u64);
    for text in diff.lines() {
        if text.starts_with("@@") {
            let mut numbers = text
                .split_whitespace()
                .skip(1)
                .take(2)
                .map(|r| r[1..].split(',').next().unwrap_or("0").parse().unwrap_or(0));
            old = numbers.next().unwrap_or(0);
            new = numbers.next().unwrap_or(0);
            continue;
        }
        let (o, n) = match text.chars().next() {
            Some('+') => (None, Some(new)),
            Some('-') => (Some(old), None),
            Some('\\') => continue,
            _ => (Some(old), Some(new)),
        };
        out.push(Line {
            old: o,
            new: n,
            code_old: old,
            code_new: new,
        });
        old += u64::from(o.is_some());
        new += u64::from(n.is_some());
    }
    out
}

/// GitLab's line code of a line of `path`.
pub fn line_code(path: &str, line: &Line) -> String {
    let digest = Sha1::digest(path.as_bytes());
    format!(
        "{}_{}_{}",
        hex::encode(digest),
        line.code_old,
        line.code_new
    )
}
