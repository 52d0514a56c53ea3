//! The repositories an installation can see, for the periodic rescan: it catches
//! repositories whose `installation_repositories` events were missed.

use super::GitHubError;
use super::client::ApiRequest;
use super::installation::Installation;
use crate::forge::ListedRepository;
use crate::forge::link::next_link;
use crate::ids::RepoName;
use serde::Deserialize;

/// 100 pages of 100: more repositories than one installation has in practice.
const MAX_PAGES: usize = 100;

#[derive(Deserialize)]
struct PageJson {
    repositories: Vec<RepoJson>,
}

#[derive(Deserialize)]
struct RepoJson {
    id: i64,
    full_name: String,
    #[serde(default)]
    default_branch: Option<String>,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    archived: bool,
}

impl Installation {
    /// Every repository of this installation, following `Link: rel="next"` only under the
    /// API root and with the installation token on every page.
    pub async fn installation_repositories(&self) -> Result<Vec<ListedRepository>, GitHubError> {
        let mut url = self
            .core
            .root
            .url("/installation/repositories?per_page=100")?;
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let request = ApiRequest::get(url);
            let answer = self.send(&request).await?;
            let page: PageJson = answer.json(&request.what())?;
            for r in page.repositories {
                let name = RepoName::parse(&r.full_name)
                    .map_err(|e| GitHubError::Other(anyhow::anyhow!(e)))?;
                out.push(ListedRepository {
                    id: r.id,
                    name,
                    default_branch: r.default_branch,
                    private: r.private,
                    archived: r.archived,
                });
            }
            match next_link(&answer.headers) {
                Some(next) => url = self.core.root.followable(&next)?,
                None => break,
            }
        }
        Ok(out)
    }
}
