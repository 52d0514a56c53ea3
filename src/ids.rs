//! Small types for the identities that cross the service's boundaries.
//!
//! Forge payloads are parsed into these at the edge, so a pull-request number can never be
//! passed where an installation id is expected, and a SHA is known to be one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A GitHub App installation id (`installation.id` in a payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstallationId(pub i64);

/// A pull-request number within its repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrNumber(pub i64);

/// A GitHub repository id: also the repository's row id in our database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RepoId(pub i64);

/// A GitLab project's numeric id (what `/projects/:id/…` takes; it shares a number space
/// with GitHub's ids, so it is never a row id by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProjectId(pub i64);

/// The code forge a repository, owner or job belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Forge {
    /// github.com or GitHub Enterprise Server.
    GitHub,
    /// gitlab.com or a self-managed GitLab.
    GitLab,
}

impl Forge {
    /// The name the database uses (`repositories.forge`).
    pub fn as_str(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::GitLab => "gitlab",
        }
    }
}

/// A merge request's number within its GitLab project (`iid`, not the global `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MergeRequestIid(pub i64);

/// A queue job's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

/// A check run's id on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckRunId(pub i64);

/// A full, lowercase hex commit SHA (40 characters; 64 for SHA-256 repositories).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommitSha(String);

impl CommitSha {
    /// Accepts 40 or 64 hex digits; anything else is not a commit id we will put in a URL.
    pub fn parse(s: &str) -> Result<CommitSha, String> {
        let ok = (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(CommitSha(s.to_ascii_lowercase()))
        } else {
            Err(format!("not a commit SHA: {s:?}"))
        }
    }

    /// The SHA as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CommitSha {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        CommitSha::parse(&s)
    }
}

impl From<CommitSha> for String {
    fn from(s: CommitSha) -> String {
        s.0
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An `owner/name` repository, validated so it can be put into an API path as is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoName {
    owner: String,
    name: String,
}

impl RepoName {
    /// Parses `owner/name`; both parts may hold only `A-Z a-z 0-9 . _ -` (GitHub's own rule),
    /// and neither may be `.` or `..`, so the result is safe in a URL path.
    pub fn parse(full: &str) -> Result<RepoName, String> {
        let bad = || format!("not an owner/name repository: {full:?}");
        let (owner, name) = full.split_once('/').ok_or_else(bad)?;
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.len() <= 100
                && p != "."
                && p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        if part_ok(owner) && part_ok(name) {
            Ok(RepoName {
                owner: owner.to_string(),
                name: name.to_string(),
            })
        } else {
            Err(bad())
        }
    }

    /// The owner (user or organisation) login.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository's name without the owner.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl TryFrom<String> for RepoName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        RepoName::parse(&s)
    }
}

impl From<RepoName> for String {
    fn from(r: RepoName) -> String {
        r.to_string()
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A GitLab project's full path, `group[/subgroup...]/project`, validated so it can be put
/// into an API path (URL-encoded) and compared by prefix for nested groups.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectPath(String);

impl ProjectPath {
    /// Parses `group/.../project`: at least two parts, each of `A-Z a-z 0-9 . _ -`, none
    /// `.` or `..`.
    pub fn parse(full: &str) -> Result<ProjectPath, String> {
        let parts: Vec<&str> = full.split('/').collect();
        let part_ok = |p: &&str| {
            !p.is_empty()
                && p.len() <= 255
                && *p != "."
                && *p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        if parts.len() >= 2 && parts.iter().all(part_ok) {
            Ok(ProjectPath(full.to_string()))
        } else {
            Err(format!("not a group/project path: {full:?}"))
        }
    }

    /// The namespace (group path, maybe nested) the project is in.
    pub fn namespace(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(ns, _)| ns)
    }

    /// The project's own path, without its namespace.
    pub fn name(&self) -> &str {
        self.0.rsplit_once('/').map_or(&self.0, |(_, n)| n)
    }

    /// The full path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProjectPath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        ProjectPath::parse(&s)
    }
}

impl From<ProjectPath> for String {
    fn from(p: ProjectPath) -> String {
        p.0
    }
}

impl fmt::Display for ProjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A report owner: a GitHub user or organisation login, or a GitLab group path
/// (`group[/subgroup...]`), validated as the forges allow them, so a token is never made for
/// a name no forge has.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnerName(String);

/// The longest full path GitLab allows; GitHub logins are at most 39 characters.
const MAX_OWNER_LEN: usize = 255;

impl OwnerName {
    /// Parses an owner: parts of `A-Z a-z 0-9 . _ -` separated by `/`, none empty, `.` or
    /// `..`, none starting with `-` or `.`, 255 characters in all at most.
    pub fn parse(s: &str) -> Result<OwnerName, String> {
        let part_ok = |p: &str| {
            !p.is_empty()
                && !p.starts_with(['-', '.'])
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        if s.len() <= MAX_OWNER_LEN && s.split('/').all(part_ok) {
            Ok(OwnerName(s.to_string()))
        } else {
            Err(format!(
                "not an owner name a forge allows: {s:?} (a GitHub login or a GitLab group path: letters, digits, `.`, `_`, `-`, groups separated by `/`, at most {MAX_OWNER_LEN} characters)"
            ))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for OwnerName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OwnerName::parse(s)
    }
}

impl fmt::Display for OwnerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_names_a_forge_allows() {
        for ok in ["acme", "Acme-Corp", "top/sub/team", "a_b.c"] {
            assert!(OwnerName::parse(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(300);
        for bad in [
            "",
            "a\"b",
            "50%",
            "-lead",
            ".hidden",
            "a//b",
            "a/../b",
            "a b",
            long.as_str(),
        ] {
            assert!(OwnerName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repo_names_are_safe_in_a_path() {
        assert_eq!(
            RepoName::parse("Codertocat/Hello-World")
                .unwrap()
                .to_string(),
            "Codertocat/Hello-World"
        );
        for bad in ["a", "a/b/c", "../x", "a/..", "a/b?c", "a/b%2f", "/b", "a/"] {
            assert!(RepoName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn project_paths_nest_and_are_safe_in_a_path() {
        let p = ProjectPath::parse("a/b.c/d-e").unwrap();
        assert_eq!((p.namespace(), p.name()), ("a/b.c", "d-e"));
        for bad in ["a", "a//b", "../x", "a/..", "a/b?c", "/b", "a/"] {
            assert!(ProjectPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shas_are_hex_of_the_right_length() {
        assert!(CommitSha::parse("ec26c3e57ca3a959ca5aad62de7213c562f8c821").is_ok());
        assert!(CommitSha::parse("ec26c3e5").is_err());
        assert!(CommitSha::parse("../../../../../../../../../../../../../../etc/passwd").is_err());
    }
}
