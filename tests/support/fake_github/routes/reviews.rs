//! Creating a review: all-or-nothing validation of every comment's anchor against the PR's
//! patches, one pending review per user, and a thread per comment once submitted. Listing
//! them, oldest first and paged, as GitHub does.

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::super::auth;
use super::super::diff::{self, Side};
use super::super::state::{BOT_LOGIN, PullRequest, Review, ReviewComment, Thread, ThreadComment};
use super::{ApiResult, Shared, error, json_response, parse_json, unprocessable};

const PENDING_TWICE: &str = "User can only have one pending review per pull request";

fn comment_from(v: &Value) -> ReviewComment {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    ReviewComment {
        path: s("path").unwrap_or_default(),
        line: n("line"),
        side: s("side"),
        start_line: n("start_line"),
        start_side: s("start_side"),
        body: s("body").unwrap_or_default(),
    }
}

/// Where GitHub would refuse the comment, in the words of its 422.
fn check_comment(pr: &PullRequest, c: &ReviewComment) -> Result<(), &'static str> {
    let Some(file) = pr.files.iter().find(|f| f.path == c.path) else {
        return Err("Path could not be resolved");
    };
    // No patch (binary, too large) means no line to anchor to.
    let hunks = diff::parse_hunks(file.patch.as_deref().unwrap_or(""));
    let line = c.line.ok_or("Line could not be resolved")?;
    let side = Side::parse(c.side.as_deref());
    let start = c.start_line.map(|s| {
        (
            s,
            c.start_side
                .as_deref()
                .map_or(side, |x| Side::parse(Some(x))),
        )
    });
    diff::check_anchor(&hunks, line, side, start)
}

/// `POST /repos/{owner}/{repo}/pulls/{number}/reviews` → 200, or 422 for the whole review.
pub async fn create(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut guard = shared.lock();
    let st = &mut *guard;
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(st, &headers, &full)?;
    let Some(pr) = st.repos.get(&full).and_then(|r| r.pulls.get(&number)) else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    if pr
        .reviews
        .iter()
        .any(|r| r.user == BOT_LOGIN && r.state == "PENDING")
    {
        return Err(unprocessable(&[PENDING_TWICE]));
    }
    let commit_id = match body.get("commit_id").and_then(Value::as_str) {
        None => pr.head_sha.clone(),
        Some(c) if pr.head_history.iter().any(|h| h == c) => c.to_string(),
        Some(c) => return Err(unprocessable(&[&format!("No commit found for SHA: {c}")])),
    };
    let state = match body.get("event").and_then(Value::as_str) {
        None => "PENDING",
        Some("COMMENT") => "COMMENTED",
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some(_) => return Err(unprocessable(&["Event is invalid"])),
    };
    let comments: Vec<ReviewComment> = body
        .get("comments")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(comment_from).collect())
        .unwrap_or_default();
    // One bad comment rejects the review, and GitHub does not say which one.
    if let Some(why) = comments.iter().find_map(|c| check_comment(pr, c).err()) {
        return Err(unprocessable(&[why]));
    }
    let id = st.next_id();
    let mut threads = Vec::new();
    if state != "PENDING" {
        for c in &comments {
            let n = st.next_id();
            threads.push(Thread {
                id: format!("PRRT_{n}"),
                path: c.path.clone(),
                line: c.line,
                start_line: c.start_line,
                is_resolved: false,
                is_outdated: false,
                comments: vec![ThreadComment {
                    id: n,
                    author: BOT_LOGIN.into(),
                    body: c.body.clone(),
                }],
            });
        }
    }
    let review = Review {
        id,
        user: BOT_LOGIN.into(),
        state: state.into(),
        commit_id,
        body: body
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .into(),
        comments,
    };
    let answer = json!({
        "id": review.id,
        "node_id": format!("PRR_{}", review.id),
        "user": { "login": review.user, "type": "Bot" },
        "body": review.body,
        "state": review.state,
        "commit_id": review.commit_id,
        "html_url": format!("https://github.com/{full}/pull/{number}#pullrequestreview-{id}"),
        "pull_request_url": format!("{}/repos/{full}/pulls/{number}", st.base_url),
    });
    let pr = st.pull_mut(&full, number);
    pr.reviews.push(review);
    pr.threads.extend(threads);
    Ok(json_response(StatusCode::OK, answer))
}

/// `GET /repos/{owner}/{repo}/pulls/{number}/reviews?per_page=&page=` → oldest first, paged
/// with absolute `Link` URLs.
pub async fn list(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    let Some(pr) = st.repos.get(&full).and_then(|r| r.pulls.get(&number)) else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let (per_page, page) = super::page_params(&q);
    let items: Vec<Value> = pr
        .reviews
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|r| {
            json!({
                "id": r.id,
                "node_id": format!("PRR_{}", r.id),
                "user": { "login": r.user, "type": "Bot" },
                "body": r.body,
                "state": r.state,
                "commit_id": r.commit_id,
            })
        })
        .collect();
    let mut resp = json_response(StatusCode::OK, Value::Array(items));
    if page * per_page < pr.reviews.len() {
        let next = format!(
            "<{}/repos/{full}/pulls/{number}/reviews?per_page={per_page}&page={}>; rel=\"next\"",
            st.base_url,
            page + 1
        );
        resp.headers_mut()
            .insert(header::LINK, HeaderValue::from_str(&next).expect("ascii"));
    }
    Ok(resp)
}
