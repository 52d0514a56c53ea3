//! Pull requests: their state, their changed files, and posting one review.

use super::GitHubError;
use super::answer::Answer;
use super::client::ApiRequest;
use super::installation::Installation;
use crate::forge::link::next_link;
use crate::forge::{ChangedFile, FileStatus, PullRequest, ReviewComment};
use crate::ids::{CommitSha, PrNumber, RepoName};
use serde::{Deserialize, Serialize};

/// GitHub lists at most 3000 files of a pull request.
pub const MAX_FILES: usize = 3000;
/// Bounds the page walk even if a server ignored `per_page` or looped its links.
const MAX_FILE_PAGES: usize = 100;
/// GitHub briefly answers 404 for the files of a just-opened pull request (Atlantis saw it).
const NOT_FOUND_RETRIES: u32 = 3;
/// Pages of reviews read to find out whether a review whose answer was lost was made.
const MAX_REVIEW_PAGES: usize = 10;

#[derive(Deserialize)]
struct PullJson {
    state: String,
    #[serde(default)]
    draft: bool,
    head: RefJson,
    base: RefJson,
}

#[derive(Deserialize)]
struct RefJson {
    sha: String,
    #[serde(rename = "ref")]
    name: String,
}

#[derive(Deserialize)]
struct FileJson {
    filename: String,
    status: String,
    patch: Option<String>,
    previous_filename: Option<String>,
}

impl From<FileJson> for ChangedFile {
    fn from(file: FileJson) -> ChangedFile {
        let status = match file.status.as_str() {
            "added" => FileStatus::Added,
            "removed" => FileStatus::Removed,
            "modified" => FileStatus::Modified,
            "renamed" => FileStatus::Renamed,
            "copied" => FileStatus::Copied,
            "unchanged" => FileStatus::Unchanged,
            // "changed" and any status GitHub adds later: something changed, look at it.
            _ => FileStatus::Changed,
        };
        ChangedFile {
            path: file.filename,
            previous_path: file.previous_filename,
            status,
            patch: file.patch,
        }
    }
}

#[derive(Serialize)]
struct NewReview<'a> {
    commit_id: &'a str,
    event: &'static str,
    body: &'a str,
    comments: Vec<NewComment<'a>>,
}

#[derive(Serialize)]
struct NewComment<'a> {
    path: &'a str,
    body: &'a str,
    line: u32,
    side: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_side: Option<&'static str>,
}

#[derive(Deserialize)]
struct CreatedReview {
    id: i64,
}

#[derive(Deserialize)]
struct ReviewJson {
    id: i64,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

/// A SHA from GitHub's answer, checked before it is ever put in a URL.
fn sha(text: &str) -> Result<CommitSha, GitHubError> {
    CommitSha::parse(text).map_err(|e| GitHubError::Other(anyhow::anyhow!(e)))
}

impl Installation {
    /// The pull request's head, base and state, fresh from GitHub.
    pub async fn pull_request(
        &self,
        repo: &RepoName,
        number: PrNumber,
    ) -> Result<PullRequest, GitHubError> {
        let url = self.repo_url(repo, &format!("/pulls/{}", number.0))?;
        let request = ApiRequest::get(url);
        let pull: PullJson = self.send(&request).await?.json(&request.what())?;
        Ok(PullRequest {
            head_sha: sha(&pull.head.sha)?,
            base_sha: sha(&pull.base.sha)?,
            base_ref: pull.base.name,
            open: pull.state == "open",
            draft: pull.draft,
        })
    }

    /// Every changed file (up to GitHub's 3000), following `Link: rel="next"` only under the
    /// API root and with the installation token on every page.
    pub async fn changed_files(
        &self,
        repo: &RepoName,
        number: PrNumber,
    ) -> Result<Vec<ChangedFile>, GitHubError> {
        let mut url = self.repo_url(repo, &format!("/pulls/{}/files?per_page=100", number.0))?;
        let mut files = Vec::new();
        for _ in 0..MAX_FILE_PAGES {
            let request = ApiRequest::get(url);
            let answer = self.send_retrying_not_found(&request).await?;
            let page: Vec<FileJson> = answer.json(&request.what())?;
            files.extend(page.into_iter().map(ChangedFile::from));
            if files.len() >= MAX_FILES {
                files.truncate(MAX_FILES);
                break;
            }
            match next_link(&answer.headers) {
                Some(next) => url = self.core.root.followable(&next)?,
                None => break,
            }
        }
        Ok(files)
    }

