//! "Re-run" on our check: `check_run` `rerequested` (one check) and `check_suite`
//! `rerequested` ("Re-run all checks"). Both name only a head commit. Their `pull_requests`
//! list is empty for pull requests from forks, so the pull request is found by its head in
//! our own records, never taken from that list.

use super::event::{Event, IdOnly, InvalidPayload, RepoJson, json};
use crate::forge::github::checks::CHECK_NAME;
use crate::ids::{CommitSha, InstallationId};
use serde::Deserialize;

/// A request to review again the open pull requests whose head is `head_sha`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RerunRequest {
    /// The installation whose token reads and writes.
    pub installation: InstallationId,
    /// The repository.
    pub repo: super::event::Repo,
    /// The head commit whose check was re-requested.
    pub head_sha: CommitSha,
}

#[derive(Deserialize)]
struct Checked {
    head_sha: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Ev {
    action: String,
    #[serde(default)]
    check_run: Option<Checked>,
    #[serde(default)]
    check_suite: Option<Checked>,
    repository: Option<RepoJson>,
    installation: Option<IdOnly>,
}

/// Reads a `check_run` or `check_suite` delivery.
pub(super) fn parse(event: &str, body: &[u8]) -> Result<Event, InvalidPayload> {
    let ev: Ev = json(body)?;
    if ev.action != "rerequested" {
        return Ok(Event::Ignored(format!(
            "{event} action `{}` is not used",
            ev.action
        )));
    }
    let checked = if event == "check_run" {
        ev.check_run
    } else {
        ev.check_suite
    };
    let Some(checked) = checked else {
        return Err(InvalidPayload(format!(
            "unreadable payload: no {event} object"
        )));
    };
    // GitHub sends a check run's events to the App that made it; the name guards the rest.
    if event == "check_run" && checked.name.as_deref() != Some(CHECK_NAME) {
        return Ok(Event::Ignored(format!(
            "check run `{}` is not ours",
            checked.name.unwrap_or_default()
        )));
    }
    let (Some(repository), Some(installation)) = (ev.repository, ev.installation) else {
        return Ok(Event::Ignored(
            "the payload names no repository or App installation".into(),
        ));
    };
    Ok(Event::Rerun(RerunRequest {
        installation: InstallationId(installation.id),
        repo: repository.into_repo()?,
        head_sha: CommitSha::parse(&checked.head_sha).map_err(InvalidPayload)?,
    }))
}
