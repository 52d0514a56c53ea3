//! The fake's memory: what GitLab would know, as plain data, under one lock.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::faults::{FaultRule, RandomFaults};

/// One line of the request log.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query exactly as received.
    pub path: String,
    pub status: u16,
    /// The `PRIVATE-TOKEN` header, verbatim.
    pub token: Option<String>,
    pub body: Vec<u8>,
}

impl RequestRecord {
    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or(&self.path)
    }

    /// The body as JSON (`Null` when it is none).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: i64,
    pub path: String,
    pub default_branch: String,
    /// Branch → head commit.
    pub branches: HashMap<String, String>,
    /// (ref, path) → bytes; a ref is whatever the test used (usually a commit SHA).
    pub files: HashMap<(String, String), Vec<u8>>,
    pub merge_requests: BTreeMap<i64, MergeRequest>,
    pub statuses: Vec<CommitStatus>,
    /// Commits made through the API or by [`crate::FakeGitLab::push_branch`]; a commit
    /// only given files is shown as made by a person with no parents.
    pub commits: HashMap<String, Commit>,
}

impl Project {
    /// Every file at commit `from`, also at commit `to`: a new commit starts as its parent.
    pub fn copy_files(&mut self, from: &str, to: &str) {
        let copied: Vec<_> = self
            .files
            .iter()
            .filter(|((r, _), _)| r == from)
            .map(|((_, path), bytes)| ((to.to_string(), path.clone()), bytes.clone()))
            .collect();
        self.files.extend(copied);
    }
}

/// What `GET /repository/commits/:sha` shows of a commit.
#[derive(Debug, Clone)]
pub struct Commit {
    pub parents: Vec<String>,
    pub author_name: String,
    pub committer_name: String,
    pub message: String,
}

/// One file of a merge request's diffs, as `GET …/diffs` lists it.
#[derive(Debug, Clone)]
pub struct Diff {
    pub old_path: String,
    pub new_path: String,
    pub new_file: bool,
    pub renamed_file: bool,
    pub deleted_file: bool,
    /// Hunks only, as GitLab sends them; empty for a file too large to show.
    pub diff: String,
    pub too_large: bool,
}

#[derive(Debug, Clone)]
pub struct MergeRequest {
    pub iid: i64,
    pub state: String,
    pub title: String,
    pub description: String,
    pub source_branch: String,
    pub draft: bool,
    pub target_branch: String,
    pub source_project_id: i64,
    pub base_sha: String,
    pub start_sha: String,
    pub head_sha: String,
    /// Reads left that answer `diff_refs: null` (GitLab just after creation).
    pub null_diff_refs_reads: usize,
    pub diffs: Vec<Diff>,
    pub discussions: Vec<Discussion>,
    /// Notes outside discussions (the summary).
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone)]
pub struct Discussion {
    /// 40 hex digits, as GitLab's.
    pub id: String,
    pub notes: Vec<Note>,
    /// The `position` the first note was created with.
    pub position: Option<Value>,
    pub resolved: bool,
}

#[derive(Debug, Clone)]
pub struct Note {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub system: bool,
}

#[derive(Debug, Clone)]
pub struct CommitStatus {
    pub sha: String,
    pub name: String,
    pub state: String,
    pub description: Option<String>,
}

#[derive(Default)]
pub struct State {
    /// `http://127.0.0.1:PORT`, for absolute `Link` headers.
    pub base_url: String,
    /// Token → the username it acts as.
    pub tokens: HashMap<String, String>,
    /// Username → display name (the author of its commits); the username when not set.
    pub names: HashMap<String, String>,
    pub projects: BTreeMap<i64, Project>,
    pub requests: Vec<RequestRecord>,
    pub faults: Vec<FaultRule>,
    pub random_faults: Option<RandomFaults>,
    pub next_id: i64,
}

impl State {
    /// A user's display name.
    pub fn name_of(&self, username: &str) -> String {
        self.names
            .get(username)
            .cloned()
            .unwrap_or_else(|| username.to_string())
    }

    pub fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn project_mut(&mut self, id: i64) -> &mut Project {
        self.projects
            .get_mut(&id)
            .unwrap_or_else(|| panic!("the fake GitLab has no project {id}"))
    }

    pub fn mr_mut(&mut self, project: i64, iid: i64) -> &mut MergeRequest {
        self.project_mut(project)
            .merge_requests
            .get_mut(&iid)
            .unwrap_or_else(|| panic!("project {project} has no merge request !{iid}"))
    }
}
