//! Writing through the API: Git data (blobs, trees, commits, refs), pull requests (list by
//! head, create, edit, close) and conversation comments, with GitHub's refusals: 422 for a
//! ref that exists or a move that is not a fast-forward, for a second open pull request of
//! one head; 404 for what is not there.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::super::auth;
use super::super::git;
use super::super::state::{BOT_LOGIN, IssueComment, PullRequest, Repo, State};
use super::{ApiResult, Shared, error, json_response, parse_json, unprocessable};

/// Who a request with an installation token acts as.
const ACTOR: &str = BOT_LOGIN;

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn repo<'a>(
    st: &'a mut State,
    headers: &HeaderMap,
    owner: &str,
    name: &str,
) -> Result<&'a mut Repo, super::ApiError> {
    let full = format!("{owner}/{name}");
    auth::require_repo_token(st, headers, &full)?;
    Ok(st.repo_mut(&full))
}

/// `POST /repos/{owner}/{repo}/git/blobs` with `utf-8` or `base64` content.
pub async fn create_blob(
    AxState(shared): AxState<Shared>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut st = shared.lock();
    let base = st.base_url.clone();
    let r = repo(&mut st, &headers, &owner, &name)?;
    let Some(content) = text(&body, "content") else {
        return Err(unprocessable(&["content is missing"]));
    };
    let bytes = match text(&body, "encoding").unwrap_or("utf-8") {
        "utf-8" => content.as_bytes().to_vec(),
        other => {
            return Err(unprocessable(&[&format!(
                "encoding {other} is not supported by the fake"
            )]));
        }
    };
    let sha = git::blob_id(&bytes);
    r.blobs.insert(sha.clone(), bytes);
    Ok(json_response(
        StatusCode::CREATED,
        json!({"sha": sha, "url": format!("{base}/repos/{owner}/{name}/git/blobs/{sha}")}),
    ))
}

/// `POST /repos/{owner}/{repo}/git/trees`: `base_tree`'s files with `tree`'s entries on top.
pub async fn create_tree(
    AxState(shared): AxState<Shared>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut st = shared.lock();
    let base = st.base_url.clone();
    let r = repo(&mut st, &headers, &owner, &name)?;
    let mut files = match text(&body, "base_tree") {
        Some(sha) => git::files_of_tree(r, sha)
            .ok_or_else(|| unprocessable(&["base_tree is not a valid tree oid"]))?,
        None => BTreeMap::new(),
    };
    for entry in body
        .get("tree")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(path) = text(entry, "path") else {
            return Err(unprocessable(&["tree.path is missing"]));
        };
        let bytes = match (text(entry, "sha"), text(entry, "content")) {
            (Some(sha), _) => git::find_blob(r, sha)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| unprocessable(&[&format!("tree.sha {sha} is not a valid blob")]))?,
            (None, Some(content)) => content.as_bytes().to_vec(),
            (None, None) => {
                files.remove(path);
                continue;
            }
        };
        files.insert(path.to_string(), bytes);
    }
    let sha = git::tree_id(&files);
    r.trees.insert(sha.clone(), files);
    Ok(json_response(
        StatusCode::CREATED,
        json!({"sha": sha, "url": format!("{base}/repos/{owner}/{name}/git/trees/{sha}"), "truncated": false}),
    ))
}

fn commit_json(base: &str, full: &str, c: &super::super::state::Commit) -> Value {
    let person = json!({"name": c.author, "email": format!("{}@users.noreply.github.com", c.author), "date": "2026-12-03T12:00:00Z"});
    json!({
        "sha": c.sha,
        "url": format!("{base}/repos/{full}/git/commits/{}", c.sha),
        "tree": {"sha": c.tree, "url": format!("{base}/repos/{full}/git/trees/{}", c.tree)},
        "parents": c.parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>(),
        "author": person,
        "committer": person,
        "message": c.message,
    })
}

/// `POST /repos/{owner}/{repo}/git/commits`: made by the App (the token's identity).
pub async fn create_commit(
    AxState(shared): AxState<Shared>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut st = shared.lock();
    let n = st.next_id();
    let base = st.base_url.clone();
    let full = format!("{owner}/{name}");
    let r = repo(&mut st, &headers, &owner, &name)?;
    let (Some(tree), Some(message)) = (text(&body, "tree"), text(&body, "message")) else {
        return Err(unprocessable(&["tree and message are required"]));
    };
    let Some(files) = git::files_of_tree(r, tree) else {
        return Err(unprocessable(&["Tree SHA does not exist"]));
    };
    let parents: Vec<String> = body
        .get("parents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    if let Some(p) = parents.iter().find(|p| !git::is_commit(r, p)) {
        return Err(unprocessable(&[&format!("Parent SHA {p} does not exist")]));
    }
    let sha = git::commit_id(tree, &parents, message, n);
    git::store_commit(r, &sha, &files, parents, ACTOR, message);
    let made = r.commits[&sha].clone();
    Ok(json_response(
        StatusCode::CREATED,
        commit_json(&base, &full, &made),
    ))
}

