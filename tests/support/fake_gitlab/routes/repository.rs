//! `/user` and repository contents: raw files, the recursive tree, blobs.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::json;
use sha1::{Digest, Sha1};

use super::{ApiResult, Shared, error, json_response, lock, paged, user_of};

/// Git's blob id: sha1 of `blob <len>\0` and the bytes.
pub fn blob_id(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex::encode(hasher.finalize())
}

pub async fn user(AxState(shared): AxState<Shared>, headers: HeaderMap) -> ApiResult {
    let st = lock(&shared);
    let username = user_of(&st, &headers)?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "id": 1, "username": username, "name": st.name_of(&username), "bot": true }),
    ))
}

pub fn project_missing() -> super::ApiError {
    error(StatusCode::NOT_FOUND, "404 Project Not Found")
}

pub async fn project(AxState(shared): AxState<Shared>, Path(id): Path<i64>) -> ApiResult {
    let st = lock(&shared);
    let p = st.projects.get(&id).ok_or_else(project_missing)?;
    let web_url = format!("{}/{}", st.base_url, p.path);
    let namespace = p.path.rsplit_once('/').map_or("", |(ns, _)| ns);
    // GitLab's group ids are its own; a stable number per group path stands in for them.
    let namespace_id = namespace
        .bytes()
        .fold(7_i64, |h, b| (h * 31 + i64::from(b)) % 1_000_000);
    let answer = json!({
        "id": id,
        "path_with_namespace": p.path,
        "default_branch": p.default_branch,
        "web_url": web_url,
        "visibility": "private",
        "namespace": { "id": namespace_id, "full_path": namespace, "kind": "group" },
    });
    Ok(json_response(StatusCode::OK, answer))
}

pub async fn branch(
    AxState(shared): AxState<Shared>,
    Path((id, name)): Path<(i64, String)>,
) -> ApiResult {
    let st = lock(&shared);
    let p = st.projects.get(&id).ok_or_else(project_missing)?;
    let head = p
        .branches
        .get(&name)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Branch Not Found"))?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "name": name, "commit": { "id": head }, "default": name == p.default_branch }),
    ))
}

pub async fn raw_file(
    AxState(shared): AxState<Shared>,
    Path((id, path)): Path<(i64, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let st = lock(&shared);
    let project = st.projects.get(&id).ok_or_else(project_missing)?;
    let git_ref = q
        .get("ref")
        .cloned()
        .unwrap_or_else(|| project.default_branch.clone());
    let bytes = project
        .files
        .get(&(git_ref, path))
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 File Not Found"))?;
    Ok((StatusCode::OK, bytes.clone()).into_response())
}

pub async fn tree(
    AxState(shared): AxState<Shared>,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let st = lock(&shared);
    let project = st.projects.get(&id).ok_or_else(project_missing)?;
    let git_ref = q
        .get("ref")
        .cloned()
        .unwrap_or_else(|| project.default_branch.clone());
    let mut entries = BTreeMap::new();
    for ((r, path), bytes) in &project.files {
        if *r != git_ref {
            continue;
        }
        let mut folder = String::new();
        for part in path
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map(|(_, d)| d)
            .unwrap_or(&[])
        {
            folder = if folder.is_empty() {
                part.to_string()
            } else {
                format!("{folder}/{part}")
            };
            let id = blob_id(format!("tree {folder}").as_bytes());
            entries.insert(
                folder.clone(),
                json!({"id": id, "type": "tree", "mode": "040000", "path": folder, "name": part}),
            );
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        entries.insert(path.clone(), json!({"id": blob_id(bytes), "type": "blob", "mode": "100644", "path": path, "name": name}));
    }
    let path = format!("{}/api/v4/projects/{id}/repository/tree", st.base_url);
    Ok(paged(entries.into_values().collect(), &q, &path))
}

pub async fn blob(
    AxState(shared): AxState<Shared>,
    Path((id, sha)): Path<(i64, String)>,
) -> ApiResult {
    let st = lock(&shared);
    let project = st.projects.get(&id).ok_or_else(project_missing)?;
    let bytes = project
        .files
        .values()
        .find(|b| blob_id(b) == sha)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Blob Not Found"))?;
    Ok((StatusCode::OK, bytes.clone()).into_response())
}
