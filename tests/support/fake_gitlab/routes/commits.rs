//! One commit made through the Commits API (`POST /repository/commits`: the files, the commit
//! and the branch in one request), and a commit's details.

use axum::Json;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::super::state::{Commit, Project};
use super::repository::project_missing;
use super::{ApiError, ApiResult, Shared, error, json_response, lock, missing, user_of};

fn commit_json(sha: &str, c: &Commit) -> Value {
    json!({
        "id": sha,
        "short_id": &sha[..8],
        "title": c.message.lines().next().unwrap_or_default(),
        "message": c.message,
        "parent_ids": c.parents,
        "author_name": c.author_name,
        "author_email": format!("{}@example.com", c.author_name),
        "committer_name": c.committer_name,
        "committer_email": format!("{}@example.com", c.committer_name),
    })
}

pub async fn commit(
    AxState(shared): AxState<Shared>,
    Path((id, sha)): Path<(i64, String)>,
) -> ApiResult {
    let st = lock(&shared);
    let p = st.projects.get(&id).ok_or_else(project_missing)?;
    let known = p.commits.get(&sha).cloned().or_else(|| {
        p.files.keys().any(|(r, _)| *r == sha).then(|| Commit {
            parents: Vec::new(),
            author_name: "A Person".into(),
            committer_name: "A Person".into(),
            message: "Earlier work\n".into(),
        })
    });
    let c = known.ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Commit Not Found"))?;
    Ok(json_response(StatusCode::OK, commit_json(&sha, &c)))
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

/// The new commit's id: distinct for every commit the fake makes.
fn new_sha(start: &str, message: &str, n: i64) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("{start}\n{message}\n{n}").as_bytes());
    hex::encode(hasher.finalize())
}

pub async fn create(
    AxState(shared): AxState<Shared>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> ApiResult {
    let mut st = lock(&shared);
    let author = st.name_of(&user_of(&st, &headers)?);
    let n = st.next_id();
    let p = st.projects.get_mut(&id).ok_or_else(project_missing)?;
    let branch = text(&body, "branch").ok_or_else(|| missing("branch"))?;
    let message = text(&body, "commit_message").ok_or_else(|| missing("commit_message"))?;
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    let start = start_of(p, &body, branch, force)?;
    let sha = new_sha(&start, message, n);
    p.copy_files(&start, &sha);
    for action in body
        .get("actions")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("actions"))?
    {
        apply(p, &sha, action)?;
    }
    let c = Commit {
        parents: vec![start],
        author_name: author.clone(),
        committer_name: author,
        message: message.to_string(),
    };
    let answer = commit_json(&sha, &c);
    p.commits.insert(sha.clone(), c);
    p.branches.insert(branch.to_string(), sha);
    Ok(json_response(StatusCode::CREATED, answer))
}

/// Where the commit starts: `start_sha` (a new branch, or one overwritten with `force`), else
/// the branch's own head.
fn start_of(p: &Project, body: &Value, branch: &str, force: bool) -> Result<String, ApiError> {
    let exists = p.branches.contains_key(branch);
    match text(body, "start_sha") {
        Some(_) if exists && !force => Err(error(
            StatusCode::BAD_REQUEST,
            &format!(
                "A branch called '{branch}' already exists. Switch to that branch in order to make changes"
            ),
        )),
        Some(sha) if p.files.keys().any(|(r, _)| r == sha) => Ok(sha.to_string()),
        Some(_) => Err(error(StatusCode::BAD_REQUEST, "Invalid start_sha")),
        None => p.branches.get(branch).cloned().ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "You can only create or edit files when you are on a branch",
            )
        }),
    }
}

/// One `actions` entry: `create` (must not exist) or `update` (must exist), as text.
fn apply(p: &mut Project, sha: &str, action: &Value) -> Result<(), ApiError> {
    let path = text(action, "file_path").ok_or_else(|| missing("actions[file_path]"))?;
    let content = action
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let key = (sha.to_string(), path.to_string());
    let exists = p.files.contains_key(&key);
    match text(action, "action") {
        Some("update") if !exists => Err(error(
            StatusCode::BAD_REQUEST,
            "A file with this name doesn't exist",
        )),
        Some("create") if exists => Err(error(
            StatusCode::BAD_REQUEST,
            "A file with this name already exists",
        )),
        Some("update" | "create") => {
            p.files.insert(key, content.as_bytes().to_vec());
            Ok(())
        }
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "actions[action] does not have a valid value",
        )),
    }
}
