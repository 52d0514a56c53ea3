//! Where a neutral review comment goes in GitLab's terms: a text position with the diff
//! refs, both line numbers for an unchanged line, line codes for a range, and GitLab's
//! relative suggestion fence.

use super::merge_requests::DiffRefs;
use crate::forge::{ChangedFile, ReviewComment};
use crate::review::diff::FileDiff;
use serde::Serialize;
use sha1::{Digest, Sha1};

/// `position` of a new diff discussion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Position {
    position_type: &'static str,
    base_sha: String,
    start_sha: String,
    head_sha: String,
    old_path: String,
    new_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_line: Option<usize>,
    new_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_range: Option<LineRange>,
}

/// First and last line of a multi-line comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct LineRange {
    start: RangeEnd,
    end: RangeEnd,
}

/// One end of a line range: GitLab finds the line by its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct RangeEnd {
    line_code: String,
    /// `new` for an added line, `old` otherwise (GitLab's documented rule).
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_line: Option<usize>,
    new_line: usize,
}

/// How one new-side line shows in the file's diff.
enum LineKind {
    /// A `+` line: GitLab wants `new_line` only.
    Added { old_counter: usize },
    /// An unchanged line shown as context: GitLab wants both numbers.
    Context { old_line: usize },
    /// Not in the diff (or no usable diff): GitLab will refuse any position on it.
    Outside,
}

fn kind_of(diff: Option<&FileDiff>, line: usize) -> LineKind {
    let Some(diff) = diff else {
        return LineKind::Outside;
    };
    match diff.old_line_at(line) {
        Some(old_counter) if diff.is_added(line) => LineKind::Added { old_counter },
        Some(old_line) => LineKind::Context { old_line },
        None => LineKind::Outside,
    }
}

/// GitLab's line code: `sha1(path)_old_new`.
fn line_code(path: &str, old: usize, new: usize) -> String {
    format!("{}_{old}_{new}", hex::encode(Sha1::digest(path.as_bytes())))
}

fn range_end(path: &str, diff: Option<&FileDiff>, line: usize) -> RangeEnd {
    let (kind, old_counter, old_line) = match kind_of(diff, line) {
        LineKind::Added { old_counter } => ("new", old_counter, None),
        LineKind::Context { old_line } => ("old", old_line, Some(old_line)),
        LineKind::Outside => ("new", 0, None),
    };
    RangeEnd {
        line_code: line_code(path, old_counter, line),
        kind,
        old_line,
        new_line: line,
    }
}

/// The position of `comment` on `file` (the file's entry in the merge request's diffs).
pub(crate) fn position(comment: &ReviewComment, file: &ChangedFile, refs: &DiffRefs) -> Position {
    let diff = file.patch.as_deref().and_then(|p| FileDiff::parse(p).ok());
    let line = comment.line as usize;
    let old_line = match kind_of(diff.as_ref(), line) {
        LineKind::Context { old_line } => Some(old_line),
        LineKind::Added { .. } | LineKind::Outside => None,
    };
    let path = &comment.path;
    let line_range = comment
        .start_line
        .filter(|&start| start < comment.line)
        .map(|start| LineRange {
            start: range_end(path, diff.as_ref(), start as usize),
            end: range_end(path, diff.as_ref(), line),
        });
    Position {
        position_type: "text",
        base_sha: refs.base_sha.to_string(),
        start_sha: refs.start_sha.to_string(),
        head_sha: refs.head_sha.to_string(),
        old_path: file.previous_path.clone().unwrap_or_else(|| path.clone()),
        new_path: path.clone(),
        old_line,
        new_line: line,
        line_range,
    }
}

