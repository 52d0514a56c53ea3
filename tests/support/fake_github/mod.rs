//! A stateful fake GitHub for tests: a real HTTP server on 127.0.0.1 that answers the REST and
//! GraphQL calls the bot makes (see `../shared/research/`) the way GitHub does — auth and errors
//! included — and remembers what the bot did so tests can inspect it.
//!
//! Include it from a test file with
//!
//! ```ignore
//! #[path = "support/fake_github/mod.rs"]
//! mod fake_github;
//! use fake_github::{FakeGitHub, Fault, FileChange};
//! ```
//!
//! (at the crate root of the test binary; the submodules refer to each other with `super::`,
//! so it also works nested inside another module).
//!
//! Layout: `state.rs` (the data), `auth.rs` (JWT and tokens), `diff.rs` (patches and hunks),
//! `faults.rs` (scripted failures), `git.rs` (trees and blob ids), `hooks.rs` (webhook
//! deliveries), `routes/` (one file per API area, plus the layer that logs requests and adds
//! rate-limit headers).
//!
//! The state lives in one `std::sync::Mutex`, never held across an `.await`.
//!
//! Where it knowingly departs from the brief or is unsure of GitHub:
//! - a token of another installation gets 404 "Not Found" on the repository (GitHub hides
//!   private repositories it cannot see), not 401;
//! - behind `/api/v3` GraphQL answers at `/api/graphql`, as GitHub Enterprise Server does;
//! - the exact 422 texts for more than 50 annotations and for missing check-run fields are
//!   not on record; the status and the `Invalid request.` prefix are;
//! - GraphQL `updateRefs` refuses a `beforeOid` that does not match with a text of our own
//!   (GitHub's is not on record) and knows only forced moves; repository node ids are
//!   `R_<id>`.

// Each test binary uses a different part of this API (and re-exports); what one binary leaves
// unused would otherwise warn there.
#![allow(dead_code, unused_imports)]

mod auth;
mod diff;
mod faults;
mod git;
mod hooks;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;

pub use auth::{TEST_APP_KEY_PEM, make_jwt, valid_jwt};
pub use diff::github_patch;
pub use faults::{Fault, RandomFaults};
pub use hooks::signature;
pub use routes::app::MANIFEST_WEBHOOK_SECRET;
pub use state::{
    Auth, BOT_LOGIN, CheckRun, Commit, Delivery, FileChange, IssueComment, PullRequest,
    RequestRecord, Review, ReviewComment, Thread, ThreadComment,
};

use faults::FaultRule;
use routes::Shared;
use state::{RateLimit, Repo, State, Token};

/// A running fake. Dropping it stops the server.
pub struct FakeGitHub {
    shared: Shared,
    addr: SocketAddr,
    prefix: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGitHub {
    /// Starts a fake for the App `app_id` on 127.0.0.1 with a free port, API at the root.
    pub async fn start(app_id: u64) -> FakeGitHub {
        FakeGitHub::start_with_prefix(app_id, "").await
    }

    /// Starts a fake whose REST API lives under `prefix` (e.g. `/api/v3`, like GitHub
    /// Enterprise Server); GraphQL then answers at `/api/graphql`, as on Enterprise.
    pub async fn start_with_prefix(app_id: u64, prefix: &str) -> FakeGitHub {
        let prefix = prefix.trim_end_matches('/').to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let mut state = State::new(app_id);
        state.base_url = format!("http://{addr}{prefix}");
        state.prefix = prefix.clone();
        let shared = Shared {
            state: Arc::new(Mutex::new(state)),
            key: Arc::new(auth::decoding_key()),
            http: octocrab::Octocrab::builder()
                .build()
                .expect("an HTTP client"),
        };
        let app = routes::router(shared.clone(), &prefix);
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake GitHub serves");
        });
        FakeGitHub {
            shared,
            addr,
            prefix,
            server,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    // ---- where it is ----

    /// The API root, e.g. `http://127.0.0.1:PORT` or `http://127.0.0.1:PORT/api/v3`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.prefix)
    }