/// `GET /repos/{owner}/{repo}/git/commits/{sha}`; a commit a test set with `set_file` is
/// shown as octocat's, without parents.
pub async fn get_commit(
    AxState(shared): AxState<Shared>,
    Path((owner, name, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let mut st = shared.lock();
    let base = st.base_url.clone();
    let full = format!("{owner}/{name}");
    let r = repo(&mut st, &headers, &owner, &name)?;
    let commit = match r.commits.get(&sha) {
        Some(c) => c.clone(),
        None if git::is_commit(r, &sha) => super::super::state::Commit {
            sha: sha.clone(),
            tree: git::tree_id(&git::files_of_commit(r, &sha)),
            parents: Vec::new(),
            author: "octocat".into(),
            message: "a commit".into(),
        },
        None => return Err(error(StatusCode::NOT_FOUND, "Not Found")),
    };
    Ok(json_response(
        StatusCode::OK,
        commit_json(&base, &full, &commit),
    ))
}

fn ref_json(base: &str, full: &str, branch: &str, sha: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{branch}"),
        "url": format!("{base}/repos/{full}/git/refs/heads/{branch}"),
        "object": {"sha": sha, "type": "commit"},
    })
}

/// `POST /repos/{owner}/{repo}/git/refs`: 422 when the ref exists.
pub async fn create_ref(
    AxState(shared): AxState<Shared>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut st = shared.lock();
    let base = st.base_url.clone();
    let full = format!("{owner}/{name}");
    let r = repo(&mut st, &headers, &owner, &name)?;
    let (Some(name_ref), Some(sha)) = (text(&body, "ref"), text(&body, "sha")) else {
        return Err(unprocessable(&["ref and sha are required"]));
    };
    let Some(branch) = name_ref.strip_prefix("refs/heads/") else {
        return Err(unprocessable(&[
            "Reference name is not a branch the fake knows",
        ]));
    };
    if r.branches.contains_key(branch) {
        return Err(unprocessable(&["Reference already exists"]));
    }
    if !git::is_commit(r, sha) {
        return Err(unprocessable(&["Object does not exist"]));
    }
    git::move_branch(r, branch, sha);
    Ok(json_response(
        StatusCode::CREATED,
        ref_json(&base, &full, branch, sha),
    ))
}

