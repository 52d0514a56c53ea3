//! A fix shown as a small unified diff: for a comment whose patch cannot be a suggestion,
//! and for the folded details of an annotation.

use crate::model::Fix;
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;

/// The lines `fix` replaces in `source` and their replacement, as one `@@` hunk.
///
/// Lines the fix keeps show as context, so the reader sees where the change sits. Line
/// endings are dropped: the block is for reading, not for `git apply`.
pub fn unified(source: &str, fix: &Fix) -> String {
    let first = fix.start_line.max(1);
    let old: String = source
        .split_inclusive('\n')
        .skip(first - 1)
        .take(fix.end_line.saturating_sub(first) + 1)
        .collect();
    let new = fix.replacement.as_str();
    let mut out = format!(
        "@@ -{first},{} +{first},{} @@\n",
        old.split_inclusive('\n').count(),
        new.split_inclusive('\n').count(),
    );
    let diff = TextDiff::from_lines(old.as_str(), new);
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            ChangeTag::Equal => ' ',
            ChangeTag::Delete => '-',
            ChangeTag::Insert => '+',
        };
        let line = change.value().trim_end_matches(['\n', '\r']);
        let _ = writeln!(out, "{sign}{line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_kept_removed_and_added_lines() {
        let source = "services:\r\n  web:\r\n    image: nginx\r\n";
        let fix = Fix {
            description: "set read_only".into(),
            start_line: 2,
            end_line: 3,
            replacement: "  web:\r\n    image: nginx\r\n    read_only: true\r\n".into(),
        };
        assert_eq!(
            unified(source, &fix),
            "@@ -2,2 +2,3 @@\n   web:\n     image: nginx\n+    read_only: true\n"
        );
    }

    #[test]
    fn a_range_past_the_end_takes_what_exists() {
        let fix = Fix {
            description: "d".into(),
            start_line: 0,
            end_line: 99,
            replacement: "b".into(),
        };
        assert_eq!(unified("a", &fix), "@@ -1,1 +1,1 @@\n-a\n+b\n");
    }
}
