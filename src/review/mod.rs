//! Pull-request review: which findings become inline comments, which go to the check run,
//! and the exact text of both.
//!
//! Everything here is pure: the service fetches the pull request's files and patches, the
//! analysis core judges them, [`plan::plan`] decides where each finding goes, and the
//! renderers write the words. The forge client only posts what comes out.

pub mod annotate;
pub mod baseline;
pub mod diff;
pub mod escape;
pub mod fence;
pub mod fix_diff;
pub mod marker;
pub mod place;
pub mod plan;
pub mod pointers;
pub mod render;
pub mod summary;

pub use diff::{DiffError, FileDiff};
pub use plan::{Plan, PlannedComment, PlannedFinding, ReviewFile, plan};

/// GitHub's limit on a review comment body, in characters (we count bytes, which is stricter).
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// GitHub's limit on a check run's summary, in characters (we count bytes, which is stricter).
pub const MAX_SUMMARY_CHARS: usize = 65_535;

/// Inline comments per review, as reviewdog does: more trips GitHub's abuse detection.
pub const MAX_COMMENTS: usize = 30;

/// Line numbers beyond `u32` cannot be posted; GitHub would reject them anyway.
pub(crate) fn to_u32(line: usize) -> u32 {
    u32::try_from(line.max(1)).unwrap_or(u32::MAX)
}

/// At most `max` bytes of `s`, cut at a character boundary, with an ellipsis when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn truncation_keeps_char_boundaries() {
        assert_eq!(super::truncate("abc", 3), "abc");
        assert_eq!(super::truncate("ééé", 5), "é…");
        assert_eq!(super::to_u32(0), 1);
        assert_eq!(super::to_u32(usize::MAX), u32::MAX);
    }
}
