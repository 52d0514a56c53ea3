//! The fake's memory: everything GitHub would know, as plain data. Handlers read and write it
//! under one lock; tests build it with `FakeGitHub`'s builders and read it with its inspectors.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::diff;
use super::faults::{FaultRule, RandomFaults};

/// The login GitHub shows for comments made with an installation token of the App.
pub const BOT_LOGIN: &str = "immutabot[bot]";

/// Which credentials a request carried, as the request log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `Bearer <something shaped like a JWT>` (valid or not).
    Jwt,
    /// Any other token (valid or not), verbatim.
    Token(String),
}

/// One line of the request log.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query exactly as received, prefix included.
    pub path: String,
    pub status: u16,
    pub auth: Auth,
    pub body: Vec<u8>,
}

impl RequestRecord {
    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or(&self.path)
    }
}

/// An installation access token the fake minted.
#[derive(Debug, Clone)]
pub struct Token {
    pub installation_id: u64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Repo {
    pub full_name: String,
    pub id: u64,
    /// (ref, path) → bytes; a ref is whatever string the test used (usually a commit SHA).
    pub files: BTreeMap<(String, String), Vec<u8>>,
    pub pulls: BTreeMap<u64, PullRequest>,
    pub check_runs: Vec<CheckRun>,
    /// `main` unless a test says otherwise.
    pub default_branch: String,
    /// Branch name → head commit (a ref of `files`).
    pub branches: BTreeMap<String, String>,
    /// Recursive tree listings answer only the root folder, with `truncated: true`, the way
    /// GitHub cuts trees over 100,000 entries or 7 MB.
    pub truncate_trees: bool,
    /// Blobs made through `POST /git/blobs`, by id.
    pub blobs: BTreeMap<String, Vec<u8>>,
    /// Trees made through `POST /git/trees`: id → every file of the tree, by path.
    pub trees: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// Commits made through the API or `push_as` (their files are in `files` under their
    /// sha); commits set by tests with `set_file` have none.
    pub commits: BTreeMap<String, Commit>,
}

/// A commit the fake made, with who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    pub tree: String,
    pub parents: Vec<String>,
    /// The author's and committer's name: `immutabot[bot]` for the App, else a login.
    pub author: String,
    pub message: String,
}

/// A comment on a pull request's conversation (the issues API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    pub user: String,
    pub body: String,
}

/// One file of a PR, as the files list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// added, removed, modified, renamed, copied, changed, unchanged.
    pub status: String,
    /// Absent for binary or too-large files, as on GitHub.
    pub patch: Option<String>,
    pub previous_filename: Option<String>,
}

impl FileChange {
    pub fn new(path: &str, status: &str, patch: Option<&str>) -> FileChange {
        FileChange {
            path: path.to_string(),
            status: status.to_string(),
            patch: patch.map(str::to_string),
            previous_filename: None,
        }
    }

    /// A modified file whose patch is computed from its old and new text.
    pub fn modified(path: &str, old: &str, new: &str) -> FileChange {
        FileChange::new(path, "modified", Some(&diff::github_patch(old, new)))
    }

    /// A new file: every line added.
    pub fn added(path: &str, new: &str) -> FileChange {
        FileChange::new(path, "added", Some(&diff::github_patch("", new)))
    }

    /// A deleted file: every line removed.
    pub fn removed(path: &str, old: &str) -> FileChange {
        FileChange::new(path, "removed", Some(&diff::github_patch(old, "")))
    }

    /// A renamed file, with the patch between the two texts (empty when unchanged).
    pub fn renamed(previous: &str, path: &str, old: &str, new: &str) -> FileChange {
        let patch = diff::github_patch(old, new);
        FileChange {
            previous_filename: Some(previous.to_string()),
            ..FileChange::new(path, "renamed", Some(&patch))
        }
    }
}