    /// A read that tolerates a few 404s before believing them.
    async fn send_retrying_not_found(
        &self,
        request: &ApiRequest,
    ) -> Result<super::answer::Answer, GitHubError> {
        let mut retries = 0;
        loop {
            match self.send(request).await {
                Err(GitHubError::NotFound { .. }) if retries < NOT_FOUND_RETRIES => {
                    retries += 1;
                    tracing::debug!(retries, "pull request files not found yet; retrying");
                    tokio::time::sleep(self.core.policy.backoff(retries)).await;
                }
                other => return other,
            }
        }
    }

    /// Posts one review (event `COMMENT`) with inline comments on the new side; returns its id.
    /// GitHub refuses the whole review with 422 if any comment is outside the diff.
    ///
    /// Posted at most once: `key` must appear in `body` and identify this review (the head
    /// and what it says). When an attempt's effect is unknown (no answer, a 5xx), the pull
    /// request's reviews are read before trying again, and a review of this commit carrying
    /// `key` counts as posted.
    pub async fn create_review(
        &self,
        repo: &RepoName,
        number: PrNumber,
        commit: &CommitSha,
        body: &str,
        comments: &[ReviewComment],
        key: &str,
    ) -> Result<i64, GitHubError> {
        let review = NewReview {
            commit_id: commit.as_str(),
            event: "COMMENT",
            body,
            comments: comments
                .iter()
                .map(|c| NewComment {
                    path: &c.path,
                    body: &c.body,
                    line: c.line,
                    side: "RIGHT",
                    start_line: c.start_line,
                    start_side: c.start_line.map(|_| "RIGHT"),
                })
                .collect(),
        };
        let url = self.repo_url(repo, &format!("/pulls/{}/reviews", number.0))?;
        let request = ApiRequest::write(http::Method::POST, url, &review)?.no_blind_retry();
        let made = |answer: Answer| Ok(answer.json::<CreatedReview>(&request.what())?.id);
        self.create_once(&request, "review", made, || {
            self.find_review(repo, number, commit, key)
        })
        .await
    }

    /// The id of a review of `commit` on the pull request whose body carries `key`.
    async fn find_review(
        &self,
        repo: &RepoName,
        number: PrNumber,
        commit: &CommitSha,
        key: &str,
    ) -> Result<Option<i64>, GitHubError> {
        let mut url = self.repo_url(repo, &format!("/pulls/{}/reviews?per_page=100", number.0))?;
        for _ in 0..MAX_REVIEW_PAGES {
            let request = ApiRequest::get(url);
            let answer = self.send(&request).await?;
            let page: Vec<ReviewJson> = answer.json(&request.what())?;
            if let Some(r) = page.iter().find(|r| {
                r.commit_id.as_deref() == Some(commit.as_str())
                    && r.body.as_deref().is_some_and(|b| b.contains(key))
            }) {
                return Ok(Some(r.id));
            }
            match next_link(&answer.headers) {
                Some(next) => url = self.core.root.followable(&next)?,
                None => break,
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_comments_are_right_side_with_optional_ranges() {
        let single = NewComment {
            path: "a.yml",
            body: "b",
            line: 3,
            side: "RIGHT",
            start_line: None,
            start_side: None,
        };
        assert_eq!(
            serde_json::to_value(&single).unwrap(),
            serde_json::json!({"path":"a.yml","body":"b","line":3,"side":"RIGHT"})
        );
        let range = NewComment {
            start_line: Some(1),
            start_side: Some("RIGHT"),
            ..single
        };
        assert_eq!(
            serde_json::to_value(&range).unwrap(),
            serde_json::json!({"path":"a.yml","body":"b","line":3,"side":"RIGHT","start_line":1,"start_side":"RIGHT"})
        );
    }

    #[test]
    fn file_entries_map_to_changed_files() {
        let file: FileJson = serde_json::from_str(
            r#"{"sha":"x","filename":"k8s/new.yaml","status":"renamed","additions":1,"deletions":0,"changes":1,"previous_filename":"k8s/old.yaml"}"#,
        )
        .unwrap();
        assert_eq!(
            ChangedFile::from(file),
            ChangedFile {
                path: "k8s/new.yaml".into(),
                previous_path: Some("k8s/old.yaml".into()),
                status: FileStatus::Renamed,
                patch: None,
            }
        );
    }
}