    /// The GraphQL endpoint: `{url}/graphql`, or `/api/graphql` behind the Enterprise prefix.
    pub fn graphql_url(&self) -> String {
        format!("http://{}{}", self.addr, routes::graphql_path(&self.prefix))
    }

    pub fn app_id(&self) -> u64 {
        self.lock().app_id
    }

    // ---- builders ----

    /// A repository the fake knows, with its numeric id (used in `/repositories/{id}/…`).
    pub fn add_repo(&self, full_name: &str, id: u64) -> &Self {
        self.lock().repos.insert(
            full_name.to_string(),
            Repo {
                full_name: full_name.to_string(),
                id,
                files: Default::default(),
                pulls: Default::default(),
                check_runs: Vec::new(),
                default_branch: "main".into(),
                branches: Default::default(),
                truncate_trees: false,
                blobs: Default::default(),
                trees: Default::default(),
                commits: Default::default(),
            },
        );
        self
    }

    /// An installation of the App with access to `repos` (added to any it already has).
    pub fn add_installation(&self, installation_id: u64, repos: &[&str]) -> &Self {
        let mut st = self.lock();
        let set = st.installations.entry(installation_id).or_default();
        set.extend(repos.iter().map(|r| r.to_string()));
        self
    }

    /// The bytes of `path` at `git_ref` (a commit SHA, or `main` for requests without `ref`).
    pub fn set_file(
        &self,
        repo: &str,
        git_ref: &str,
        path: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> &Self {
        self.lock()
            .repo_mut(repo)
            .files
            .insert((git_ref.to_string(), path.to_string()), bytes.into());
        self
    }

    /// The default branch and its head commit (whose files are those set at that SHA).
    pub fn set_default_branch(&self, repo: &str, branch: &str, head_sha: &str) -> &Self {
        let mut st = self.lock();
        let r = st.repo_mut(repo);
        r.default_branch = branch.into();
        r.branches.insert(branch.into(), head_sha.into());
        self
    }

    /// Moves (or creates) a branch.
    pub fn set_branch(&self, repo: &str, branch: &str, head_sha: &str) -> &Self {
        self.lock()
            .repo_mut(repo)
            .branches
            .insert(branch.into(), head_sha.into());
        self
    }

    /// Makes recursive tree listings come back truncated (see `Repo::truncate_trees`).
    pub fn truncate_trees(&self, repo: &str, truncate: bool) -> &Self {
        self.lock().repo_mut(repo).truncate_trees = truncate;
        self
    }

    /// The Git blob id the fake gives these bytes (what tree listings show).
    pub fn blob_id(bytes: &[u8]) -> String {
        git::blob_id(bytes)
    }

    /// An open, non-draft PR from branch `feature` with these files, in listing order.
    pub fn add_pull_request<F: Into<FileChange>>(
        &self,
        repo: &str,
        number: u64,
        base_sha: &str,
        base_ref: &str,
        head_sha: &str,
        files: impl IntoIterator<Item = F>,
    ) -> &Self {
        let pr = PullRequest {
            number,
            state: "open".into(),
            draft: false,
            base_sha: base_sha.into(),
            base_ref: base_ref.into(),
            head_sha: head_sha.into(),
            head_ref: "feature".into(),
            head_history: vec![head_sha.into()],
            files: files.into_iter().map(Into::into).collect(),
            reviews: Vec::new(),
            threads: Vec::new(),
            files_not_found: 0,
            title: String::new(),
            body: String::new(),
            user: "octocat".into(),
            merged: false,
            comments: Vec::new(),
        };
        self.lock().repo_mut(repo).pulls.insert(number, pr);
        self
    }

    /// A push to the PR's branch: the head moves, the file list is replaced, and every thread
    /// on a file whose patch changed (or that left the PR) becomes outdated.
    pub fn push<F: Into<FileChange>>(
        &self,
        repo: &str,
        number: u64,
        new_head_sha: &str,
        files: impl IntoIterator<Item = F>,
    ) -> &Self {
        let files: Vec<FileChange> = files.into_iter().map(Into::into).collect();
        let mut st = self.lock();
        let pr = st.pull_mut(repo, number);
        for t in &mut pr.threads {
            let before = pr.files.iter().find(|f| f.path == t.path).map(|f| &f.patch);
            let after = files.iter().find(|f| f.path == t.path).map(|f| &f.patch);
            if after.is_none() || before != after {
                t.is_outdated = true;
            }
        }
        pr.files = files;
        pr.head_sha = new_head_sha.into();
        pr.head_history.push(new_head_sha.into());
        self
    }

    /// A commit by `user` (not the App) on top of `branch`'s head, changing `files`, and the
    /// branch moved to it (open pull requests from it follow); returns its sha.
    pub fn push_as(&self, repo: &str, branch: &str, user: &str, files: &[(&str, &str)]) -> String {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        self.lock().push_as(repo, branch, user, &files)
    }

    /// `push_as`, landing right before the next ref move (GraphQL `updateRefs` or REST
    /// `PATCH …/git/refs`) is carried out: the push that races the App between its look at a
    /// branch and its move of it.
    pub fn push_before_next_swap(
        &self,
        repo: &str,
        branch: &str,
        user: &str,
        files: &[(&str, &str)],
    ) {
        let files = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        self.lock().race_push = Some(state::RacePush {
            repo: repo.into(),
            branch: branch.into(),
            user: user.into(),
            files,
        });
    }

    /// The head of `branch`, if it exists.
    pub fn branch_head(&self, repo: &str, branch: &str) -> Option<String> {
        self.lock().repo_mut(repo).branches.get(branch).cloned()
    }

    /// Every file at `commit` (made by a test, the App, or `push_as`), by path.
    pub fn files_of(
        &self,
        repo: &str,
        commit: &str,
    ) -> std::collections::BTreeMap<String, Vec<u8>> {
        git::files_of_commit(self.lock().repo_mut(repo), commit)
    }

    /// A commit made through the API or `push_as`.
    pub fn commit(&self, repo: &str, sha: &str) -> Option<Commit> {
        self.lock().repo_mut(repo).commits.get(sha).cloned()
    }

    /// Every pull request of the repository, by number.
    pub fn pulls(&self, repo: &str) -> Vec<PullRequest> {
        self.lock().repo_mut(repo).pulls.values().cloned().collect()
    }

    /// The conversation comments of a pull request, oldest first.
    pub fn issue_comments(&self, repo: &str, number: u64) -> Vec<IssueComment> {
        self.lock().pull_mut(repo, number).comments.clone()
    }

    /// `open` or `closed`.
    pub fn set_pr_state(&self, repo: &str, number: u64, state: &str) -> &Self {
        self.lock().pull_mut(repo, number).state = state.into();
        self
    }

    pub fn set_draft(&self, repo: &str, number: u64, draft: bool) -> &Self {
        self.lock().pull_mut(repo, number).draft = draft;
        self
    }

    /// A human's reply in a review thread. Panics if the thread does not exist.
    pub fn reply(&self, thread_id: &str, author: &str, body: &str) -> &Self {
        let mut st = self.lock();
        let id = st.next_id();
        let t = st
            .thread_mut(thread_id)
            .unwrap_or_else(|| panic!("no thread {thread_id}"));
        t.comments.push(ThreadComment {
            id,
            author: author.into(),
            body: body.into(),
        });
        self
    }

    /// Resolves or reopens a thread, as a human clicking the button would.
    pub fn set_thread_resolved(&self, thread_id: &str, resolved: bool) -> &Self {
        let mut st = self.lock();
        st.thread_mut(thread_id)
            .unwrap_or_else(|| panic!("no thread {thread_id}"))
            .is_resolved = resolved;
        self
    }

    /// How many threads one GraphQL page holds (100 on GitHub for the bot's query).
    pub fn set_thread_page_size(&self, size: usize) -> &Self {
        self.lock().thread_page_size = size.max(1);
        self
    }

    // ---- tokens ----

    /// Lifetime of tokens minted from now on (GitHub: 1 hour).
    pub fn set_token_ttl(&self, ttl: Duration) -> &Self {
        self.lock().token_ttl = chrono::Duration::from_std(ttl).expect("a sane duration");
        self
    }

    /// A valid token for `installation_id`, made directly (not counted as minted).
    pub fn issue_token(&self, installation_id: u64, ttl: Duration) -> String {
        let mut st = self.lock();
        let n = st.next_id();
        let token = format!("ghs_direct{n:0>30}");
        let expires_at = Utc::now() + chrono::Duration::from_std(ttl).expect("a sane duration");
        st.tokens.insert(
            token.clone(),
            Token {
                installation_id,
                expires_at,
            },
        );
        token
    }

    /// Every token issued so far stops working (the client must mint a new one).
    pub fn expire_tokens(&self) -> &Self {
        let past = Utc::now() - chrono::Duration::seconds(1);
        for t in self.lock().tokens.values_mut() {
            t.expires_at = past;
        }
        self
    }

    // ---- faults and limits ----

    /// The next `times` requests with `method` (or `*`) whose path (without prefix and query)
    /// matches `pattern` get `fault` instead of an answer. See `faults::matches` for the
    /// pattern syntax: a prefix, `*` for one segment, `$` to anchor the end.
    pub fn fail_next(&self, method: &str, pattern: &str, fault: Fault, times: usize) -> &Self {
        self.lock()
            .faults
            .push(FaultRule::new(method, pattern, fault, times));
        self
    }

    /// Drops every scripted fault still waiting, and stops random ones.
    pub fn clear_faults(&self) -> &Self {
        let mut st = self.lock();
        st.faults.clear();
        st.random_faults = None;
        self
    }

    /// From now on, a random share of the requests no scripted rule takes get a fault (see
    /// `RandomFaults`); `None` stops it.
    pub fn fail_randomly(&self, faults: Option<RandomFaults>) -> &Self {
        self.lock().random_faults = faults;
        self
    }

    /// Faults given at random so far.
    pub fn random_faults_given(&self) -> usize {
        self.lock().random_faults.as_ref().map_or(0, |r| r.given)
    }

    /// The PR's files list answers 404 the next `times` times (a brand-new PR on GitHub).
    pub fn pr_files_not_found(&self, repo: &str, number: u64, times: usize) -> &Self {
        self.lock().pull_mut(repo, number).files_not_found = times;
        self
    }

    /// Sets what is left of a rate-limit resource (`core` or `graphql`); at 0 the fake answers
    /// 403 "API rate limit exceeded" until `reset` (epoch seconds) has passed.
    pub fn set_rate_limit(&self, resource: &str, remaining: u64, reset: i64) -> &Self {
        self.lock().rate_limits.insert(
            resource.into(),
            RateLimit {
                limit: 5000,
                remaining,
                reset,
            },
        );
        self
    }

    /// A larger (or smaller) hourly allowance for a resource, all of it left: what an
    /// installation on a big organisation gets (GitHub: up to 12,500 an hour).
    pub fn set_rate_limit_allowance(&self, resource: &str, limit: u64) -> &Self {
        let reset = Utc::now().timestamp() + 3600;
        self.lock().rate_limits.insert(
            resource.into(),
            RateLimit {
                limit,
                remaining: limit,
                reset,
            },
        );
        self
    }

    // ---- webhooks ----

    /// What GitHub does when a user confirms the App manifest: creates the App and returns a
    /// one-time code (what it appends to the manifest's `redirect_url`).
    pub fn confirm_manifest(&self, manifest: &serde_json::Value) -> String {
        assert!(
            manifest["hook_attributes"]["url"].is_string(),
            "manifest without a webhook URL"
        );
        let mut st = self.lock();
        st.next_id += 1;
        let code = format!("code{}", st.next_id);
        st.manifest_codes.insert(code.clone());
        code
    }

    /// Where `deliver` and redeliveries POST, and the secret they sign with.
    pub fn set_webhook(&self, url: &str, secret: &str) -> &Self {
        let mut st = self.lock();
        st.webhook_url = Some(url.into());
        st.webhook_secret = secret.into();
        self
    }

    /// Sends an event to the webhook URL, logs the delivery, and returns the receiver's status
    /// (0 when nothing answered).
    pub async fn deliver(&self, event: &str, guid: &str, payload: impl Into<Vec<u8>>) -> u16 {
        hooks::send(&self.shared, event, guid, payload.into(), false).await
    }

    /// Logs a delivery without sending it (e.g. one that failed before the test began);
    /// returns its id.
    pub fn record_delivery(
        &self,
        event: &str,
        guid: &str,
        payload: impl Into<Vec<u8>>,
        status_code: u16,
    ) -> u64 {
        let status = match status_code {
            0 => "failed to connect to host".to_string(),
            200..=299 => "OK".to_string(),
            c => format!("Invalid HTTP Response: {c}"),
        };
        let outcome = hooks::Outcome {
            status_code,
            status,
            duration: 0.1,
        };
        hooks::record(&self.shared, event, guid, payload.into(), false, outcome)
    }

    // ---- inspectors ----

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Installation tokens minted through `POST /app/installations/{id}/access_tokens`.
    pub fn access_tokens_minted(&self) -> usize {
        self.lock().tokens_minted
    }

    pub fn pull_request(&self, repo: &str, number: u64) -> PullRequest {
        self.lock().pull_mut(repo, number).clone()
    }

    pub fn reviews(&self, repo: &str, number: u64) -> Vec<Review> {
        self.lock().pull_mut(repo, number).reviews.clone()
    }

    pub fn threads(&self, repo: &str, number: u64) -> Vec<Thread> {
        self.lock().pull_mut(repo, number).threads.clone()
    }

    pub fn check_runs(&self, repo: &str) -> Vec<CheckRun> {
        self.lock().repo_mut(repo).check_runs.clone()
    }

    /// Forgets what a long load run no longer needs, so the fake's memory and its linear
    /// lookups stay flat: every pull request of `repo` that has a review and whose head's
    /// check runs are all completed (with its files at that head and those check runs), and
    /// the request log. Returns each forgotten pull request's number and review count, and
    /// how many logged requests were dropped.
    pub fn forget_reviewed(&self, repo: &str) -> (Vec<(u64, usize)>, usize) {
        let mut st = self.lock();
        let dropped = std::mem::take(&mut st.requests).len();
        let r = st.repo_mut(repo);
        let finished: Vec<(u64, usize, String)> = r
            .pulls
            .values()
            .filter(|p| !p.reviews.is_empty())
            .filter(|p| {
                let mut runs = r.check_runs.iter().filter(|c| c.head_sha == p.head_sha);
                let mut any = false;
                runs.all(|c| {
                    any = true;
                    c.status == "completed"
                }) && any
            })
            .map(|p| (p.number, p.reviews.len(), p.head_sha.clone()))
            .collect();
        let heads: std::collections::BTreeSet<&str> =
            finished.iter().map(|(_, _, h)| h.as_str()).collect();
        r.check_runs
            .retain(|c| !heads.contains(c.head_sha.as_str()));
        r.files
            .retain(|(git_ref, _), _| !heads.contains(git_ref.as_str()));
        for (number, _, _) in &finished {
            r.pulls.remove(number);
        }
        let counts = finished.into_iter().map(|(n, c, _)| (n, c)).collect();
        (counts, dropped)
    }

    /// Deliveries, oldest first (the API lists them newest first).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.clone()
    }
}
