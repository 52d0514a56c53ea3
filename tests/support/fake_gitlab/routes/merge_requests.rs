//! Merge requests, their diffs, their notes (the summary), and commit statuses.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::super::state::{CommitStatus, MergeRequest, Note, State};
use super::{ApiError, ApiResult, Shared, error, json_response, lock, missing, paged, user_of};

fn mr_missing() -> ApiError {
    error(StatusCode::NOT_FOUND, "404 Not found")
}

/// The merge request, or GitLab's 404 (for the project first, as GitLab checks it first).
pub fn find_mr(state: &mut State, id: i64, iid: i64) -> Result<&mut MergeRequest, ApiError> {
    state
        .projects
        .get_mut(&id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Project Not Found"))?
        .merge_requests
        .get_mut(&iid)
        .ok_or_else(mr_missing)
}

/// A merge request's page on the fake's web side.
fn mr_url(st: &State, id: i64, iid: i64) -> String {
    let path = st.projects.get(&id).map_or("", |p| p.path.as_str());
    format!("{}/{path}/-/merge_requests/{iid}", st.base_url)
}

/// What listing and creating show of a merge request.
fn mr_json(st: &State, id: i64, mr: &MergeRequest) -> Value {
    json!({
        "id": id * 1000 + mr.iid,
        "iid": mr.iid,
        "project_id": id,
        "state": mr.state,
        "title": mr.title,
        "description": mr.description,
        "source_branch": mr.source_branch,
        "target_branch": mr.target_branch,
        "sha": mr.head_sha,
        "web_url": mr_url(st, id, mr.iid),
    })
}

/// `GET /merge_requests?state=…&source_branch=…`.
pub async fn list(
    AxState(shared): AxState<Shared>,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let st = lock(&shared);
    let p = st
        .projects
        .get(&id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Project Not Found"))?;
    let wanted = |key: &str, value: &str| q.get(key).is_none_or(|v| v == "all" || v == value);
    let items = p
        .merge_requests
        .values()
        .filter(|mr| wanted("state", &mr.state) && wanted("source_branch", &mr.source_branch))
        .map(|mr| mr_json(&st, id, mr))
        .collect();
    let url = format!("{}/api/v4/projects/{id}/merge_requests", st.base_url);
    Ok(paged(items, &q, &url))
}

/// `POST /merge_requests`: 409 while another merge request from the branch is open.
pub async fn create(
    AxState(shared): AxState<Shared>,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> ApiResult {
    let mut st = lock(&shared);
    let field = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (source, target, title) = (
        field("source_branch"),
        field("target_branch"),
        field("title"),
    );
    for (name, value) in [
        ("source_branch", &source),
        ("target_branch", &target),
        ("title", &title),
    ] {
        if value.is_empty() {
            return Err(missing(name));
        }
    }
    let p = st
        .projects
        .get_mut(&id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Project Not Found"))?;
    if let Some(open) = p
        .merge_requests
        .values()
        .find(|mr| mr.source_branch == source && mr.state == "opened")
    {
        let message = format!(
            "Another open merge request already exists for this source branch: !{}",
            open.iid
        );
        return Err(ApiError(
            StatusCode::CONFLICT,
            json!({ "message": [message] }),
        ));
    }
    let (Some(head), Some(base)) = (p.branches.get(&source), p.branches.get(&target)) else {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            json!({ "message": ["Source branch does not exist"] }),
        ));
    };
    let iid = p.merge_requests.keys().max().map_or(1, |n| n + 1);
    let mr = MergeRequest {
        iid,
        state: "opened".into(),
        title,
        description: field("description"),
        source_branch: source,
        draft: false,
        target_branch: target,
        source_project_id: id,
        base_sha: base.clone(),
        start_sha: base.clone(),
        head_sha: head.clone(),
        null_diff_refs_reads: 0,
        diffs: Vec::new(),
        discussions: Vec::new(),
        notes: Vec::new(),
    };
    p.merge_requests.insert(iid, mr.clone());
    let answer = mr_json(&st, id, &mr);
    Ok(json_response(StatusCode::CREATED, answer))
}

/// `PUT /merge_requests/:iid`: title, description, `state_event` close or reopen.
pub async fn edit(
    AxState(shared): AxState<Shared>,
    Path((id, iid)): Path<(i64, i64)>,
    Json(body): Json<Value>,
) -> ApiResult {
    let mut st = lock(&shared);
    let mr = find_mr(&mut st, id, iid)?;
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(title) = field("title") {
        mr.title = title;
    }
    if let Some(description) = field("description") {
        mr.description = description;
    }
    match field("state_event").as_deref() {
        Some("close") if mr.state == "opened" => mr.state = "closed".into(),
        Some("reopen") if mr.state == "closed" => mr.state = "opened".into(),
        Some("close" | "reopen") | None => {}
        Some(_) => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                json!({ "error": "state_event does not have a valid value" }),
            ));
        }
    }
    let mr = mr.clone();
    Ok(json_response(StatusCode::OK, mr_json(&st, id, &mr)))
}

pub fn note_json(note: &Note, kind: Option<&str>) -> Value {
    json!({
        "id": note.id,
        "type": kind,
        "body": note.body,
        "author": { "id": 1, "username": note.author },
        "system": note.system,
    })
}

