//! A stateful fake GitLab for tests: a real HTTP server on 127.0.0.1 that answers the API v4
//! calls the bot makes (see `../shared/research/github-gitlab.md` §2) the way GitLab does —
//! token check, paging headers and error texts included — and remembers what the bot did.
//!
//! Include it from a test file with
//!
//! ```ignore
//! #[path = "support/fake_gitlab/mod.rs"]
//! mod fake_gitlab;
//! use fake_gitlab::{Diff, FakeGitLab, Fault};
//! ```
//!
//! Layout: `state.rs` (the data), `lines.rs` (which line pairs a diff shows, line codes),
//! `routes/` (one file per API area, plus the layer that checks the token, plays scripted
//! faults and logs every request). Scripted faults are the fake GitHub's (`faults.rs`, shared),
//! with GitLab's own answers built here.
//!
//! Where it knowingly departs from GitLab or is unsure of it:
//! - commit statuses refuse only a repeated state (GitLab's state machine refuses more, and
//!   which transitions differ between versions); the text after `Cannot transition status via
//!   :x from :y` is as reported in packit-service#741, not re-read from GitLab's source;
//! - a wrong position is always the one `line_code` answer; GitLab sometimes accepts a note
//!   with wrong SHAs and shows it unpositioned (gitlab#296829);
//! - tree listings use offset pagination only (GitLab also offers keyset);
//! - the Commits API knows `create` and `update` actions as text, `start_sha` and `force`;
//!   the refusal of a `start_sha` onto an existing branch without `force` carries the text
//!   GitLab's web editor shows, not one re-read from its API;
//! - a merge request made through the API has no diffs (nothing here reviews the bot's own).

#![allow(dead_code, unused_imports)]

#[path = "../fake_github/diff.rs"]
mod diff;
#[path = "../fake_github/faults.rs"]
mod faults;
mod lines;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use faults::{Fault, RandomFaults};
pub use state::{Commit, CommitStatus, Diff, Discussion, MergeRequest, Note, RequestRecord};

use faults::FaultRule;
use state::{Project, State};

/// GitLab's answer to a position that is not in the diff.
pub const LINE_CODE_MESSAGE: &str =
    "400 Bad request - Note {:line_code=>[\"can't be blank\", \"must be a valid line code\"]}";

/// A running fake. Dropping it stops the server.
pub struct FakeGitLab {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGitLab {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Diff {
    /// A changed file, its hunks computed from the two texts.
    pub fn modified(path: &str, old: &str, new: &str) -> Diff {
        Diff::raw(path, &format!("{}\n", diff::github_patch(old, new)))
    }

    /// A new file.
    pub fn added(path: &str, text: &str) -> Diff {
        Diff {
            new_file: true,
            ..Diff::modified(path, "", text)
        }
    }

    /// A file GitLab will not show: an empty `diff`, `too_large: true`.
    pub fn too_large(path: &str) -> Diff {
        Diff {
            too_large: true,
            ..Diff::raw(path, "")
        }
    }

    /// A file with these exact hunks.
    pub fn raw(path: &str, diff: &str) -> Diff {
        Diff {
            old_path: path.into(),
            new_path: path.into(),
            new_file: false,
            renamed_file: false,
            deleted_file: false,
            diff: diff.into(),
            too_large: false,
        }
    }
}

impl Fault {
    /// A 5xx as GitLab's Rails answers it.
    pub fn gitlab_error(status: u16) -> Fault {
        let text = match status {
            502 => "502 Bad Gateway",
            503 => "503 Service Unavailable",
            _ => "500 Internal Server Error",
        };
        Fault::message(status, text)
    }

