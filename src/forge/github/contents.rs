//! A file's bytes at a commit, through the raw media type (the JSON form caps at 1 MB).

use super::GitHubError;
use super::client::ApiRequest;
use super::installation::Installation;
use super::urls::encode_file_path;
use crate::ids::{CommitSha, RepoName};

/// The raw media type: the answer body is the file itself.
const RAW: &str = "application/vnd.github.raw+json";

impl Installation {
    /// The file at `path` in `commit`, or `None` when it does not exist there. A path with
    /// `.`, `..` or empty segments is refused before any request.
    pub async fn file_at(
        &self,
        repo: &RepoName,
        path: &str,
        commit: &CommitSha,
    ) -> Result<Option<Vec<u8>>, GitHubError> {
        let encoded = encode_file_path(path)
            .map_err(|e| GitHubError::Other(anyhow::Error::new(crate::forge::FileRefused(e))))?;
        let url = self.repo_url(repo, &format!("/contents/{encoded}?ref={commit}"))?;
        let request = ApiRequest::get(url).accept(RAW);
        match self.send(&request).await {
            Ok(answer) => Ok(Some(answer.body.to_vec())),
            Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
