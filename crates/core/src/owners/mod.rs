//! CODEOWNERS: which teams own each file, in GitHub's and GitLab's syntax.
//!
//! GitHub: one list of `pattern owner…` lines, the last matching line wins (a line with no
//! owners leaves its files unowned). GitLab adds sections (`[Section]`, `^[Optional]`,
//! `[Section][2]`, default owners after the header, `!pattern` exclusions): within a section
//! the last match wins, and a file's owners are the union over the sections. A line that
//! does not parse is reported with its number and reason and ignored, as both forges do.

pub mod pattern;
mod syntax;

use pattern::Pattern;
use std::fmt;

/// Which forge's rules a CODEOWNERS file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// GitHub's: no sections, no `!`, no `[...]`.
    GitHub,
    /// GitLab's: sections, default owners, exclusions, fnmatch classes.
    GitLab,
}

/// The largest CODEOWNERS file either forge reads (GitHub ignores one over 3 MB).
pub const MAX_BYTES: usize = 3 * 1024 * 1024;

/// The name of a unit's owner group when no CODEOWNERS line covers its file.
pub const NO_OWNER: &str = "(no owner)";

impl Syntax {
    /// Where the forge looks for the file, in its order: the first one found is used.
    pub fn locations(self) -> &'static [&'static str] {
        match self {
            // docs.github.com: "search for them in that order and use the first one it finds".
            Syntax::GitHub => &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"],
            // gitlab-org/gitlab ee/lib/gitlab/code_owners.rb FILE_PATHS (issue 366394).
            Syntax::GitLab => &["CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"],
        }
    }

    /// The first of [`Syntax::locations`] for which `exists` says yes.
    pub fn locate(self, exists: impl Fn(&str) -> bool) -> Option<&'static str> {
        self.locations().iter().copied().find(|p| exists(p))
    }
}

/// A line that was not understood, and why; the file's other lines still apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// The line as written.
    pub text: String,
    /// Why it was ignored.
    pub reason: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} (`{}`)", self.line, self.reason, self.text)
    }
}

/// One `pattern owner…` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    pattern: Pattern,
    owners: Vec<String>,
    /// GitLab's `!pattern`: the section does not own what it matches.
    exclude: bool,
}

/// A GitLab section (GitHub's file is one unnamed section).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Section {
    /// The name as first written; empty for the lines before any header.
    name: String,
    entries: Vec<Entry>,
}

/// A parsed CODEOWNERS file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeOwners {
    sections: Vec<Section>,
    errors: Vec<LineError>,
}

impl CodeOwners {
    /// Parses a CODEOWNERS file; lines that do not parse are in [`CodeOwners::errors`].
    pub fn parse(text: &str, syntax: Syntax) -> CodeOwners {
        syntax::parse(text, syntax)
    }

    /// The lines that were ignored, with the reason.
    pub fn errors(&self) -> &[LineError] {
        &self.errors
    }

    /// The owners of the file at `path`, in the order the file names them, each once; empty
    /// when no line covers it.
    pub fn owners_of(&self, path: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for section in &self.sections {
            for owner in section.owners_of(path) {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(owner)) {
                    out.push(owner.clone());
                }
            }
        }
        out
    }
}

impl Section {
    fn owners_of(&self, path: &str) -> &[String] {
        if self
            .entries
            .iter()
            .any(|e| e.exclude && e.pattern.matches(path))
        {
            return &[];
        }
        self.entries
            .iter()
            .rev()
            .find(|e| !e.exclude && e.pattern.matches(path))
            .map_or(&[], |e| &e.owners)
    }
}

#[cfg(test)]
mod tests;
