//! GitHub webhook payloads, parsed into the few facts we act on. The payload structs are
//! private: nothing outside this file sees GitHub's JSON.

use crate::ids::{CommitSha, InstallationId, PrNumber, RepoName};
use serde::Deserialize;

/// A repository as events name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// GitHub's repository id.
    pub id: i64,
    /// `owner/name`.
    pub name: RepoName,
    /// Default branch, when the payload says.
    pub default_branch: Option<String>,
    /// Private repository.
    pub private: bool,
}

/// A pull request that needs a review at one head commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRequest {
    /// The installation whose token reads and writes.
    pub installation: InstallationId,
    /// The base repository.
    pub repo: Repo,
    /// Pull-request number.
    pub number: PrNumber,
    /// Head commit to review.
    pub head_sha: CommitSha,
    /// Base commit.
    pub base_sha: CommitSha,
    /// Base branch.
    pub base_ref: String,
}

/// A push to a repository's default branch: its new head needs a full scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    /// The installation whose token reads.
    pub installation: InstallationId,
    /// The repository (its default branch included).
    pub repo: Repo,
    /// The pushed commit (`after`).
    pub commit: CommitSha,
}

/// An installation as events describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// Its id.
    pub id: InstallationId,
    /// The account (organisation or user) it is installed on.
    pub account_login: String,
    /// `Organization` or `User`.
    pub account_type: String,
}

/// What a delivery asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Review a pull request's head commit.
    Review(ReviewRequest),
    /// A pull request was closed (merged or not): pending reviews are moot.
    Closed {
        /// Base repository.
        repo: Repo,
        /// Installation.
        installation: InstallationId,
        /// Pull-request number.
        number: PrNumber,
        /// Merged rather than just closed.
        merged: bool,
    },
    /// The App was installed, or its installation changed.
    Installation {
        /// `created`, `deleted`, `suspend`, `unsuspend`, `new_permissions_accepted`.
        action: String,
        /// The installation.
        installation: Installation,
        /// Repositories listed in the event (all of them on `created` with selected repos).
        repos: Vec<Repo>,
    },
    /// Repositories were added to or removed from an installation.
    InstallationRepositories {
        /// The installation.
        installation: Installation,
        /// Added repositories.
        added: Vec<Repo>,
        /// Removed repositories.
        removed: Vec<Repo>,
    },
    /// A push to the default branch.
    Scan(ScanRequest),
    /// Someone pressed "Re-run" on our check: review again whatever pull request has this head.
    Rerun(super::rerun::RerunRequest),
    /// Nothing for us to do; the reason is recorded with the delivery.
    Ignored(String),
}

/// Why a signed delivery could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPayload(pub(super) String);

/// Reads a delivery. Unknown events and actions are `Ignored`, never errors: GitHub keeps
/// adding them.
pub fn parse(event: &str, body: &[u8]) -> Result<Event, InvalidPayload> {
    match event {
        "pull_request" => pull_request(body),
        "installation" => installation(body),
        "installation_repositories" => installation_repositories(body),
        "push" => push(body),
        "check_run" | "check_suite" => super::rerun::parse(event, body),
        "ping" => Ok(Event::Ignored("ping".into())),
        other => Ok(Event::Ignored(format!("event `{other}` is not used"))),
    }
}

/// Reads a delivery and its `action` (for the delivery log), reading a `pull_request` body,
/// the common case, only once.
pub fn parse_with_action(
    event: &str,
    body: &[u8],
) -> (Option<String>, Result<Event, InvalidPayload>) {
    if event == "pull_request" {
        return match json::<PullRequestEvent>(body) {
            Ok(ev) => (Some(ev.action.clone()), pull_request_event(ev)),
            Err(e) => (action_of(body), Err(e)),
        };
    }
    (action_of(body), parse(event, body))
}

/// The `action` field of any payload, for the delivery log.
pub fn action_of(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Action {
        action: Option<String>,
    }
    serde_json::from_slice::<Action>(body).ok()?.action
}

#[derive(Deserialize)]
pub(super) struct IdOnly {
    pub(super) id: i64,
}