impl From<(&str, &str, Option<&str>)> for FileChange {
    fn from((path, status, patch): (&str, &str, Option<&str>)) -> FileChange {
        FileChange::new(path, status, patch)
    }
}

impl From<(String, String, Option<String>)> for FileChange {
    fn from((path, status, patch): (String, String, Option<String>)) -> FileChange {
        FileChange::new(&path, &status, patch.as_deref())
    }
}

#[derive(Debug, Clone)]
pub struct PullRequest {
    pub number: u64,
    pub state: String,
    pub draft: bool,
    pub base_sha: String,
    pub base_ref: String,
    pub head_sha: String,
    pub head_ref: String,
    /// Every head this PR had, oldest first; a review's `commit_id` must be one of them.
    pub head_history: Vec<String>,
    pub files: Vec<FileChange>,
    pub reviews: Vec<Review>,
    pub threads: Vec<Thread>,
    /// How many more times the files list answers 404 (GitHub's eventual consistency).
    pub files_not_found: usize,
    /// Title and body as written (empty for pull requests a test added).
    pub title: String,
    pub body: String,
    /// Who opened it.
    pub user: String,
    pub merged: bool,
    /// The conversation's comments, oldest first.
    pub comments: Vec<IssueComment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewComment {
    pub path: String,
    pub line: Option<u64>,
    pub side: Option<String>,
    pub start_line: Option<u64>,
    pub start_side: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct Review {
    pub id: u64,
    pub user: String,
    /// COMMENTED, APPROVED, CHANGES_REQUESTED or PENDING.
    pub state: String,
    pub commit_id: String,
    pub body: String,
    pub comments: Vec<ReviewComment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadComment {
    pub id: u64,
    pub author: String,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct Thread {
    /// `PRRT_<n>`.
    pub id: String,
    pub path: String,
    pub line: Option<u64>,
    pub start_line: Option<u64>,
    pub is_resolved: bool,
    pub is_outdated: bool,
    pub comments: Vec<ThreadComment>,
}

#[derive(Debug, Clone)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub external_id: Option<String>,
    pub details_url: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    /// The latest `output` (title, summary, text), without annotations.
    pub output: Option<Value>,
    /// Every `output` sent, in order (creation included), without annotations.
    pub outputs: Vec<Value>,
    /// All annotations, appended request after request.
    pub annotations: Vec<Value>,
}

/// One webhook delivery the fake made (or that a test recorded as made).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: u64,
    pub guid: String,
    pub delivered_at: DateTime<Utc>,
    pub redelivery: bool,
    pub duration: f64,
    /// GitHub's text: "OK" or "Invalid HTTP Response: 503" or a connection failure.
    pub status: String,
    /// 0 when nothing answered.
    pub status_code: u16,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<u64>,
    pub repository_id: Option<u64>,
    pub payload: Vec<u8>,
}

/// Remaining budget of one rate-limit resource (`core`, `graphql`).
#[derive(Debug, Clone)]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    pub reset: i64,
}

#[derive(Debug)]
pub struct State {
    pub app_id: u64,
    /// API root as clients see it, e.g. `http://127.0.0.1:1234/api/v3`.
    pub base_url: String,
    /// The path prefix (`""` or e.g. `/api/v3`).
    pub prefix: String,
    pub installations: BTreeMap<u64, BTreeSet<String>>,
    pub repos: BTreeMap<String, Repo>,
    pub tokens: HashMap<String, Token>,
    pub token_ttl: chrono::Duration,
    pub tokens_minted: usize,
    pub next_id: u64,
    pub thread_page_size: usize,
    pub faults: Vec<FaultRule>,
    pub random_faults: Option<RandomFaults>,
    pub requests: Vec<RequestRecord>,
    pub deliveries: Vec<Delivery>,
    pub webhook_url: Option<String>,
    pub webhook_secret: String,
    pub rate_limits: BTreeMap<String, RateLimit>,
    /// Codes GitHub hands to the App manifest flow's redirect; each converts once.
    pub manifest_codes: BTreeSet<String>,
    /// The OAuth App, its users and their organisations (`routes/oauth.rs`).
    pub oauth: super::routes::oauth::OAuthState,
    /// A person's push to make right before the next ref move.
    pub race_push: Option<RacePush>,
}

/// A push that lands between the App's look at a branch and its move of it.
#[derive(Debug, Clone)]
pub struct RacePush {
    pub repo: String,
    pub branch: String,
    pub user: String,
    pub files: Vec<(String, String)>,
}

impl State {
    pub fn new(app_id: u64) -> State {
        State {
            app_id,
            base_url: String::new(),
            prefix: String::new(),
            installations: BTreeMap::new(),
            repos: BTreeMap::new(),
            tokens: HashMap::new(),
            token_ttl: chrono::Duration::hours(1),
            manifest_codes: BTreeSet::new(),
            tokens_minted: 0,
            next_id: 1,
            thread_page_size: 100,
            faults: Vec::new(),
            random_faults: None,
            requests: Vec::new(),
            deliveries: Vec::new(),
            webhook_url: None,
            webhook_secret: String::new(),
            rate_limits: BTreeMap::new(),
            oauth: Default::default(),
            race_push: None,
        }
    }

