//! GitLab webhook deliveries: the secret token check and the payloads, read into the small
//! events below. GitLab's payload types never leave this file.
//!
//! GitLab disables a hook that keeps getting 4xx answers, so everything we do not act on is
//! an [`GitLabEvent::Ignored`] (answered 2xx), and only a bad token or a payload we cannot
//! read is an error.

use crate::auth::constant_time;
use crate::ids::{CommitSha, MergeRequestIid, ProjectId};
use serde::Deserialize;

/// What a delivery asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitLabEvent {
    /// A merge request opened, reopened or given new commits: review its head.
    Review(MergeRequestEvent),
    /// A push to the project's default branch: scan the whole project at `after`.
    Push(PushEvent),
    /// Nothing to do, and why (for the log).
    Ignored(String),
}

/// A merge request to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRequestEvent {
    /// The target project, where the merge request, its discussions and statuses live.
    pub project_id: ProjectId,
    /// `namespace/project`, for logs and the report.
    pub project_path: String,
    /// The merge request's number in the target project.
    pub iid: MergeRequestIid,
    /// The head commit the event is about.
    pub head_sha: CommitSha,
    /// Where the source branch lives; differs from `project_id` for a fork.
    pub source_project_id: ProjectId,
    /// The branch it merges into.
    pub target_branch: String,
    /// `open`, `reopen` or `update`.
    pub action: String,
}

/// A push to the default branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    /// The project pushed to.
    pub project_id: ProjectId,
    /// `namespace/project`.
    pub project_path: String,
    /// The default branch (what was pushed to).
    pub default_branch: String,
    /// The branch's new head.
    pub after: CommitSha,
}

/// A delivery we cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed GitLab payload: {0}")]
pub struct MalformedPayload(pub String);

#[derive(Deserialize)]
struct Envelope {
    object_kind: String,
}

