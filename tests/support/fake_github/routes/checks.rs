//! Check runs: create, then PATCH — each PATCH's annotations are appended, as on GitHub, and
//! GitHub's size rules answer 422.

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::super::auth;
use super::super::state::{CheckRun, State};
use super::{ApiError, ApiResult, Shared, error, invalid_request, json_response, parse_json};

const MAX_ANNOTATIONS: usize = 50;
const MAX_TEXT_CHARS: usize = 65535;
const ANNOTATION_FIELDS: [&str; 5] = [
    "path",
    "start_line",
    "end_line",
    "annotation_level",
    "message",
];

fn run_json(st: &State, repo: &str, r: &CheckRun) -> Value {
    let mut output = r
        .output
        .clone()
        .unwrap_or_else(|| json!({"title": null, "summary": null, "text": null}));
    output["annotations_count"] = json!(r.annotations.len());
    json!({
        "id": r.id,
        "name": r.name,
        "head_sha": r.head_sha,
        "status": r.status,
        "conclusion": r.conclusion,
        "external_id": r.external_id,
        "details_url": r.details_url,
        "started_at": r.started_at,
        "completed_at": r.completed_at,
        "url": format!("{}/repos/{repo}/check-runs/{}", st.base_url, r.id),
        "html_url": format!("https://github.com/{repo}/runs/{}", r.id),
        "output": output,
        "app": { "id": st.app_id, "slug": "immutabot" },
        "pull_requests": [],
    })
}

/// Checks `output` against GitHub's limits; `Ok` gives it split into the stored part
/// (title, summary, text) and its annotations.
fn split_output(output: Option<&Value>) -> Result<Option<(Value, Vec<Value>)>, ApiError> {
    let Some(output) = output else {
        return Ok(None);
    };
    for field in ["summary", "text"] {
        if let Some(s) = output.get(field).and_then(Value::as_str) {
            // GitHub counts characters, not bytes.
            let n = s.chars().count();
            if n > MAX_TEXT_CHARS {
                return Err(invalid_request(&format!(
                    "Only {MAX_TEXT_CHARS} characters are allowed; {n} were supplied."
                )));
            }
        }
    }
    let annotations = output
        .get("annotations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if annotations.len() > MAX_ANNOTATIONS {
        // GitHub's exact wording for this case is not on record; the status is what matters.
        return Err(invalid_request(&format!(
            "Only {MAX_ANNOTATIONS} annotations are allowed per request; {} were supplied.",
            annotations.len()
        )));
    }
    for a in &annotations {
        if let Some(missing) = ANNOTATION_FIELDS
            .iter()
            .find(|f| a.get(**f).is_none_or(Value::is_null))
        {
            return Err(invalid_request(&format!("\"{missing}\" wasn't supplied.")));
        }
    }
    let mut stored = output.clone();
    if let Some(o) = stored.as_object_mut() {
        o.remove("annotations");
    }
    Ok(Some((stored, annotations)))
}

fn str_field(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_string)
}

/// A run that says `completed` must say how.
fn completed_without_conclusion(status: &str, conclusion: &Option<String>) -> bool {
    status == "completed" && conclusion.is_none()
}

/// `POST /repos/{owner}/{repo}/check-runs` → 201.
pub async fn create(
    AxState(shared): AxState<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    for field in ["name", "head_sha"] {
        if str_field(&body, field).is_none() {
            return Err(invalid_request(&format!("\"{field}\" wasn't supplied.")));
        }
    }
    let (output, annotations) = match split_output(body.get("output")) {
        Ok(o) => o.unzip(),
        Err(r) => return Err(r),
    };
    let status = str_field(&body, "status").unwrap_or_else(|| "queued".into());
    let conclusion = str_field(&body, "conclusion");
    if completed_without_conclusion(&status, &conclusion) {
        return Err(invalid_request("\"conclusion\" wasn't supplied."));
    }
    let run = CheckRun {
        id: st.next_id(),
        name: str_field(&body, "name").unwrap_or_default(),
        head_sha: str_field(&body, "head_sha").unwrap_or_default(),
        status,
        conclusion,
        external_id: str_field(&body, "external_id"),
        details_url: str_field(&body, "details_url"),
        started_at: str_field(&body, "started_at"),
        completed_at: str_field(&body, "completed_at"),
        outputs: output.iter().cloned().collect(),
        output,
        annotations: annotations.unwrap_or_default(),
    };
    let answer = run_json(&st, &full, &run);
    st.repo_mut(&full).check_runs.push(run);
    Ok(json_response(StatusCode::CREATED, answer))
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/check-runs[?check_name=…]` → 200, newest first.
pub async fn list_for_ref(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, git_ref)): Path<(String, String, String)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult {
    let mut st = shared.lock();
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(&st, &headers, &full)?;
    let name = query.get("check_name");
    let runs: Vec<CheckRun> = st
        .repo_mut(&full)
        .check_runs
        .iter()
        .rev()
        .filter(|r| r.head_sha == git_ref && name.is_none_or(|n| &r.name == n))
        .cloned()
        .collect();
    let listed: Vec<Value> = runs.iter().map(|r| run_json(&st, &full, r)).collect();
    Ok(json_response(
        StatusCode::OK,
        json!({"total_count": listed.len(), "check_runs": listed}),
    ))
}

/// `PATCH /repos/{owner}/{repo}/check-runs/{id}` → 200; annotations append.
pub async fn update(
    AxState(shared): AxState<Shared>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body = parse_json(&body)?;
    let mut guard = shared.lock();
    let st = &mut *guard;
    let full = format!("{owner}/{repo}");
    auth::require_repo_token(st, &headers, &full)?;
    let (output, annotations) = match split_output(body.get("output")) {
        Ok(o) => o.unzip(),
        Err(r) => return Err(r),
    };
    let Some(run) = st
        .repo_mut(&full)
        .check_runs
        .iter_mut()
        .find(|r| r.id == id)
    else {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let status = str_field(&body, "status").unwrap_or_else(|| run.status.clone());
    let conclusion = str_field(&body, "conclusion").or_else(|| run.conclusion.clone());
    if completed_without_conclusion(&status, &conclusion) {
        return Err(invalid_request("\"conclusion\" wasn't supplied."));
    }
    run.status = status;
    run.conclusion = conclusion;
    for (slot, field) in [
        (&mut run.completed_at, "completed_at"),
        (&mut run.started_at, "started_at"),
        (&mut run.external_id, "external_id"),
        (&mut run.details_url, "details_url"),
    ] {
        if let Some(v) = str_field(&body, field) {
            *slot = Some(v);
        }
    }
    if let Some(name) = str_field(&body, "name") {
        run.name = name;
    }
    if let Some(o) = output {
        run.outputs.push(o.clone());
        run.output = Some(o);
    }
    run.annotations.extend(annotations.unwrap_or_default());
    let run = run.clone();
    Ok(json_response(StatusCode::OK, run_json(st, &full, &run)))
}
