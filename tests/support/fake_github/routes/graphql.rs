//! `POST /graphql`, for the operations the bot uses (review threads, `updateRefs`). No GraphQL parser: the query text is
//! searched for the field name, and `variables` carry the arguments. Answers are always HTTP
//! 200 (errors in the body), as on GitHub.

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::super::auth;
use super::super::state::{State, Thread};
use super::{ApiResult, Shared, json_response, parse_json};

fn errors(message: &str, kind: Option<&str>) -> Response {
    let mut e = json!({ "message": message });
    if let Some(k) = kind {
        e["type"] = json!(k);
    }
    json_response(StatusCode::OK, json!({ "data": null, "errors": [e] }))
}

pub async fn graphql(
    AxState(shared): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut st = shared.lock();
    // GraphQL answers auth failures with a real 401, unlike its other errors.
    let installation = auth::require_token(&st, &headers)?;
    let query = body.get("query").and_then(Value::as_str).unwrap_or("");
    let vars = body.get("variables").cloned().unwrap_or(Value::Null);
    // `unresolveReviewThread` contains `resolveReviewThread`: test it first.
    Ok(if query.contains("updateRefs") {
        update_refs(&mut st, installation, &vars)
    } else if query.contains("unresolveReviewThread") {
        set_resolved(&mut st, installation, &vars, false, "unresolveReviewThread")
    } else if query.contains("resolveReviewThread") {
        set_resolved(&mut st, installation, &vars, true, "resolveReviewThread")
    } else if query.contains("reviewThreads") {
        threads(&st, installation, &vars)
    } else {
        let head: String = query.chars().take(80).collect();
        errors(&format!("unsupported by the fake: {head}"), None)
    })
}

fn visible(st: &State, installation: u64, repo: &str) -> bool {
    st.repos.contains_key(repo)
        && st
            .installations
            .get(&installation)
            .is_some_and(|r| r.contains(repo))
}

fn thread_json(t: &Thread) -> Value {
    json!({
        "id": t.id,
        "isResolved": t.is_resolved,
        "isOutdated": t.is_outdated,
        "path": t.path,
        // GitHub reports no current line for an outdated thread.
        "line": if t.is_outdated { Value::Null } else { json!(t.line) },
        "startLine": if t.is_outdated { Value::Null } else { json!(t.start_line) },
        "comments": { "nodes": t.comments.iter().take(50).map(|c| json!({
            "databaseId": c.id,
            "author": { "login": c.author },
            "body": c.body,
        })).collect::<Vec<_>>() },
    })
}

/// `repository(owner,name){pullRequest(number){reviewThreads(first,after:$cursor){…}}}`.
fn threads(st: &State, installation: u64, vars: &Value) -> Response {
    let owner = vars["owner"].as_str().unwrap_or("");
    let name = vars["name"].as_str().unwrap_or("");
    let full = format!("{owner}/{name}");
    if !visible(st, installation, &full) {
        return errors(
            &format!("Could not resolve to a Repository with the name '{full}'."),
            Some("NOT_FOUND"),
        );
    }
    let number = vars["number"].as_u64().unwrap_or(0);
    let Some(pr) = st.repos[&full].pulls.get(&number) else {
        return errors(
            &format!("Could not resolve to a PullRequest with the number of {number}."),
            Some("NOT_FOUND"),
        );
    };
    // Cursors are opaque on GitHub; here `c<index of the last node sent>`.
    let start = match vars
        .get("cursor")
        .or_else(|| vars.get("after"))
        .and_then(Value::as_str)
    {
        None => 0,
        Some(c) => match c.strip_prefix('c').and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => n + 1,
            None => {
                return errors(
                    &format!("`{c}` does not appear to be a valid cursor."),
                    None,
                );
            }
        },
    };
    let size = st.thread_page_size;
    let nodes: Vec<Value> = pr
        .threads
        .iter()
        .skip(start)
        .take(size)
        .map(thread_json)
        .collect();
    let end = start + nodes.len();
    let end_cursor = if nodes.is_empty() {
        Value::Null
    } else {
        json!(format!("c{}", end - 1))
    };
    json_response(
        StatusCode::OK,
        json!({ "data": { "repository": { "pullRequest": { "reviewThreads": {
            "totalCount": pr.threads.len(),
            "pageInfo": { "hasNextPage": end < pr.threads.len(), "endCursor": end_cursor },
            "nodes": nodes,
        }}}}}),
    )
}

/// `resolveReviewThread` / `unresolveReviewThread` with `threadId`.
fn set_resolved(
    st: &mut State,
    installation: u64,
    vars: &Value,
    resolved: bool,
    field: &str,
) -> Response {
    let id = vars["threadId"].as_str().unwrap_or("");
    let repo = st.thread_repo(id);
    let Some(thread) = repo
        .filter(|r| visible(st, installation, r))
        .and_then(|_| st.thread_mut(id))
    else {
        return errors(
            &format!("Could not resolve to a node with the global id of '{id}'"),
            Some("NOT_FOUND"),
        );
    };
    thread.is_resolved = resolved;
    json_response(
        StatusCode::OK,
        json!({ "data": { field: { "thread": { "id": thread.id, "isResolved": thread.is_resolved } } } }),
    )
}

/// `updateRefs(input:{repositoryId,refUpdates})`: every `beforeOid` is checked before any ref
/// moves, as GitHub does them atomically. Only forced moves and deletions.
fn update_refs(st: &mut State, installation: u64, vars: &Value) -> Response {
    let node = vars["repositoryId"].as_str().unwrap_or("");
    let repo = st
        .repos
        .values()
        .find(|r| format!("R_{}", r.id) == node)
        .map(|r| r.full_name.clone())
        .filter(|r| visible(st, installation, r));
    let Some(repo) = repo else {
        return errors(
            &format!("Could not resolve to a node with the global id of '{node}'"),
            Some("NOT_FOUND"),
        );
    };
    st.race();
    let updates = vars["refUpdates"].as_array().cloned().unwrap_or_default();
    let r = st.repo_mut(&repo);
    for u in &updates {
        let name = u["name"].as_str().unwrap_or("");
        let branch = name.strip_prefix("refs/heads/").unwrap_or(name);
        let now = r.branches.get(branch).map(String::as_str);
        let expected = u["beforeOid"].as_str();
        let absent = expected.is_some_and(|e| e.bytes().all(|b| b == b'0'));
        let matches = match expected {
            None => true,
            Some(_) if absent => now.is_none(),
            Some(e) => now == Some(e),
        };
        if !matches {
            return errors(
                &format!(
                    "{name} does not point at {}: nothing was updated",
                    expected.unwrap_or("")
                ),
                None,
            );
        }
        if !u["force"].as_bool().unwrap_or(false) && now.is_some() {
            return errors("the fake only knows forced updates", None);
        }
    }
    for u in &updates {
        let name = u["name"].as_str().unwrap_or("");
        let branch = name.strip_prefix("refs/heads/").unwrap_or(name).to_string();
        let after = u["afterOid"].as_str().unwrap_or("").to_string();
        if after.bytes().all(|b| b == b'0') {
            r.branches.remove(&branch);
        } else {
            super::super::git::move_branch(r, &branch, &after);
        }
    }
    json_response(
        StatusCode::OK,
        json!({ "data": { "updateRefs": { "clientMutationId": null } } }),
    )
}