#[derive(Deserialize)]
struct Account {
    login: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RepoJson {
    id: i64,
    full_name: String,
    #[serde(default)]
    default_branch: Option<String>,
    #[serde(default)]
    private: bool,
}

impl RepoJson {
    pub(super) fn into_repo(self) -> Result<Repo, InvalidPayload> {
        Ok(Repo {
            id: self.id,
            name: RepoName::parse(&self.full_name).map_err(InvalidPayload)?,
            default_branch: self.default_branch,
            private: self.private,
        })
    }
}

#[derive(Deserialize)]
struct GitRef {
    sha: String,
    #[serde(rename = "ref")]
    name: String,
}

#[derive(Deserialize)]
struct PullRequestJson {
    number: i64,
    head: GitRef,
    base: GitRef,
    #[serde(default)]
    merged: Option<bool>,
}

/// Everything we read of a `pull_request` delivery, in one pass over the body (payloads run
/// to tens of kilobytes, and intake must keep up with thousands a second). The parts an
/// ignored action does not need are optional, so an odd payload for one is not an error.
#[derive(Deserialize)]
struct PullRequestEvent {
    action: String,
    #[serde(default)]
    changes: Option<Changes>,
    pull_request: Option<PullRequestJson>,
    repository: Option<RepoJson>,
    installation: Option<IdOnly>,
}

#[derive(Deserialize)]
struct Changes {
    #[serde(default)]
    base: Option<serde::de::IgnoredAny>,
}

pub(super) fn json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, InvalidPayload> {
    serde_json::from_slice(body).map_err(|e| InvalidPayload(format!("unreadable payload: {e}")))
}

fn pull_request(body: &[u8]) -> Result<Event, InvalidPayload> {
    pull_request_event(json(body)?)
}

fn pull_request_event(ev: PullRequestEvent) -> Result<Event, InvalidPayload> {
    match ev.action.as_str() {
        "opened" | "synchronize" | "reopened" | "ready_for_review" | "closed" => {}
        // Title and body edits do not change the diff; a new base does.
        "edited" if ev.changes.as_ref().is_some_and(|c| c.base.is_some()) => {}
        "edited" => {
            return Ok(Event::Ignored(
                "pull_request edited without a base change".into(),
            ));
        }
        other => {
            return Ok(Event::Ignored(format!(
                "pull_request action `{other}` is not used"
            )));
        }
    }
    let (Some(pr), Some(repository)) = (ev.pull_request, ev.repository) else {
        return Err(InvalidPayload(
            "unreadable payload: no pull_request or repository".into(),
        ));
    };
    let Some(installation) = ev.installation else {
        // Repository webhooks (not the App's) carry no installation: nothing we can act as.
        return Ok(Event::Ignored(
            "the payload names no App installation".into(),
        ));
    };
    let installation = InstallationId(installation.id);
    let repo = repository.into_repo()?;
    let number = PrNumber(pr.number);
    if ev.action == "closed" {
        return Ok(Event::Closed {
            repo,
            installation,
            number,
            merged: pr.merged.unwrap_or(false),
        });
    }
    let sha = |s: &str| CommitSha::parse(s).map_err(InvalidPayload);
    Ok(Event::Review(ReviewRequest {
        installation,
        repo,
        number,
        head_sha: sha(&pr.head.sha)?,
        base_sha: sha(&pr.base.sha)?,
        base_ref: pr.base.name,
    }))
}

#[derive(Deserialize)]
struct InstallationJson {
    id: i64,
    account: Account,
}

impl InstallationJson {
    fn into_installation(self) -> Installation {
        Installation {
            id: InstallationId(self.id),
            account_login: self.account.login,
            account_type: self.account.kind.unwrap_or_else(|| "Organization".into()),
        }
    }
}

/// Repositories in installation events lack `owner`; `full_name` has it.
#[derive(Deserialize)]
struct ListedRepo {
    id: i64,
    full_name: String,
    #[serde(default)]
    private: bool,
}

fn listed(repos: Vec<ListedRepo>) -> Result<Vec<Repo>, InvalidPayload> {
    repos
        .into_iter()
        .map(|r| {
            RepoJson {
                id: r.id,
                full_name: r.full_name,
                default_branch: None,
                private: r.private,
            }
            .into_repo()
        })
        .collect()
}

fn installation(body: &[u8]) -> Result<Event, InvalidPayload> {
    #[derive(Deserialize)]
    struct Ev {
        action: String,
        installation: InstallationJson,
        #[serde(default)]
        repositories: Option<Vec<ListedRepo>>,
    }
    let ev: Ev = json(body)?;
    Ok(Event::Installation {
        action: ev.action,
        installation: ev.installation.into_installation(),
        repos: listed(ev.repositories.unwrap_or_default())?,
    })
}

fn installation_repositories(body: &[u8]) -> Result<Event, InvalidPayload> {
    #[derive(Deserialize)]
    struct Ev {
        installation: InstallationJson,
        #[serde(default)]
        repositories_added: Vec<ListedRepo>,
        #[serde(default)]
        repositories_removed: Vec<ListedRepo>,
    }
    let ev: Ev = json(body)?;
    Ok(Event::InstallationRepositories {
        installation: ev.installation.into_installation(),
        added: listed(ev.repositories_added)?,
        removed: listed(ev.repositories_removed)?,
    })
}

/// Only pushes to the default branch change what the report shows; a deleted branch has
/// nothing to scan.
fn push(body: &[u8]) -> Result<Event, InvalidPayload> {
    #[derive(Deserialize)]
    struct Ev {
        #[serde(rename = "ref")]
        git_ref: String,
        after: String,
        #[serde(default)]
        deleted: bool,
        repository: RepoJson,
        installation: Option<IdOnly>,
    }
    let ev: Ev = json(body)?;
    let Some(installation) = ev.installation else {
        return Ok(Event::Ignored(
            "the payload names no App installation".into(),
        ));
    };
    let repo = ev.repository.into_repo()?;
    let Some(default) = repo.default_branch.as_deref() else {
        return Ok(Event::Ignored(
            "push to a repository without a default branch".into(),
        ));
    };
    if ev.git_ref != format!("refs/heads/{default}") {
        return Ok(Event::Ignored(format!(
            "push to `{}`, not the default branch",
            ev.git_ref
        )));
    }
    if ev.deleted || ev.after.bytes().all(|b| b == b'0') {
        return Ok(Event::Ignored("the default branch was deleted".into()));
    }
    Ok(Event::Scan(ScanRequest {
        installation: InstallationId(installation.id),
        repo,
        commit: CommitSha::parse(&ev.after).map_err(InvalidPayload)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../shared/fixtures/payloads/github/{name}.payload.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn opened_asks_for_a_review_of_the_head() {
        let Event::Review(r) = parse("pull_request", &fixture("pull_request/opened")).unwrap()
        else {
            panic!("not a review")
        };
        assert_eq!(r.installation, InstallationId(1));
        assert_eq!(r.repo.name.to_string(), "Codertocat/Hello-World");
        assert_eq!(r.number, PrNumber(2));
        assert_eq!(
            r.head_sha.as_str(),
            "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
        );
        assert_eq!(r.base_ref, "master");
    }

    #[test]
    fn every_pull_request_fixture_is_understood() {
        for (name, review) in [
            ("opened", true),
            ("reopened", true),
            ("synchronize", true),
            ("ready_for_review.with-installation", true),
            ("ready_for_review", false),
            ("closed", false),
            ("converted_to_draft", false),
        ] {
            let ev = parse("pull_request", &fixture(&format!("pull_request/{name}"))).unwrap();
            assert_eq!(matches!(ev, Event::Review(_)), review, "{name}: {ev:?}");
        }
    }

    #[test]
    fn installation_events_list_their_repositories() {
        let ev = parse("installation", &fixture("installation/created")).unwrap();
        let Event::Installation {
            action,
            installation,
            repos,
        } = ev
        else {
            panic!()
        };
        assert_eq!(action, "created");
        assert_eq!(installation.account_login, "Codertocat");
        assert_eq!(repos.len(), 1);
        let ev = parse(
            "installation_repositories",
            &fixture("installation_repositories/added"),
        )
        .unwrap();
        assert!(matches!(ev, Event::InstallationRepositories { added, .. } if added.len() == 1));
    }

    fn push_fixture() -> Vec<u8> {
        let path = format!(
            "{}/tests/data/payloads/push.default-branch.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn with(body: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(body).unwrap();
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn a_push_to_the_default_branch_asks_for_a_scan_of_after() {
        let Event::Scan(s) = parse("push", &push_fixture()).unwrap() else {
            panic!("not a scan")
        };
        assert_eq!(s.installation, InstallationId(957387));
        assert_eq!(s.repo.name.to_string(), "Codertocat/Hello-World");
        assert_eq!(s.repo.default_branch.as_deref(), Some("main"));
        assert_eq!(
            s.commit.as_str(),
            "b7e0f3b2a1c4d5e6f708192a3b4c5d6e7f809102"
        );
        for (what, body) in [
            (
                "other branch",
                with(&push_fixture(), |v| v["ref"] = "refs/heads/feature".into()),
            ),
            (
                "tag",
                with(&push_fixture(), |v| v["ref"] = "refs/tags/main".into()),
            ),
            (
                "deleted",
                with(&push_fixture(), |v| {
                    v["deleted"] = true.into();
                    v["after"] = "0000000000000000000000000000000000000000".into();
                }),
            ),
            (
                "no installation",
                with(&push_fixture(), |v| {
                    v.as_object_mut().unwrap().remove("installation");
                }),
            ),
        ] {
            let ev = parse("push", &body).unwrap();
            assert!(matches!(ev, Event::Ignored(_)), "{what}: {ev:?}");
        }
    }

    #[test]
    fn unknown_events_are_ignored_and_garbage_is_an_error() {
        assert!(matches!(parse("star", b"{}").unwrap(), Event::Ignored(_)));
        assert!(parse("pull_request", b"{not json").is_err());
        let edited = br#"{"action":"edited","changes":{"title":{"from":"x"}}}"#;
        assert!(matches!(
            parse("pull_request", edited).unwrap(),
            Event::Ignored(_)
        ));
    }
}
