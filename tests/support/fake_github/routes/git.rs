//! Whole-repository reads: the repository (its default branch), branch refs, trees (recursive
//! or one folder, truncated on request) and blobs, and the installation's repositories.

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::auth;
use super::super::git::{self, Node};
use super::super::state::{Repo, State};
use super::repos::base64_lines;
use super::{ApiResult, Shared, error, json_response};

fn repo_json(st: &State, r: &Repo) -> Value {
    let (owner, name) = r.full_name.split_once('/').unwrap_or(("", &r.full_name));
    json!({
        "id": r.id,
        "node_id": format!("R_{}", r.id),
        "name": name,
        "full_name": r.full_name,
        "private": false,
        "owner": { "login": owner, "type": "Organization" },
        "html_url": format!("https://github.com/{}", r.full_name),
        "url": format!("{}/repos/{}", st.base_url, r.full_name),
        "default_branch": r.default_branch,
        "archived": false,
        "disabled": false,
        "visibility": "public",
    })
}

/// `GET /repos/{owner}/{repo}`.
pub async fn repository(
    AxState(shared): AxState<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    Ok(json_response(
        StatusCode::OK,
        repo_json(&st, &st.repos[&full]),
    ))
}

/// `GET /repos/{owner}/{repo}/git/ref/heads/{branch}`.
pub async fn git_ref(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    let r = &st.repos[&full];
    let head = name
        .strip_prefix("heads/")
        .and_then(|branch| r.branches.get(branch));
    let Some(sha) = head else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    Ok(json_response(
        StatusCode::OK,
        json!({
            "ref": format!("refs/{name}"),
            "node_id": "REF_fake",
            "url": format!("{}/repos/{full}/git/refs/{name}", st.base_url),
            "object": {
                "sha": sha,
                "type": "commit",
                "url": format!("{}/repos/{full}/git/commits/{sha}", st.base_url),
            },
        }),
    ))
}

fn entry_json(st: &State, full: &str, n: &Node, prefix: &str) -> Value {
    let mut v = json!({
        "path": &n.path[prefix.len()..],
        "mode": n.mode,
        "type": n.kind,
        "sha": n.sha,
        "url": format!("{}/repos/{full}/git/{}s/{}", st.base_url, n.kind, n.sha),
    });
    if let Some(size) = n.size {
        v["size"] = json!(size);
    }
    v
}

/// `GET /repos/{owner}/{repo}/git/trees/{sha}[?recursive=1]`: a commit's or a folder's tree.
pub async fn tree(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    let r = &st.repos[&full];
    let Some((id, prefix, nodes)) = git::find_tree(r, &sha) else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    // GitHub treats any value of `recursive` as true, even 0 or false.
    let recursive = q.contains_key("recursive");
    let truncated = recursive && r.truncate_trees;
    let entries: Vec<Value> = nodes
        .iter()
        .filter_map(|n| {
            let rest = n.path.strip_prefix(prefix.as_str())?;
            let direct = !rest.contains('/');
            (direct || (recursive && !truncated)).then(|| entry_json(&st, &full, n, &prefix))
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({
            "sha": id,
            "url": format!("{}/repos/{full}/git/trees/{id}", st.base_url),
            "tree": entries,
            "truncated": truncated,
        }),
    ))
}

/// `GET /repos/{owner}/{repo}/git/blobs/{sha}`: raw bytes with the raw media type, else JSON
/// with base64 content.
pub async fn blob(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    let Some(bytes) = git::find_blob(&st.repos[&full], &sha) else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains(".raw") {
        return Ok((
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/vnd.github.raw+json; charset=utf-8",
            )],
            bytes.to_vec(),
        )
            .into_response());
    }
    Ok(json_response(
        StatusCode::OK,
        json!({
            "sha": sha,
            "node_id": "B_fake",
            "size": bytes.len(),
            "url": format!("{}/repos/{full}/git/blobs/{sha}", st.base_url),
            "content": base64_lines(bytes),
            "encoding": "base64",
        }),
    ))
}

/// `GET /installation/repositories`: the token's installation's repositories, paged with
/// absolute `Link` URLs.
pub async fn installation_repositories(
    AxState(shared): AxState<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let installation = auth::require_token(&st, &headers)?;
    let (per_page, page) = super::page_params(&q);
    let repos: Vec<&Repo> = st
        .installations
        .get(&installation)
        .into_iter()
        .flatten()
        .filter_map(|name| st.repos.get(name))
        .collect();
    let items: Vec<Value> = repos
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|r| repo_json(&st, r))
        .collect();
    let mut resp: Response = json_response(
        StatusCode::OK,
        json!({
            "total_count": repos.len(),
            "repository_selection": "selected",
            "repositories": items,
        }),
    );
    let last = repos.len().div_ceil(per_page).max(1);
    if page < last {
        let url = |n: usize| {
            format!(
                "{}/installation/repositories?per_page={per_page}&page={n}",
                st.base_url
            )
        };
        let links = format!(
            "<{}>; rel=\"next\", <{}>; rel=\"last\"",
            url(page + 1),
            url(last)
        );
        resp.headers_mut()
            .insert(header::LINK, HeaderValue::from_str(&links).expect("ascii"));
    }
    Ok(resp)
}