/// Rewrites GitHub-form suggestion fences (```` ```suggestion ````, replacing the comment's
/// lines) into GitLab's form anchored on the comment's last line: ```` ```suggestion:-A+0 ````
/// replaces the `above` lines before it and the line itself.
pub fn gitlab_suggestion(body: &str, above: u32) -> String {
    body.split_inclusive('\n')
        .map(|line| {
            let (text, ending) = match line.strip_suffix('\n') {
                Some(text) => (text, "\n"),
                None => (line, ""),
            };
            let ticks = text.bytes().take_while(|&b| b == b'`').count();
            if ticks >= 3 && text[ticks..].trim_end() == "suggestion" {
                format!("{}suggestion:-{above}+0{ending}", &text[..ticks])
            } else {
                line.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::FileStatus;
    use crate::ids::CommitSha;

    fn refs() -> DiffRefs {
        let sha = |c: char| CommitSha::parse(&c.to_string().repeat(40)).unwrap();
        DiffRefs {
            base_sha: sha('a'),
            start_sha: sha('b'),
            head_sha: sha('c'),
        }
    }

    fn file(patch: &str) -> ChangedFile {
        ChangedFile {
            path: "k8s/web.yaml".into(),
            previous_path: None,
            status: FileStatus::Modified,
            patch: Some(patch.into()),
        }
    }

    fn comment(start_line: Option<u32>, line: u32) -> ReviewComment {
        ReviewComment {
            path: "k8s/web.yaml".into(),
            start_line,
            line,
            body: String::new(),
        }
    }

    const PATCH: &str = "@@ -10,3 +10,4 @@ spec:\n   a\n-  b\n+  c\n+  d\n   e\n";

    #[test]
    fn an_added_line_has_only_its_new_number() {
        let p = position(&comment(None, 11), &file(PATCH), &refs());
        assert_eq!((p.old_line, p.new_line), (None, 11));
        assert_eq!(p.old_path, "k8s/web.yaml");
        assert!(p.line_range.is_none());
    }

    #[test]
    fn a_context_line_has_both_numbers() {
        let p = position(&comment(None, 13), &file(PATCH), &refs());
        assert_eq!((p.old_line, p.new_line), (Some(12), 13));
        let first = position(&comment(None, 10), &file(PATCH), &refs());
        assert_eq!(first.old_line, Some(10));
    }

    #[test]
    fn a_range_names_both_ends_by_line_code() {
        let p = position(&comment(Some(10), 12), &file(PATCH), &refs());
        let range = p.line_range.unwrap();
        let path_sha = hex::encode(Sha1::digest(b"k8s/web.yaml"));
        assert_eq!(range.start.line_code, format!("{path_sha}_10_10"));
        assert_eq!((range.start.kind, range.start.old_line), ("old", Some(10)));
        assert_eq!(range.end.line_code, format!("{path_sha}_12_12"));
        assert_eq!((range.end.kind, range.end.old_line), ("new", None));
        assert_eq!(p.new_line, 12);
    }

    #[test]
    fn line_codes_hash_the_path() {
        // sha1("README.md"), as GitLab's own line codes for that file begin.
        assert_eq!(
            line_code("README.md", 0, 1),
            "8ec9a00bfd09b3190ac6b22251dbb1aa95a0579d_0_1"
        );
    }

    #[test]
    fn a_rename_keeps_the_old_path() {
        let mut f = file(PATCH);
        f.previous_path = Some("old/web.yaml".into());
        f.status = FileStatus::Renamed;
        assert_eq!(
            position(&comment(None, 11), &f, &refs()).old_path,
            "old/web.yaml"
        );
    }

    #[test]
    fn suggestion_fences_become_relative() {
        let body = "**x**\n\n```suggestion\n    read_only: true\n```\n\n<!-- m -->";
        assert_eq!(
            gitlab_suggestion(body, 0),
            "**x**\n\n```suggestion:-0+0\n    read_only: true\n```\n\n<!-- m -->"
        );
        let long = "````suggestion\n```\n````\n";
        assert_eq!(
            gitlab_suggestion(long, 3),
            "````suggestion:-3+0\n```\n````\n"
        );
        let other = "```yaml\nsuggestion\n```suggestions\n";
        assert_eq!(gitlab_suggestion(other, 1), other);
    }
}
