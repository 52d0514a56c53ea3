//! Fenced code blocks that the fenced text cannot close early.

/// A backtick fence longer than any backtick run in `content`, and at least three long.
///
/// A line of N backticks closes any fence of N or fewer, so a suggestion that itself holds
/// a fence would otherwise end the block early (reviewdog bug #999).
pub fn fence_for(content: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in content.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// `content` as a fenced block with info string `info`, line endings made `\n`.
///
/// The closing fence always starts a line of its own, also when `content` lacks a final
/// newline (a replacement at the end of a file without one). An empty `content` gives an
/// empty block, which as a suggestion deletes the commented lines.
pub fn fenced(info: &str, content: &str) -> String {
    let content = content.replace("\r\n", "\n");
    let fence = fence_for(&content);
    let mut out = format!("{fence}{info}\n{content}");
    if !content.is_empty() && !content.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&fence);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fence_outgrows_every_backtick_run() {
        assert_eq!(fence_for("read_only: true\n"), "```");
        assert_eq!(fence_for("a `b` c"), "```");
        assert_eq!(fence_for("```\nx\n```\n"), "````");
        assert_eq!(fence_for("``````"), "```````");
    }

    #[test]
    fn blocks_end_on_their_own_line() {
        assert_eq!(fenced("suggestion", "a\r\nb"), "```suggestion\na\nb\n```");
        assert_eq!(fenced("suggestion", ""), "```suggestion\n```");
        assert_eq!(fenced("diff", "```\n"), "````diff\n```\n````");
    }
}
