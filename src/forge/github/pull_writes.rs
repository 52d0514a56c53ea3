//! The pull requests the bot opens itself: find one by its branch, open, update, close,
//! and comment on it. Opening and commenting are made at most once (see `create_once`).

use super::GitHubError;
use super::answer::Answer;
use super::client::ApiRequest;
use super::installation::Installation;
use crate::forge::link::next_link;
use crate::ids::{PrNumber, RepoName};
use serde::{Deserialize, Serialize};

/// Pages of comments read to find out whether a comment whose answer was lost was made.
const MAX_COMMENT_PAGES: usize = 10;

/// A pull request the bot made, as GitHub shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotPull {
    /// Its number.
    pub number: PrNumber,
    /// Its web address.
    pub url: String,
    /// `open` or `closed`.
    pub state: String,
    /// Whether it was merged.
    pub merged: bool,
}

#[derive(Deserialize)]
struct PullJson {
    number: i64,
    html_url: String,
    state: String,
    #[serde(default)]
    merged: bool,
    #[serde(default)]
    merged_at: Option<String>,
}

impl From<PullJson> for BotPull {
    fn from(p: PullJson) -> BotPull {
        BotPull {
            number: PrNumber(p.number),
            url: p.html_url,
            state: p.state,
            merged: p.merged || p.merged_at.is_some(),
        }
    }
}

#[derive(Serialize)]
struct NewPull<'a> {
    title: &'a str,
    head: &'a str,
    base: &'a str,
    body: &'a str,
    maintainer_can_modify: bool,
}

#[derive(Serialize)]
struct EditPull<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'static str>,
}

#[derive(Serialize)]
struct NewComment<'a> {
    body: &'a str,
}

#[derive(Deserialize)]
struct CommentJson {
    id: i64,
    #[serde(default)]
    body: Option<String>,
}

impl Installation {
    /// One pull request's state, fresh from GitHub.
    pub async fn bot_pull(
        &self,
        repo: &RepoName,
        number: PrNumber,
    ) -> Result<BotPull, GitHubError> {
        let request = ApiRequest::get(self.repo_url(repo, &format!("/pulls/{}", number.0))?);
        let pull: PullJson = self.send(&request).await?.json(&request.what())?;
        Ok(pull.into())
    }

    /// The open pull request from `branch` of the repository itself, if there is one.
    pub async fn open_pull_from(
        &self,
        repo: &RepoName,
        branch: &str,
    ) -> Result<Option<BotPull>, GitHubError> {
        let head: String =
            form_urlencoded::byte_serialize(format!("{}:{branch}", repo.owner()).as_bytes())
                .collect();
        let url = self.repo_url(repo, &format!("/pulls?state=open&head={head}&per_page=10"))?;
        let request = ApiRequest::get(url);
        let pulls: Vec<PullJson> = self.send(&request).await?.json(&request.what())?;
        Ok(pulls.into_iter().next().map(BotPull::from))
    }

    /// Opens a pull request from `branch` into `base`. Made at most once: after a lost
    /// answer, or when GitHub says one is already open for the branch, that one is it.
    pub async fn open_pull(
        &self,
        repo: &RepoName,
        branch: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<BotPull, GitHubError> {
        let new = NewPull {
            title,
            head: branch,
            base,
            body,
            maintainer_can_modify: true,
        };
        let request = ApiRequest::write(http::Method::POST, self.repo_url(repo, "/pulls")?, &new)?
            .no_blind_retry();
        let made = |answer: Answer| Ok(BotPull::from(answer.json::<PullJson>(&request.what())?));
        let found = || self.open_pull_from(repo, branch);
        match self
            .create_once(&request, "pull_request", made, found)
            .await
        {
            Err(GitHubError::Unprocessable { message }) if message.contains("already exists") => {
                match self.open_pull_from(repo, branch).await? {
                    Some(pull) => Ok(pull),
                    None => Err(GitHubError::Unprocessable { message }),
                }
            }
            other => other,
        }
    }

    /// Replaces a pull request's title and body.
    pub async fn edit_pull(
        &self,
        repo: &RepoName,
        number: PrNumber,
        title: &str,
        body: &str,
    ) -> Result<(), GitHubError> {
        self.patch_pull(
            repo,
            number,
            EditPull {
                title: Some(title),
                body: Some(body),
                state: None,
            },
        )
        .await
    }

    /// Closes a pull request.
    pub async fn close_pull(&self, repo: &RepoName, number: PrNumber) -> Result<(), GitHubError> {
        self.patch_pull(
            repo,
            number,
            EditPull {
                title: None,
                body: None,
                state: Some("closed"),
            },
        )
        .await
    }

    /// Edits are the same however often they are sent: blind retries are safe.
    async fn patch_pull(
        &self,
        repo: &RepoName,
        number: PrNumber,
        edit: EditPull<'_>,
    ) -> Result<(), GitHubError> {
        let url = self.repo_url(repo, &format!("/pulls/{}", number.0))?;
        let request = ApiRequest::write(http::Method::PATCH, url, &edit)?;
        self.send(&request).await?;
        Ok(())
    }

    /// Comments on a pull request; returns the comment's id. Made at most once: `key` must
    /// appear in `body`, and after a lost answer a comment carrying it counts as made.
    pub async fn comment_once(
        &self,
        repo: &RepoName,
        number: PrNumber,
        body: &str,
        key: &str,
    ) -> Result<i64, GitHubError> {
        let url = self.repo_url(repo, &format!("/issues/{}/comments", number.0))?;
        let request =
            ApiRequest::write(http::Method::POST, url, &NewComment { body })?.no_blind_retry();
        let made = |answer: Answer| Ok(answer.json::<CommentJson>(&request.what())?.id);
        self.create_once(&request, "comment", made, || {
            self.find_comment(repo, number, key)
        })
        .await
    }

    /// The id of a comment on the pull request whose body carries `key`.
    async fn find_comment(
        &self,
        repo: &RepoName,
        number: PrNumber,
        key: &str,
    ) -> Result<Option<i64>, GitHubError> {
        let mut url =
            self.repo_url(repo, &format!("/issues/{}/comments?per_page=100", number.0))?;
        for _ in 0..MAX_COMMENT_PAGES {
            let request = ApiRequest::get(url);
            let answer = self.send(&request).await?;
            let page: Vec<CommentJson> = answer.json(&request.what())?;
            if let Some(c) = page
                .iter()
                .find(|c| c.body.as_deref().is_some_and(|b| b.contains(key)))
            {
                return Ok(Some(c.id));
            }
            match next_link(&answer.headers) {
                Some(next) => url = self.core.root.followable(&next)?,
                None => break,
            }
        }
        Ok(None)
    }
}
