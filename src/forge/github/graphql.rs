//! Review threads through GraphQL, the only API that lists and resolves them. GraphQL answers
//! 200 even when it fails; its `errors` array is what says so.

use super::GitHubError;
use super::client::ApiRequest;
use super::installation::Installation;
use crate::forge::{ReviewThread, ThreadComment};
use crate::ids::{PrNumber, RepoName};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const THREADS_QUERY: &str = "query($owner:String!,$name:String!,$number:Int!,$cursor:String){repository(owner:$owner,name:$name){pullRequest(number:$number){reviewThreads(first:100,after:$cursor){pageInfo{hasNextPage endCursor}nodes{id isResolved isOutdated path comments(first:50){nodes{author{login}body}}}}}}}";
const RESOLVE_MUTATION: &str = "mutation($threadId:ID!){resolveReviewThread(input:{threadId:$threadId}){thread{id isResolved}}}";
/// 100 pages of 100 threads: far beyond any real pull request, short of an endless loop.
const MAX_THREAD_PAGES: usize = 100;

#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<GraphQlError>,
}

#[derive(Deserialize)]
struct GraphQlError {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct ThreadsData {
    repository: Option<RepositoryJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepositoryJson {
    pull_request: Option<PullRequestJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PullRequestJson {
    review_threads: Connection<ThreadJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection<T> {
    #[serde(default)]
    page_info: Option<PageInfo>,
    nodes: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadJson {
    id: String,
    is_resolved: bool,
    is_outdated: bool,
    path: String,
    comments: Connection<CommentJson>,
}

#[derive(Deserialize)]
struct CommentJson {
    author: Option<Author>,
    body: String,
}

#[derive(Deserialize)]
struct Author {
    login: String,
}

impl From<ThreadJson> for ReviewThread {
    fn from(thread: ThreadJson) -> ReviewThread {
        ReviewThread {
            id: thread.id,
            is_resolved: thread.is_resolved,
            is_outdated: thread.is_outdated,
            path: thread.path,
            comments: thread
                .comments
                .nodes
                .into_iter()
                .map(|c| ThreadComment {
                    // A deleted account shows as GitHub's "ghost".
                    author: c.author.map_or_else(|| "ghost".to_string(), |a| a.login),
                    body: c.body,
                })
                .collect(),
        }
    }
}

/// The `data` of a GraphQL answer, or its `errors` as one error.
fn data_of<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, GitHubError> {
    let envelope: Envelope<T> = serde_json::from_slice(body)
        .map_err(|e| GitHubError::Other(anyhow::anyhow!("unexpected answer to {what}: {e}")))?;
    if !envelope.errors.is_empty() {
        let messages: Vec<&str> = envelope.errors.iter().map(|e| e.message.as_str()).collect();
        return Err(GitHubError::Other(anyhow::anyhow!(
            "GraphQL errors from {what}: {}",
            messages.join("; ")
        )));
    }
    envelope
        .data
        .ok_or_else(|| GitHubError::Other(anyhow::anyhow!("{what}: GraphQL answer without data")))
}

impl Installation {
    /// Runs one GraphQL document; mutations are paced like any write, queries are not.
    pub(super) async fn graphql<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
        mutation: bool,
    ) -> Result<T, GitHubError> {
        let url = super::urls::graphql_url(&self.core.root)?;
        let body = json!({ "query": query, "variables": variables });
        let mut request = ApiRequest::write(http::Method::POST, url, &body)?;
        if !mutation {
            request = request.unpaced();
        }
        let answer = self.send(&request).await?;
        data_of(&answer.body, &request.what())
    }

    /// Every review thread of the pull request, with up to 50 comments each.
    pub async fn review_threads(
        &self,
        repo: &RepoName,
        number: PrNumber,
    ) -> Result<Vec<ReviewThread>, GitHubError> {
        let mut threads = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_THREAD_PAGES {
            let variables = json!({
                "owner": repo.owner(),
                "name": repo.name(),
                "number": number.0,
                "cursor": cursor,
            });
            let data: ThreadsData = self.graphql(THREADS_QUERY, variables, false).await?;
            let connection = data
                .repository
                .and_then(|r| r.pull_request)
                .ok_or_else(|| GitHubError::NotFound {
                    what: format!("pull request {repo}#{}", number.0),
                })?
                .review_threads;
            threads.extend(connection.nodes.into_iter().map(ReviewThread::from));
            match connection.page_info {
                Some(PageInfo {
                    has_next_page: true,
                    end_cursor: Some(next),
                }) => cursor = Some(next),
                _ => break,
            }
        }
        Ok(threads)
    }

    /// Marks a review thread (`PRRT_…`) resolved.
    pub async fn resolve_thread(&self, thread_id: &str) -> Result<(), GitHubError> {
        let variables = json!({ "threadId": thread_id });
        let _: Value = self.graphql(RESOLVE_MUTATION, variables, true).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_win_over_data() {
        let body = br#"{"data":null,"errors":[{"type":"FORBIDDEN","message":"Resource not accessible by integration"},{"message":"second"}]}"#;
        let err = data_of::<Value>(body, "POST /graphql").unwrap_err();
        assert!(
            err.to_string()
                .contains("Resource not accessible by integration; second"),
            "{err}"
        );
    }

    #[test]
    fn threads_parse_with_ghost_authors() {
        let body = br#"{"data":{"repository":{"pullRequest":{"reviewThreads":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[{"id":"PRRT_1","isResolved":false,"isOutdated":true,"path":"a.yml","comments":{"nodes":[{"author":null,"body":"hi"},{"author":{"login":"immutabot[bot]"},"body":"x"}]}}]}}}}}"#;
        let data: ThreadsData = data_of(body, "q").unwrap();
        let threads: Vec<ReviewThread> = data
            .repository
            .unwrap()
            .pull_request
            .unwrap()
            .review_threads
            .nodes
            .into_iter()
            .map(ReviewThread::from)
            .collect();
        assert_eq!(threads[0].id, "PRRT_1");
        assert!(threads[0].is_outdated);
        assert_eq!(threads[0].comments[0].author, "ghost");
        assert_eq!(threads[0].comments[1].author, "immutabot[bot]");
    }
}