/// `PATCH /repos/{owner}/{repo}/git/refs/heads/{branch}`: 422 for a move that is not a
/// fast-forward unless `force`.
pub async fn update_ref(
    AxState(shared): AxState<Shared>,
    Path((owner, name, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut st = shared.lock();
    st.race();
    let base = st.base_url.clone();
    let full = format!("{owner}/{name}");
    let r = repo(&mut st, &headers, &owner, &name)?;
    let Some(branch) = path.strip_prefix("heads/") else {
        return Err(unprocessable(&["Reference does not exist"]));
    };
    let Some(current) = r.branches.get(branch).cloned() else {
        return Err(unprocessable(&["Reference does not exist"]));
    };
    let Some(sha) = text(&body, "sha") else {
        return Err(unprocessable(&["sha is required"]));
    };
    if !git::is_commit(r, sha) {
        return Err(unprocessable(&["Object does not exist"]));
    }
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    if !force && !git::descends_from(r, sha, &current) {
        return Err(unprocessable(&["Update is not a fast forward"]));
    }
    git::move_branch(r, branch, sha);
    Ok(json_response(
        StatusCode::OK,
        ref_json(&base, &full, branch, sha),
    ))
}

fn pull_json(st: &State, r: &Repo, p: &PullRequest) -> Value {
    super::repos::pull_json(st, r, p)
}

/// `GET /repos/{owner}/{repo}/pulls?state=&head=owner:branch`.
pub async fn list_pulls(
    AxState(shared): AxState<Shared>,
    Path((owner, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let full = format!("{owner}/{name}");
    auth::require_repo_token(&st, &headers, &full)?;
    let r = &st.repos[&full];
    let state = q.get("state").map_or("open", String::as_str);
    let head = q
        .get("head")
        .map(|h| h.split_once(':').map_or(h.as_str(), |(_, b)| b));
    let (per_page, page) = super::page_params(&q);
    let items: Vec<Value> = r
        .pulls
        .values()
        .rev()
        .filter(|p| state == "all" || p.state == state)
        .filter(|p| head.is_none_or(|h| p.head_ref == h))
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|p| pull_json(&st, r, p))
        .collect();
    Ok(json_response(StatusCode::OK, json!(items)))
}

/// `POST /repos/{owner}/{repo}/pulls`: 422 when the head already has an open one.
pub async fn create_pull(
    AxState(shared): AxState<Shared>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut guard = shared.lock();
    let full = format!("{owner}/{name}");
    let st = &mut *guard;
    let r = repo(st, &headers, &owner, &name)?;
    let (Some(head), Some(base), Some(title)) = (
        text(&body, "head"),
        text(&body, "base"),
        text(&body, "title"),
    ) else {
        return Err(unprocessable(&["title, head and base are required"]));
    };
    let head = head.split_once(':').map_or(head, |(_, b)| b);
    let (Some(head_sha), Some(base_sha)) = (r.branches.get(head), r.branches.get(base)) else {
        return Err(unprocessable(&["head or base is not a branch"]));
    };
    if r.pulls
        .values()
        .any(|p| p.head_ref == head && p.state == "open")
    {
        return Err(unprocessable(&[&format!(
            "A pull request already exists for {owner}:{head}."
        )]));
    }
    let number = r.pulls.keys().max().copied().unwrap_or(0) + 1;
    let pr = PullRequest {
        number,
        state: "open".into(),
        draft: false,
        base_sha: base_sha.clone(),
        base_ref: base.into(),
        head_sha: head_sha.clone(),
        head_ref: head.into(),
        head_history: vec![head_sha.clone()],
        files: Vec::new(),
        reviews: Vec::new(),
        threads: Vec::new(),
        files_not_found: 0,
        title: title.into(),
        body: text(&body, "body").unwrap_or_default().into(),
        user: ACTOR.into(),
        merged: false,
        comments: Vec::new(),
    };
    r.pulls.insert(number, pr);
    let st = &*guard;
    let r = &st.repos[&full];
    Ok(json_response(
        StatusCode::CREATED,
        pull_json(st, r, &r.pulls[&number]),
    ))
}

/// `PATCH /repos/{owner}/{repo}/pulls/{number}`: title, body, state.
pub async fn update_pull(
    AxState(shared): AxState<Shared>,
    Path((owner, name, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut guard = shared.lock();
    let full = format!("{owner}/{name}");
    let r = repo(&mut guard, &headers, &owner, &name)?;
    let Some(p) = r.pulls.get_mut(&number) else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    if let Some(t) = text(&body, "title") {
        p.title = t.into();
    }
    if let Some(b) = text(&body, "body") {
        p.body = b.into();
    }
    match text(&body, "state") {
        Some(s @ ("open" | "closed")) => p.state = s.into(),
        Some(_) => return Err(unprocessable(&["state is not open or closed"])),
        None => {}
    }
    let st = &*guard;
    let r = &st.repos[&full];
    Ok(json_response(
        StatusCode::OK,
        pull_json(st, r, &r.pulls[&number]),
    ))
}

fn comment_json(c: &IssueComment) -> Value {
    json!({"id": c.id, "body": c.body, "user": {"login": c.user}})
}

/// `POST /repos/{owner}/{repo}/issues/{number}/comments` (a pull request's conversation).
pub async fn create_comment(
    AxState(shared): AxState<Shared>,
    Path((owner, name, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut st = shared.lock();
    let id = st.next_id();
    let r = repo(&mut st, &headers, &owner, &name)?;
    let Some(p) = r.pulls.get_mut(&number) else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let Some(text) = text(&body, "body") else {
        return Err(unprocessable(&["body is missing"]));
    };
    let c = IssueComment {
        id,
        user: ACTOR.into(),
        body: text.into(),
    };
    p.comments.push(c.clone());
    Ok(json_response(StatusCode::CREATED, comment_json(&c)))
}

/// `GET /repos/{owner}/{repo}/issues/{number}/comments`, oldest first, paged.
pub async fn list_comments(
    AxState(shared): AxState<Shared>,
    Path((owner, name, number)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let mut st = shared.lock();
    let r = repo(&mut st, &headers, &owner, &name)?;
    let Some(p) = r.pulls.get(&number) else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let (per_page, page) = super::page_params(&q);
    let items: Vec<Value> = p
        .comments
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(comment_json)
        .collect();
    Ok(json_response(StatusCode::OK, json!(items)))
}
