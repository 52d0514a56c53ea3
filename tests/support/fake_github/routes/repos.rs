//! Reading a pull request: the PR itself, its files (paged, both path forms) and file
//! contents at a ref.

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::super::state::{FileChange, PullRequest, Repo, State};
use super::super::{auth, diff};
use super::{ApiResult, Shared, error, json_response};

/// GitHub stops listing a PR's files after this many.
const MAX_FILES: usize = 3000;

fn repo_json(r: &Repo) -> Value {
    json!({ "id": r.id, "full_name": r.full_name, "name": r.full_name.split('/').nth(1) })
}

pub fn pull_json(st: &State, r: &Repo, p: &PullRequest) -> Value {
    json!({
        "url": format!("{}/repos/{}/pulls/{}", st.base_url, r.full_name, p.number),
        "id": r.id * 1000 + p.number,
        "number": p.number,
        "state": p.state,
        "draft": p.draft,
        "merged": p.merged,
        "merged_at": if p.merged { json!("2026-12-03T12:00:00Z") } else { Value::Null },
        "title": if p.title.is_empty() { format!("Pull request {}", p.number) } else { p.title.clone() },
        "body": p.body,
        "user": { "login": p.user },
        "html_url": format!("https://github.com/{}/pull/{}", r.full_name, p.number),
        "head": { "sha": p.head_sha, "ref": p.head_ref, "label": format!("octocat:{}", p.head_ref), "repo": repo_json(r) },
        "base": { "sha": p.base_sha, "ref": p.base_ref, "label": format!("octocat:{}", p.base_ref), "repo": repo_json(r) },
    })
}

/// `GET /repos/{owner}/{repo}/pulls/{number}`.
pub async fn pull(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    let r = &st.repos[&full];
    match r.pulls.get(&number) {
        Some(p) => Ok(json_response(StatusCode::OK, pull_json(&st, r, p))),
        None => Err(error(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// `GET /repos/{owner}/{repo}/pulls/{number}/files`.
pub async fn files_by_name(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let mut st = shared.lock();
    files(&mut st, &format!("{owner}/{repo}"), number, &q, &headers)
}

/// `GET /repositories/{id}/pulls/{number}/files` — the form GitHub's `Link` URLs use.
pub async fn files_by_id(
    AxState(shared): AxState<Shared>,
    Path((id, number)): Path<(u64, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let mut st = shared.lock();
    let Some(full) = st.repo_by_id(id).map(|r| r.full_name.clone()) else {
        // Tokens are checked first on GitHub: an unknown id with a bad token is still 401.
        auth::require_token(&st, &headers)?;
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    files(&mut st, &full, number, &q, &headers)
}

fn file_json(st: &State, repo: &str, head: &str, f: &FileChange) -> Value {
    let (additions, deletions) = f.patch.as_deref().map(diff::line_counts).unwrap_or((0, 0));
    let sha = hex::encode(Sha256::digest(format!("{head}:{}", f.path)))[..40].to_string();
    let mut v = json!({
        "sha": sha,
        "filename": f.path,
        "status": f.status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": format!("https://github.com/{repo}/blob/{head}/{}", f.path),
        "raw_url": format!("https://github.com/{repo}/raw/{head}/{}", f.path),
        "contents_url": format!("{}/repos/{repo}/contents/{}?ref={head}", st.base_url, f.path),
    });
    if let Some(p) = &f.patch {
        v["patch"] = json!(p);
    }
    if let Some(prev) = &f.previous_filename {
        v["previous_filename"] = json!(prev);
    }
    v
}

fn files(
    st: &mut State,
    full: &str,
    number: u64,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
) -> ApiResult {
    auth::require_repo_token(st, headers, full)?;
    let (per_page, page) = super::page_params(q);
    let repo_id = st.repos[full].id;
    let Some(pr) = st
        .repos
        .get_mut(full)
        .and_then(|r| r.pulls.get_mut(&number))
    else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    if pr.files_not_found > 0 {
        pr.files_not_found -= 1;
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    }
    let pr = pr.clone();
    let listed = &pr.files[..pr.files.len().min(MAX_FILES)];
    let items: Vec<Value> = listed
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|f| file_json(st, full, &pr.head_sha, f))
        .collect();
    let mut resp = json_response(StatusCode::OK, json!(items));
    let last = listed.len().div_ceil(per_page).max(1);
    if last > 1 {
        // Absolute URLs in the numeric-id form, exactly as GitHub writes them.
        let url = |n: usize| {
            format!(
                "{}/repositories/{repo_id}/pulls/{number}/files?per_page={per_page}&page={n}",
                st.base_url
            )
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(format!("<{}>; rel=\"prev\"", url(page - 1)));
        }
        if page < last {
            links.push(format!("<{}>; rel=\"next\"", url(page + 1)));
            links.push(format!("<{}>; rel=\"last\"", url(last)));
        }
        if page > 1 {
            links.push(format!("<{}>; rel=\"first\"", url(1)));
        }
        resp.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&links.join(", ")).expect("ascii"),
        );
    }
    Ok(resp)
}

/// `GET /repos/{owner}/{repo}/contents/{path}?ref=` — raw bytes with the raw media type, else
/// GitHub's JSON with base64 content. Without `ref`, the default branch `main`.
pub async fn contents(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    let git_ref = q.get("ref").cloned().unwrap_or_else(|| "main".to_string());
    let Some(bytes) = st.repos[&full].files.get(&(git_ref, path.clone())) else {
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
            bytes.clone(),
        )
            .into_response());
    }
    Ok(json_response(
        StatusCode::OK,
        json!({
            "type": "file",
            "encoding": "base64",
            "size": bytes.len(),
            "name": path.rsplit('/').next(),
            "path": path,
            "content": base64_lines(bytes),
            "sha": hex::encode(Sha256::digest(bytes))[..40].to_string(),
        }),
    ))
}

/// Base64 in 60-character lines, each ended by `\n`, as the contents API sends it (no base64
/// crate among the dependencies, and this is all the fake needs).
pub fn base64_lines(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    let mut wrapped = String::new();
    for (i, c) in out.chars().enumerate() {
        if i > 0 && i % 60 == 0 {
            wrapped.push('\n');
        }
        wrapped.push(c);
    }
    if !wrapped.is_empty() {
        wrapped.push('\n');
    }
    wrapped
}