    /// 429 with `retry-after` (seconds) and GitLab's `RateLimit-*` headers.
    pub fn gitlab_rate_limited(retry_after: u64) -> Fault {
        let reset = chrono::Utc::now().timestamp() + retry_after as i64;
        Fault::message(429, "Retry later")
            .header("retry-after", &retry_after.to_string())
            .header("ratelimit-limit", "600")
            .header("ratelimit-remaining", "0")
            .header("ratelimit-reset", &reset.to_string())
    }
}

impl FakeGitLab {
    /// Starts a fake on 127.0.0.1 with a free port; its API lives under `/api/v4`.
    pub async fn start() -> FakeGitLab {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            base_url: format!("http://{addr}"),
            ..State::default()
        }));
        let app = routes::router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake GitLab serves");
        });
        FakeGitLab {
            state,
            addr,
            server,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `GITLAB_URL` is for this fake (the API is at `{url}/api/v4`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    // ---- builders ----

    /// A token that acts as `username` (a project token's bot user).
    pub fn add_token(&self, token: &str, username: &str) -> &Self {
        self.lock().tokens.insert(token.into(), username.into());
        self
    }

    pub fn add_project(&self, id: i64, path: &str, default_branch: &str) -> &Self {
        let project = Project {
            id,
            path: path.into(),
            default_branch: default_branch.into(),
            branches: Default::default(),
            files: Default::default(),
            merge_requests: Default::default(),
            statuses: Vec::new(),
            commits: Default::default(),
        };
        self.lock().projects.insert(id, project);
        self
    }

    /// Moves (or creates) a branch.
    pub fn set_branch(&self, project: i64, branch: &str, head_sha: &str) -> &Self {
        self.lock()
            .project_mut(project)
            .branches
            .insert(branch.into(), head_sha.into());
        self
    }

    /// The bytes of `path` at `git_ref`.
    pub fn set_file(
        &self,
        project: i64,
        git_ref: &str,
        path: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> &Self {
        self.lock()
            .project_mut(project)
            .files
            .insert((git_ref.into(), path.into()), bytes.into());
        self
    }

    /// The display name `username` writes commits as.
    pub fn set_name(&self, username: &str, name: &str) -> &Self {
        self.lock().names.insert(username.into(), name.into());
        self
    }

    /// A person's commit `sha` on `branch`, on top of its head, changing `files`.
    pub fn push_branch(
        &self,
        project: i64,
        branch: &str,
        sha: &str,
        author: &str,
        files: &[(&str, &str)],
    ) -> &Self {
        let mut st = self.lock();
        let p = st.project_mut(project);
        let parent = p.branches.get(branch).cloned().unwrap_or_default();
        p.copy_files(&parent, sha);
        for (path, text) in files {
            p.files
                .insert((sha.into(), (*path).into()), text.as_bytes().to_vec());
        }
        p.commits.insert(
            sha.into(),
            Commit {
                parents: vec![parent],
                author_name: author.into(),
                committer_name: author.into(),
                message: "A person's change\n".into(),
            },
        );
        p.branches.insert(branch.into(), sha.into());
        self
    }

    /// A person closes (or merges, with `"merged"`) the merge request.
    pub fn set_merge_request_state(&self, project: i64, iid: i64, state: &str) -> &Self {
        self.lock().mr_mut(project, iid).state = state.into();
        self
    }

    /// An open merge request from `feature` into the default branch, with these diffs.
    pub fn add_merge_request(
        &self,
        project: i64,
        iid: i64,
        (base_sha, start_sha, head_sha): (&str, &str, &str),
        diffs: Vec<Diff>,
    ) -> &Self {
        let mut st = self.lock();
        let p = st.project_mut(project);
        let mr = MergeRequest {
            iid,
            state: "opened".into(),
            title: "A change".into(),
            description: String::new(),
            source_branch: "feature".into(),
            draft: false,
            target_branch: p.default_branch.clone(),
            source_project_id: project,
            base_sha: base_sha.into(),
            start_sha: start_sha.into(),
            head_sha: head_sha.into(),
            null_diff_refs_reads: 0,
            diffs,
            discussions: Vec::new(),
            notes: Vec::new(),
        };
        p.merge_requests.insert(iid, mr);
        self
    }

    /// New commits on the source branch: the merge request's head and diffs move on.
    pub fn push(&self, project: i64, iid: i64, head_sha: &str, diffs: Vec<Diff>) -> &Self {
        let mut st = self.lock();
        let mr = st.mr_mut(project, iid);
        mr.head_sha = head_sha.into();
        mr.diffs = diffs;
        self
    }

    /// The next `reads` reads of the merge request answer `diff_refs: null`.
    pub fn null_diff_refs(&self, project: i64, iid: i64, reads: usize) -> &Self {
        self.lock().mr_mut(project, iid).null_diff_refs_reads = reads;
        self
    }

    /// A person's reply in a discussion.
    pub fn reply(
        &self,
        project: i64,
        iid: i64,
        discussion: &str,
        author: &str,
        body: &str,
    ) -> &Self {
        let mut st = self.lock();
        let id = st.next_id();
        let d = st
            .mr_mut(project, iid)
            .discussions
            .iter_mut()
            .find(|d| d.id == discussion)
            .unwrap_or_else(|| panic!("no discussion {discussion}"));
        d.notes.push(Note {
            id,
            author: author.into(),
            body: body.into(),
            system: false,
        });
        self
    }

    /// The next `times` requests with `method` (or `*`) whose path (no query) matches
    /// `pattern` get `fault` (see the fake GitHub's `faults::matches` for the syntax).
    pub fn fail_next(&self, method: &str, pattern: &str, fault: Fault, times: usize) -> &Self {
        self.lock()
            .faults
            .push(FaultRule::new(method, pattern, fault, times));
        self
    }

    /// From now on, a random share of the requests no scripted rule takes get a fault (see
    /// the fake GitHub's `RandomFaults`); `None` stops it.
    pub fn fail_randomly(&self, faults: Option<RandomFaults>) -> &Self {
        self.lock().random_faults = faults;
        self
    }

    /// Faults given at random so far.
    pub fn random_faults_given(&self) -> usize {
        self.lock().random_faults.as_ref().map_or(0, |r| r.given)
    }

    // ---- inspectors ----

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// The project's path.
    pub fn project_path(&self, project: i64) -> String {
        self.lock().project_mut(project).path.clone()
    }

    /// Every merge request of the project, by iid.
    pub fn merge_requests(&self, project: i64) -> Vec<MergeRequest> {
        let mut st = self.lock();
        st.project_mut(project)
            .merge_requests
            .values()
            .cloned()
            .collect()
    }

    /// The head of `branch`, if it exists.
    pub fn branch_head(&self, project: i64, branch: &str) -> Option<String> {
        self.lock()
            .project_mut(project)
            .branches
            .get(branch)
            .cloned()
    }

    /// The bytes of `path` at `git_ref` (a commit).
    pub fn file(&self, project: i64, git_ref: &str, path: &str) -> Option<Vec<u8>> {
        let mut st = self.lock();
        let key = (git_ref.to_string(), path.to_string());
        st.project_mut(project).files.get(&key).cloned()
    }

    /// A commit made through the API or by [`FakeGitLab::push_branch`].
    pub fn commit(&self, project: i64, sha: &str) -> Option<Commit> {
        self.lock().project_mut(project).commits.get(sha).cloned()
    }

    pub fn merge_request(&self, project: i64, iid: i64) -> MergeRequest {
        self.lock().mr_mut(project, iid).clone()
    }

    pub fn discussions(&self, project: i64, iid: i64) -> Vec<Discussion> {
        self.merge_request(project, iid).discussions
    }

    /// The merge request's notes outside discussions.
    pub fn notes(&self, project: i64, iid: i64) -> Vec<Note> {
        self.merge_request(project, iid).notes
    }

    /// Every status ever set, in order (GitLab keeps the latest per name and commit).
    pub fn statuses(&self, project: i64) -> Vec<CommitStatus> {
        self.lock().project_mut(project).statuses.clone()
    }
}
