//! The jobs the queue holds: one typed definition that intake writes and workers read.
//!
//! A job is stored as its serde form in `jobs.payload` (the `kind` tag included) and its tag
//! in `jobs.kind`. The repository part carries a `forge` tag, so jobs of another forge are a
//! new variant of [`ForgeRepo`], never a new format.

use crate::ids::{
    CommitSha, Forge, InstallationId, PrNumber, ProjectId, ProjectPath, RepoId, RepoName,
};
use serde::{Deserialize, Serialize};

/// One unit of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Review one head commit of a pull request.
    ReviewPullRequest(ReviewJob),
    /// Scan a whole repository at one commit.
    ScanRepository(ScanJob),
    /// Open, update or close a repository's fix-all pull request.
    FixPullRequest(FixPullJob),
}

/// Where a job's repository lives, and what the forge needs to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "forge", rename_all = "lowercase")]
pub enum ForgeRepo {
    /// A GitHub repository, read through an App installation.
    #[serde(rename = "github")]
    GitHub {
        /// The installation that reads it.
        installation: InstallationId,
        /// GitHub's repository id (our row id).
        repo_id: RepoId,
        /// `owner/name`.
        repo: RepoName,
    },
    /// A GitLab project.
    #[serde(rename = "gitlab")]
    GitLab {
        /// GitLab's project id.
        project_id: ProjectId,
        /// `group/.../project`.
        path: ProjectPath,
    },
}

impl ForgeRepo {
    /// The forge.
    pub fn forge(&self) -> Forge {
        match self {
            ForgeRepo::GitHub { .. } => Forge::GitHub,
            ForgeRepo::GitLab { .. } => Forge::GitLab,
        }
    }

    /// The repository's name for logs: `owner/name` or the project path.
    pub fn display_name(&self) -> String {
        match self {
            ForgeRepo::GitHub { repo, .. } => repo.to_string(),
            ForgeRepo::GitLab { path, .. } => path.to_string(),
        }
    }

    /// The installation, repository id and name of a GitHub repository; `None` on another
    /// forge.
    pub fn github(&self) -> Option<(InstallationId, RepoId, &RepoName)> {
        match self {
            ForgeRepo::GitHub {
                installation,
                repo_id,
                repo,
            } => Some((*installation, *repo_id, repo)),
            ForgeRepo::GitLab { .. } => None,
        }
    }

    /// The forge's own id of the repository.
    pub fn forge_id(&self) -> i64 {
        match self {
            ForgeRepo::GitHub { repo_id, .. } => repo_id.0,
            ForgeRepo::GitLab { project_id, .. } => project_id.0,
        }
    }
}

/// The review of one head commit of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewJob {
    /// The repository.
    #[serde(flatten)]
    pub repo: ForgeRepo,
    /// The pull (merge) request.
    pub number: PrNumber,
    /// The head commit to review.
    pub head_sha: CommitSha,
    /// The base commit the event named, when it named one (a re-run does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<CommitSha>,
    /// The base branch the event named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ref: Option<String>,
    /// Asked for by "Re-run" on our check: a new check run even if this head has one.
    #[serde(default)]
    pub rerun: bool,
}

/// The scan of a whole repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanJob {
    /// The repository.
    #[serde(flatten)]
    pub repo: ForgeRepo,
    /// The commit to scan; the default branch's head when absent.
    #[serde(default)]
    pub commit: Option<CommitSha>,
    /// The branch the commit is on, when known.
    #[serde(default)]
    pub branch: Option<String>,
}

/// The fix-all pull request of a repository, made from its default branch's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixPullJob {
    /// The repository.
    #[serde(flatten)]
    pub repo: ForgeRepo,
    /// What asked for it.
    pub trigger: FixTrigger,
}

/// What asked for a fix-all pull request: a scan does only for opted-in repositories, a
/// person for any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixTrigger {
    /// A default-branch scan that found writable units (or a fix pull request open).
    Scan,
    /// The button on the repository's report page.
    Report,
    /// `immutabot fix-pr OWNER/REPO`.
    Cli,
}

impl FixTrigger {
    /// Whether a person asked for it.
    pub fn on_demand(self) -> bool {
        !matches!(self, FixTrigger::Scan)
    }
}

/// A stored payload that is no job we know: retrying cannot help.
#[derive(Debug, thiserror::Error)]
#[error("undecodable `{kind}` job: {source}")]
pub struct DecodeError {
    /// The row's kind.
    pub kind: String,
    /// What serde said.
    pub source: serde_json::Error,
}