pub async fn merge_request(
    AxState(shared): AxState<Shared>,
    Path((id, iid)): Path<(i64, i64)>,
) -> ApiResult {
    let mut st = lock(&shared);
    let web_url = mr_url(&st, id, iid);
    let mr = find_mr(&mut st, id, iid)?;
    let diff_refs = if mr.null_diff_refs_reads > 0 {
        mr.null_diff_refs_reads -= 1;
        Value::Null
    } else {
        json!({ "base_sha": mr.base_sha, "start_sha": mr.start_sha, "head_sha": mr.head_sha })
    };
    Ok(json_response(
        StatusCode::OK,
        json!({
            "id": id * 1000 + iid,
            "iid": mr.iid,
            "project_id": id,
            "state": mr.state,
            "draft": mr.draft,
            "work_in_progress": mr.draft,
            "sha": mr.head_sha,
            "target_branch": mr.target_branch,
            "source_branch": mr.source_branch,
            "title": mr.title,
            "description": mr.description,
            "web_url": web_url,
            "source_project_id": mr.source_project_id,
            "target_project_id": id,
            "diff_refs": diff_refs,
        }),
    ))
}

/// One page of a merge request's listing `what` (`diffs`, `notes`, …), its items made by `items`.
pub fn mr_page(
    shared: &Shared,
    (id, iid): (i64, i64),
    what: &str,
    q: &HashMap<String, String>,
    items: impl FnOnce(&MergeRequest) -> Vec<Value>,
) -> ApiResult {
    let mut st = lock(shared);
    let url = format!(
        "{}/api/v4/projects/{id}/merge_requests/{iid}/{what}",
        st.base_url
    );
    let all = items(find_mr(&mut st, id, iid)?);
    Ok(paged(all, q, &url))
}

pub async fn diffs(
    AxState(shared): AxState<Shared>,
    Path(ids): Path<(i64, i64)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    mr_page(&shared, ids, "diffs", &q, |mr| {
        let entry = |d: &super::super::state::Diff| {
            json!({
                "old_path": d.old_path, "new_path": d.new_path,
                "a_mode": "100644", "b_mode": "100644",
                "new_file": d.new_file, "renamed_file": d.renamed_file, "deleted_file": d.deleted_file,
                "diff": d.diff, "too_large": d.too_large, "collapsed": d.too_large,
            })
        };
        mr.diffs.iter().map(entry).collect()
    })
}

/// Every note: the summary notes and, as GitLab lists them too, the discussions' notes.
pub async fn list_notes(
    AxState(shared): AxState<Shared>,
    Path(ids): Path<(i64, i64)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    mr_page(&shared, ids, "notes", &q, |mr| {
        let plain = mr.notes.iter().map(|n| note_json(n, None));
        let in_threads = mr.discussions.iter().flat_map(|d| &d.notes);
        plain
            .chain(in_threads.map(|n| note_json(n, Some("DiffNote"))))
            .collect()
    })
}

fn body_of(body: &Value) -> Result<String, ApiError> {
    body.get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .ok_or_else(|| missing("body"))
}

pub async fn create_note(
    AxState(shared): AxState<Shared>,
    Path((id, iid)): Path<(i64, i64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> ApiResult {
    let mut st = lock(&shared);
    let author = user_of(&st, &headers)?;
    let text = body_of(&body)?;
    let note = Note {
        id: st.next_id(),
        author,
        body: text,
        system: false,
    };
    let answer = note_json(&note, None);
    find_mr(&mut st, id, iid)?.notes.push(note);
    Ok(json_response(StatusCode::CREATED, answer))
}

pub async fn edit_note(
    AxState(shared): AxState<Shared>,
    Path((id, iid, note_id)): Path<(i64, i64, i64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> ApiResult {
    let mut st = lock(&shared);
    let user = user_of(&st, &headers)?;
    let text = body_of(&body)?;
    let mr = find_mr(&mut st, id, iid)?;
    let note = mr
        .notes
        .iter_mut()
        .find(|n| n.id == note_id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Note Not Found"))?;
    if note.author != user {
        return Err(error(StatusCode::FORBIDDEN, "403 Forbidden"));
    }
    note.body = text;
    Ok(json_response(StatusCode::OK, note_json(note, None)))
}

/// GitLab's state machine event for moving a status to `state`.
fn event_for(state: &str) -> Option<&'static str> {
    Some(match state {
        "pending" => "enqueue",
        "running" => "run",
        "success" => "succeed",
        "failed" => "drop",
        "canceled" => "cancel",
        "skipped" => "skip",
        _ => return None,
    })
}

pub async fn set_status(
    AxState(shared): AxState<Shared>,
    Path((id, sha)): Path<(i64, String)>,
    Json(body): Json<Value>,
) -> ApiResult {
    let mut st = lock(&shared);
    let project = st
        .projects
        .get_mut(&id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Project Not Found"))?;
    let state = body
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let event = event_for(&state).ok_or_else(|| {
        ApiError(
            StatusCode::BAD_REQUEST,
            json!({ "error": "state does not have a valid value" }),
        )
    })?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    let current = project
        .statuses
        .iter()
        .rev()
        .find(|s| s.sha == sha && s.name == name);
    if current.is_some_and(|c| c.state == state) {
        let message = format!(
            "Cannot transition status via :{event} from :{state} (Reason(s): Status cannot transition via \"{event}\")"
        );
        return Err(error(StatusCode::BAD_REQUEST, &message));
    }
    let description = body
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_string);
    project.statuses.push(CommitStatus {
        sha: sha.clone(),
        name: name.clone(),
        state: state.clone(),
        description: description.clone(),
    });
    Ok(json_response(
        StatusCode::CREATED,
        json!({ "id": project.statuses.len(), "sha": sha, "name": name, "status": state, "description": description }),
    ))
}