#[derive(Deserialize)]
struct ProjectJson {
    id: Option<i64>,
    #[serde(default)]
    path_with_namespace: String,
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct MergeRequestHook {
    project: ProjectJson,
    object_attributes: MergeRequestAttributes,
}

#[derive(Deserialize)]
struct MergeRequestAttributes {
    action: Option<String>,
    iid: Option<i64>,
    oldrev: Option<String>,
    last_commit: Option<CommitJson>,
    source_project_id: Option<i64>,
    target_project_id: Option<i64>,
    target_branch: Option<String>,
}

#[derive(Deserialize)]
struct CommitJson {
    id: String,
}

#[derive(Deserialize)]
struct PushHook {
    project_id: Option<i64>,
    project: ProjectJson,
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
}

/// Reads a delivery's body (the event is told by its `object_kind`, which also covers the
/// `Service Hook` and `System Hook` headers that carry the same payloads).
pub fn parse(body: &[u8]) -> Result<GitLabEvent, MalformedPayload> {
    let envelope: Envelope = json(body)?;
    match envelope.object_kind.as_str() {
        "merge_request" => merge_request(json(body)?),
        "push" => push(json(body)?),
        kind => Ok(GitLabEvent::Ignored(format!(
            "{kind} events are not reviewed"
        ))),
    }
}

fn json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, MalformedPayload> {
    serde_json::from_slice(body).map_err(|e| MalformedPayload(e.to_string()))
}

fn merge_request(hook: MergeRequestHook) -> Result<GitLabEvent, MalformedPayload> {
    let a = hook.object_attributes;
    let action = a.action.unwrap_or_default();
    let new_commits = a.oldrev.as_deref().is_some_and(|r| !r.is_empty());
    match action.as_str() {
        "open" | "reopen" => {}
        "update" if new_commits => {}
        "update" => {
            return Ok(GitLabEvent::Ignored(
                "merge request update without new commits".into(),
            ));
        }
        other => {
            return Ok(GitLabEvent::Ignored(format!(
                "merge request action {other:?} needs no review"
            )));
        }
    }
    let project_id = a
        .target_project_id
        .or(hook.project.id)
        .ok_or_else(|| missing("the target project id"))?;
    let head = a.last_commit.ok_or_else(|| missing("last_commit"))?;
    Ok(GitLabEvent::Review(MergeRequestEvent {
        project_id: ProjectId(positive(project_id, "project id")?),
        project_path: hook.project.path_with_namespace,
        iid: MergeRequestIid(positive(a.iid.ok_or_else(|| missing("iid"))?, "iid")?),
        head_sha: sha(&head.id)?,
        source_project_id: ProjectId(a.source_project_id.unwrap_or(project_id)),
        target_branch: a.target_branch.ok_or_else(|| missing("target_branch"))?,
        action,
    }))
}

fn push(hook: PushHook) -> Result<GitLabEvent, MalformedPayload> {
    let Some(default_branch) = hook.project.default_branch else {
        return Ok(GitLabEvent::Ignored(
            "push to a project without a default branch".into(),
        ));
    };
    if hook.git_ref != format!("refs/heads/{default_branch}") {
        return Ok(GitLabEvent::Ignored(format!(
            "push to {} (not the default branch)",
            hook.git_ref
        )));
    }
    // A deleted branch has an all-zero `after`: nothing to scan.
    if hook.after.bytes().all(|b| b == b'0') {
        return Ok(GitLabEvent::Ignored(
            "the default branch was deleted".into(),
        ));
    }
    let project_id = hook
        .project_id
        .or(hook.project.id)
        .ok_or_else(|| missing("project_id"))?;
    Ok(GitLabEvent::Push(PushEvent {
        project_id: ProjectId(positive(project_id, "project id")?),
        project_path: hook.project.path_with_namespace,
        default_branch,
        after: sha(&hook.after)?,
    }))
}

fn missing(what: &str) -> MalformedPayload {
    MalformedPayload(format!("{what} is missing"))
}

fn positive(n: i64, what: &str) -> Result<i64, MalformedPayload> {
    (n > 0)
        .then_some(n)
        .ok_or_else(|| MalformedPayload(format!("{what} {n} is not positive")))
}

fn sha(text: &str) -> Result<CommitSha, MalformedPayload> {
    CommitSha::parse(text).map_err(MalformedPayload)
}

/// Whether `X-Gitlab-Token` is one of the accepted secrets (several while rotating). GitLab
/// sends the secret itself, so the comparison is constant-time ([`constant_time::any_eq`]):
/// neither the position of a difference nor the secret's length shows in the timing.
pub fn token_matches(given: Option<&[u8]>, secrets: &[Vec<u8>]) -> bool {
    given.is_some_and(|given| constant_time::any_eq(given, secrets))
}

/// What makes two deliveries the same: `X-Gitlab-Event-UUID` when GitLab sent one, else the
/// project, merge request and head (or the project and pushed commit). `None` for an
/// ignored event, which stores nothing.
pub fn dedupe_key(event_uuid: Option<&str>, event: &GitLabEvent) -> Option<String> {
    let uuid = event_uuid.map(str::trim).filter(|u| !u.is_empty());
    match (uuid, event) {
        (_, GitLabEvent::Ignored(_)) => None,
        (Some(uuid), _) => Some(format!("gitlab:{uuid}")),
        (None, GitLabEvent::Review(mr)) => Some(format!(
            "gitlab:{}:mr:{}:{}",
            mr.project_id.0, mr.iid.0, mr.head_sha
        )),
        (None, GitLabEvent::Push(push)) => {
            Some(format!("gitlab:{}:push:{}", push.project_id.0, push.after))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly() {
        let secrets = vec![b"new-secret".to_vec(), b"old-secret".to_vec()];
        assert!(token_matches(Some(b"new-secret"), &secrets));
        assert!(token_matches(Some(b"old-secret"), &secrets));
        for wrong in [&b"new-secre"[..], b"new-secret ", b"", b"NEW-SECRET"] {
            assert!(!token_matches(Some(wrong), &secrets), "{wrong:?}");
        }
        assert!(!token_matches(None, &secrets));
        assert!(!token_matches(Some(b"x"), &[]));
    }

    #[test]
    fn unreadable_bodies_are_errors_not_panics() {
        for body in [&b""[..], b"[]", b"{}", b"{\"object_kind\":1}", b"\xff"] {
            assert!(parse(body).is_err(), "{body:?}");
        }
        let no_commit = br#"{"object_kind":"merge_request","project":{"id":1},"object_attributes":{"action":"open","iid":2,"target_branch":"main"}}"#;
        assert_eq!(
            parse(no_commit),
            Err(MalformedPayload("last_commit is missing".into()))
        );
        let bad_sha = br#"{"object_kind":"push","project":{"id":1,"default_branch":"main"},"ref":"refs/heads/main","after":"../x"}"#;
        assert!(parse(bad_sha).is_err());
    }
}
