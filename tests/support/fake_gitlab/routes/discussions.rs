//! Merge request discussions: listing, starting one (with GitLab's position checks), resolving.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::super::LINE_CODE_MESSAGE;
use super::super::lines::{Line, line_code, lines};
use super::super::state::{Discussion, MergeRequest, Note};
use super::merge_requests::{find_mr, mr_page, note_json};
use super::{ApiError, ApiResult, Shared, error, json_response, lock, missing, paged, user_of};

fn discussion_json(d: &Discussion) -> Value {
    let notes: Vec<Value> = d
        .notes
        .iter()
        .map(|n| {
            let mut v = note_json(n, Some("DiffNote"));
            v["position"] = d.position.clone().unwrap_or(Value::Null);
            v["resolvable"] = json!(true);
            v["resolved"] = json!(d.resolved);
            v
        })
        .collect();
    json!({ "id": d.id, "individual_note": false, "notes": notes })
}

pub async fn list(
    AxState(shared): AxState<Shared>,
    Path(ids): Path<(i64, i64)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    mr_page(&shared, ids, "discussions", &q, |mr| {
        mr.discussions.iter().map(discussion_json).collect()
    })
}

fn refused() -> ApiError {
    error(StatusCode::BAD_REQUEST, LINE_CODE_MESSAGE)
}

fn number(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// The diff line a position names, exactly as GitLab matches it: `new_line` alone is an added
/// line, `old_line` alone a removed one, both a context line with exactly those numbers.
fn find_line(table: &[Line], position: &Value) -> Option<Line> {
    let (old, new) = (number(position, "old_line"), number(position, "new_line"));
    table
        .iter()
        .copied()
        .find(|l| (l.old, l.new) == (old, new) && (old.is_some() || new.is_some()))
}

/// A `line_range` end must carry the line code of a line in the diff, with a fitting type.
fn range_end_ok(table: &[Line], path: &str, end: &Value) -> bool {
    let code = end
        .get("line_code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = end.get("type").and_then(Value::as_str);
    table.iter().any(|l| {
        let kind_ok = match kind {
            Some("new") => l.old.is_none(),
            Some("old") | None => l.old.is_some(),
            Some(_) => false,
        };
        kind_ok && line_code(path, l) == code
    })
}

/// GitLab's checks of a text position against the merge request's current diff.
fn check_position(mr: &MergeRequest, position: &Value) -> Result<(), ApiError> {
    let text = |k: &str| position.get(k).and_then(Value::as_str).unwrap_or_default();
    if text("position_type") != "text" {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            json!({ "error": "position[position_type] does not have a valid value" }),
        ));
    }
    if text("old_path").is_empty() || text("new_path").is_empty() {
        return Err(missing("position[old_path], position[new_path]"));
    }
    let shas_ok = text("base_sha") == mr.base_sha
        && text("start_sha") == mr.start_sha
        && text("head_sha") == mr.head_sha;
    let diff = mr
        .diffs
        .iter()
        .find(|d| d.new_path == text("new_path") && d.old_path == text("old_path"));
    let (Some(diff), true) = (diff, shas_ok) else {
        return Err(refused());
    };
    let table = lines(&diff.diff);
    find_line(&table, position).ok_or_else(refused)?;
    if let Some(range) = position.get("line_range").filter(|r| !r.is_null()) {
        let path = &diff.new_path;
        let ok = ["start", "end"]
            .iter()
            .all(|k| range.get(*k).is_some_and(|e| range_end_ok(&table, path, e)));
        if !ok {
            return Err(refused());
        }
    }
    Ok(())
}

pub async fn create(
    AxState(shared): AxState<Shared>,
    Path((id, iid)): Path<(i64, i64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> ApiResult {
    let mut st = lock(&shared);
    let author = user_of(&st, &headers)?;
    let text = body
        .get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| missing("body"))?
        .to_string();
    let position = body.get("position").filter(|p| !p.is_null()).cloned();
    if let Some(p) = &position {
        check_position(find_mr(&mut st, id, iid)?, p)?;
    }
    let note = Note {
        id: st.next_id(),
        author,
        body: text,
        system: false,
    };
    let n = st.next_id();
    let discussion = Discussion {
        id: hex::encode(Sha1::digest(format!("discussion {n}").as_bytes())),
        notes: vec![note],
        position,
        resolved: false,
    };
    let answer = discussion_json(&discussion);
    find_mr(&mut st, id, iid)?.discussions.push(discussion);
    Ok(json_response(StatusCode::CREATED, answer))
}

pub async fn resolve(
    AxState(shared): AxState<Shared>,
    Path((id, iid, discussion)): Path<(i64, i64, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let mut st = lock(&shared);
    let resolved = match q.get("resolved").map(String::as_str) {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(missing("resolved")),
    };
    let mr = find_mr(&mut st, id, iid)?;
    let d = mr
        .discussions
        .iter_mut()
        .find(|d| d.id == discussion)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "404 Not found"))?;
    d.resolved = resolved;
    Ok(json_response(StatusCode::OK, discussion_json(d)))
}