    /// One counter for every id the fake hands out, so ids never collide across kinds.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A commit by `user` on top of `branch`'s head, changing `files`, and the branch moved
    /// to it; returns its sha.
    pub fn push_as(
        &mut self,
        repo: &str,
        branch: &str,
        user: &str,
        files: &[(String, String)],
    ) -> String {
        let n = self.next_id();
        let r = self.repo_mut(repo);
        let parent = r
            .branches
            .get(branch)
            .cloned()
            .unwrap_or_else(|| panic!("fake GitHub: no branch {branch} in {repo}"));
        let mut tree = super::git::files_of_commit(r, &parent);
        for (path, text) in files {
            tree.insert(path.clone(), text.as_bytes().to_vec());
        }
        let message = format!("push by {user}");
        let sha = super::git::commit_id(
            &super::git::tree_id(&tree),
            std::slice::from_ref(&parent),
            &message,
            n,
        );
        super::git::store_commit(r, &sha, &tree, vec![parent], user, &message);
        super::git::move_branch(r, branch, &sha);
        sha
    }

    /// Makes the racing push, if one waits for the next ref move.
    pub fn race(&mut self) {
        if let Some(r) = self.race_push.take() {
            self.push_as(&r.repo, &r.branch, &r.user, &r.files);
        }
    }

    pub fn repo_mut(&mut self, full_name: &str) -> &mut Repo {
        self.repos
            .get_mut(full_name)
            .unwrap_or_else(|| panic!("fake GitHub: add_repo({full_name:?}, …) first"))
    }

    pub fn pull_mut(&mut self, full_name: &str, number: u64) -> &mut PullRequest {
        self.repo_mut(full_name)
            .pulls
            .get_mut(&number)
            .unwrap_or_else(|| panic!("fake GitHub: no pull request {full_name}#{number}"))
    }

    pub fn repo_by_id(&self, id: u64) -> Option<&Repo> {
        self.repos.values().find(|r| r.id == id)
    }

    /// The thread with this id, wherever it lives.
    pub fn thread_mut(&mut self, id: &str) -> Option<&mut Thread> {
        self.repos
            .values_mut()
            .flat_map(|r| r.pulls.values_mut())
            .flat_map(|p| p.threads.iter_mut())
            .find(|t| t.id == id)
    }

    /// Which repository holds the thread (for the token's installation check).
    pub fn thread_repo(&self, id: &str) -> Option<String> {
        self.repos
            .values()
            .find(|r| {
                r.pulls
                    .values()
                    .any(|p| p.threads.iter().any(|t| t.id == id))
            })
            .map(|r| r.full_name.clone())
    }
}
