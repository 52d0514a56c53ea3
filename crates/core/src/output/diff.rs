//! `--diff`: every change `--fix` would make, as one unified diff that `git apply` and
//! `patch -p1` accept.

use similar::TextDiff;

/// One file's change: its report path and its text before and after (BOM included).
#[derive(Debug, Clone)]
pub struct Change {
    /// The path as reported (relative, forward slashes).
    pub path: String,
    /// The text on disk.
    pub before: String,
    /// The text with every fix applied.
    pub after: String,
}

/// A unified diff over all changed files, in the order given, with git-style headers.
pub fn render(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes.iter().filter(|c| c.before != c.after) {
        let diff = TextDiff::from_lines(&c.before, &c.after);
        // git's prefixes: an absolute path (outside the working directory) loses its `/`.
        let path = c.path.trim_start_matches('/');
        let a = format!("a/{path}");
        let b = format!("b/{path}");
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .missing_newline_hint(true)
                .header(&a, &b)
                .to_string(),
        );
    }
    out
}