impl Job {
    /// The tag, as stored in `jobs.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Job::ReviewPullRequest(_) => "review_pull_request",
            Job::ScanRepository(_) => "scan_repository",
            Job::FixPullRequest(_) => "fix_pull_request",
        }
    }

    /// Jobs with the same key supersede older pending ones.
    pub fn dedupe_key(&self) -> String {
        match self {
            Job::ReviewPullRequest(r) => pr_key(&r.repo, r.number),
            Job::ScanRepository(s) => scan_key(&s.repo),
            Job::FixPullRequest(f) => fix_key(&f.repo),
        }
    }

    /// The commit the job is about, when it names one: a pending job of the same key and
    /// commit is the same work.
    pub fn head_sha(&self) -> Option<&CommitSha> {
        match self {
            Job::ReviewPullRequest(r) => Some(&r.head_sha),
            Job::ScanRepository(s) => s.commit.as_ref(),
            Job::FixPullRequest(_) => None,
        }
    }

    /// The stored form.
    pub fn to_payload(&self) -> serde_json::Value {
        // A derived Serialize of ids, strings and options cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Reads a stored job; `kind` is the row's `jobs.kind`. A payload without tags is one an
    /// older release wrote (the migration rewrote those pending then, but a replica not yet
    /// upgraded may still write them): its kind is the row's and its forge GitHub.
    pub fn decode(kind: &str, payload: &serde_json::Value) -> Result<Job, DecodeError> {
        let mut tagged = payload.clone();
        if let Some(map) = tagged.as_object_mut() {
            map.entry("kind").or_insert_with(|| kind.into());
            map.entry("forge").or_insert_with(|| "github".into());
        }
        serde_json::from_value(tagged).map_err(|source| DecodeError {
            kind: kind.to_string(),
            source,
        })
    }
}

/// The part of a dedupe key naming a repository. GitHub's keep the form they always had
/// (queued rows and the rescan query use it); other forges say which they are, as their ids
/// share GitHub's number space.
fn key_part(forge: Forge, forge_id: i64) -> String {
    match forge {
        Forge::GitHub => forge_id.to_string(),
        Forge::GitLab => format!("gitlab:{forge_id}"),
    }
}

/// The dedupe key of a pull request's review jobs.
pub fn pr_key(repo: &ForgeRepo, number: PrNumber) -> String {
    pr_key_for(repo.forge(), repo.forge_id(), number)
}

/// [`pr_key`] by the forge and its id of the repository.
pub fn pr_key_for(forge: Forge, forge_id: i64, number: PrNumber) -> String {
    format!("pr:{}#{}", key_part(forge, forge_id), number.0)
}

/// The dedupe key of a repository's scans: a newer commit supersedes a pending older scan.
pub fn scan_key(repo: &ForgeRepo) -> String {
    scan_key_for(repo.forge(), repo.forge_id())
}

/// [`scan_key`] by the forge and its id of the repository.
pub fn scan_key_for(forge: Forge, forge_id: i64) -> String {
    format!("scan:{}", key_part(forge, forge_id))
}

/// The dedupe key of a repository's fix-pull jobs: one pending at a time.
pub fn fix_key(repo: &ForgeRepo) -> String {
    format!("fix:{}", key_part(repo.forge(), repo.forge_id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn github() -> ForgeRepo {
        ForgeRepo::GitHub {
            installation: InstallationId(7),
            repo_id: RepoId(42),
            repo: RepoName::parse("acme/shop").unwrap(),
        }
    }

    #[test]
    fn jobs_round_trip_and_keep_the_flat_shape() {
        let sha = CommitSha::parse(&"a".repeat(40)).unwrap();
        let review = Job::ReviewPullRequest(ReviewJob {
            repo: github(),
            number: PrNumber(3),
            head_sha: sha.clone(),
            base_sha: None,
            base_ref: None,
            rerun: true,
        });
        let v = review.to_payload();
        assert_eq!(
            v,
            json!({"kind": "review_pull_request", "forge": "github", "installation": 7,
                   "repo_id": 42, "repo": "acme/shop", "number": 3,
                   "head_sha": "a".repeat(40), "rerun": true})
        );
        assert_eq!(Job::decode("review_pull_request", &v).unwrap(), review);
        assert_eq!(review.dedupe_key(), "pr:42#3");

        let gitlab = Job::ScanRepository(ScanJob {
            repo: ForgeRepo::GitLab {
                project_id: ProjectId(42),
                path: ProjectPath::parse("a/b/c").unwrap(),
            },
            commit: Some(sha),
            branch: Some("main".into()),
        });
        let v = gitlab.to_payload();
        assert_eq!(v["forge"], "gitlab");
        assert_eq!(Job::decode("scan_repository", &v).unwrap(), gitlab);
        assert_eq!(gitlab.dedupe_key(), "scan:gitlab:42");
    }

    #[test]
    fn fix_pull_jobs_round_trip() {
        let job = Job::FixPullRequest(FixPullJob {
            repo: github(),
            trigger: FixTrigger::Report,
        });
        let v = job.to_payload();
        assert_eq!(v["kind"], "fix_pull_request");
        assert_eq!(v["trigger"], "report");
        assert_eq!(Job::decode("fix_pull_request", &v).unwrap(), job);
        assert_eq!(job.dedupe_key(), "fix:42");
        assert_eq!(job.head_sha(), None);
    }

    #[test]
    fn untagged_payloads_of_older_releases_decode_as_github_jobs() {
        let old = json!({"installation": 7, "repo_id": 42, "repo": "acme/shop",
                         "commit": null, "branch": null});
        let job = Job::decode("scan_repository", &old).unwrap();
        assert_eq!(job.dedupe_key(), "scan:42");
    }

    #[test]
    fn unknown_or_malformed_jobs_are_errors_not_panics() {
        for (kind, payload) in [
            ("frobnicate", json!({})),
            (
                "scan_repository",
                json!({"forge": "github", "repo": "../x"}),
            ),
            ("review_pull_request", json!("not an object")),
            (
                "scan_repository",
                json!({"forge": "sourcehut", "repo_id": 1}),
            ),
        ] {
            assert!(Job::decode(kind, &payload).is_err(), "{kind} {payload}");
        }
    }
}
