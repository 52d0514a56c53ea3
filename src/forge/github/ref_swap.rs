//! Moving a branch only while it still points where the bot left it: GraphQL's `updateRefs`
//! with `beforeOid`, the one GitHub API that compares and swaps a ref. The REST ref update
//! has no such check, so a push landing between reading the branch and moving it would be
//! replaced.

use super::GitHubError;
use super::client::ApiRequest;
use super::installation::Installation;
use crate::ids::{CommitSha, RepoName};
use serde::Deserialize;
use serde_json::json;

const UPDATE_REFS: &str = "mutation($repositoryId:ID!,$refUpdates:[RefUpdate!]!){updateRefs(input:{repositoryId:$repositoryId,refUpdates:$refUpdates}){clientMutationId}}";

/// What a compare-and-swap of a branch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    /// The branch now points at the new commit.
    Moved,
    /// The branch no longer pointed at the expected commit: it was left alone. Its head now.
    Refused(Option<CommitSha>),
}

#[derive(Deserialize)]
struct NodeJson {
    node_id: String,
}

impl Installation {
    /// Moves `branch` from `from` to `to`, forced (not a fast-forward), only while it still
    /// points at `from`. A GitHub without `updateRefs` (an older Enterprise Server) gets the
    /// REST move after one more look at the head, which leaves a window of one request.
    pub async fn swap_branch(
        &self,
        repo: &RepoName,
        branch: &str,
        from: &CommitSha,
        to: &CommitSha,
    ) -> Result<Swap, GitHubError> {
        let request = ApiRequest::get(self.repo_url(repo, "")?);
        let node: NodeJson = self.send(&request).await?.json(&request.what())?;
        let variables = json!({
            "repositoryId": node.node_id,
            "refUpdates": [{
                "name": format!("refs/heads/{branch}"),
                "beforeOid": from.as_str(),
                "afterOid": to.as_str(),
                "force": true,
            }],
        });
        let error = match self
            .graphql::<serde_json::Value>(UPDATE_REFS, variables, true)
            .await
        {
            Ok(_) => return Ok(Swap::Moved),
            Err(e) => e,
        };
        // Whatever GraphQL said, the branch's head tells whether someone else moved it.
        let head = self.branch_head(repo, branch).await?;
        if head.as_ref() == Some(to) {
            // Our own swap, whose answer was lost.
            return Ok(Swap::Moved);
        }
        if head.as_ref() != Some(from) {
            return Ok(Swap::Refused(head));
        }
        if unknown_mutation(&error) {
            self.move_branch(repo, branch, to, true).await?;
            return Ok(Swap::Moved);
        }
        Err(error)
    }
}

/// Whether GraphQL refused the document because it has no `updateRefs`.
fn unknown_mutation(e: &GitHubError) -> bool {
    let text = e.to_string();
    text.contains("updateRefs") && text.contains("doesn't exist")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_mutation_falls_back_to_rest() {
        let missing = GitHubError::Other(anyhow::anyhow!(
            "GraphQL errors from POST /graphql: Field 'updateRefs' doesn't exist on type 'Mutation'"
        ));
        assert!(unknown_mutation(&missing));
        let refused = GitHubError::Other(anyhow::anyhow!(
            "GraphQL errors from POST /graphql: Resource not accessible by integration"
        ));
        assert!(!unknown_mutation(&refused));
    }
}
