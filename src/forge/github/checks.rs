//! The `immutabot` check run: started when a review begins, completed with its annotations.

use super::GitHubError;
use super::answer::Answer;
use super::client::ApiRequest;
use super::installation::Installation;
use crate::forge::{Annotation, CheckOutput, Conclusion};
use crate::ids::{CheckRunId, CommitSha, RepoName};
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Constant, so repositories can make the check required.
/// The name of our check run (stable, so repositories can require it).
pub const CHECK_NAME: &str = "immutabot";
/// GitHub accepts at most 50 annotations per request and appends across updates.
const ANNOTATIONS_PER_REQUEST: usize = 50;
/// GitHub's limit on `summary`, in characters.
const MAX_SUMMARY_CHARS: usize = 65_535;

#[derive(Serialize)]
struct NewCheckRun<'a> {
    name: &'static str,
    head_sha: &'a str,
    status: &'static str,
    started_at: String,
    /// Ours alone: how a run whose answer was lost is found again.
    external_id: &'a str,
}

#[derive(Deserialize)]
struct ListedCheckRuns {
    check_runs: Vec<ListedCheckRun>,
}

#[derive(Deserialize)]
struct ListedCheckRun {
    id: i64,
    external_id: Option<String>,
}

#[derive(Serialize)]
struct CheckRunUpdate<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conclusion: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    output: OutputJson<'a>,
}

#[derive(Serialize)]
struct OutputJson<'a> {
    title: &'a str,
    summary: &'a str,
    annotations: &'a [Annotation],
}

#[derive(Deserialize)]
struct CreatedCheckRun {
    id: i64,
}

/// Cuts `text` to at most `max` characters, at a character boundary.
fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The PATCH bodies that complete a run: the first completes it with the first 50
/// annotations, each further one appends 50 more (title and summary repeated, as required).
fn completion_bodies<'a>(
    conclusion: Conclusion,
    output: &'a CheckOutput,
    completed_at: String,
) -> Vec<CheckRunUpdate<'a>> {
    let summary = truncate_chars(&output.summary, MAX_SUMMARY_CHARS);
    let mut batches: Vec<&[Annotation]> =
        output.annotations.chunks(ANNOTATIONS_PER_REQUEST).collect();
    if batches.is_empty() {
        batches.push(&[]);
    }
    batches
        .into_iter()
        .enumerate()
        .map(|(i, annotations)| CheckRunUpdate {
            status: (i == 0).then_some("completed"),
            conclusion: (i == 0).then_some(conclusion.as_str()),
            completed_at: (i == 0).then(|| completed_at.clone()),
            output: OutputJson {
                title: &output.title,
                summary,
                annotations,
            },
        })
        .collect()
}

/// Now, as GitHub writes timestamps.
fn timestamp() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Installation {
    /// Starts the `immutabot` check run on `head`, in progress. Made at most once: when an
    /// attempt's effect is unknown (no answer, a 5xx), the head's runs are read before trying
    /// again, and the run carrying this attempt's `external_id` counts as made.
    pub async fn create_check_run(
        &self,
        repo: &RepoName,
        head: &CommitSha,
    ) -> Result<CheckRunId, GitHubError> {
        let key = format!("immutabot-{:016x}", fastrand::u64(..));
        self.create_check_run_with_key(repo, head, &key).await
    }

    /// [`create_check_run`](Self::create_check_run) with the caller's `external_id`, by
    /// which a later attempt can find the run.
    pub async fn create_check_run_with_key(
        &self,
        repo: &RepoName,
        head: &CommitSha,
        key: &str,
    ) -> Result<CheckRunId, GitHubError> {
        let body = NewCheckRun {
            name: CHECK_NAME,
            head_sha: head.as_str(),
            status: "in_progress",
            started_at: timestamp(),
            external_id: key,
        };
        let url = self.repo_url(repo, "/check-runs")?;
        let request = ApiRequest::write(http::Method::POST, url, &body)?.no_blind_retry();
        let made = |answer: Answer| {
            let created: CreatedCheckRun = answer.json(&request.what())?;
            Ok(CheckRunId(created.id))
        };
        self.create_once(&request, "check_run", made, || {
            self.find_check_run(repo, head, key)
        })
        .await
    }

    /// Our check run on `head` that carries `key`.
    pub async fn find_check_run(
        &self,
        repo: &RepoName,
        head: &CommitSha,
        key: &str,
    ) -> Result<Option<CheckRunId>, GitHubError> {
        let url = self.repo_url(
            repo,
            &format!("/commits/{head}/check-runs?check_name={CHECK_NAME}&per_page=100"),
        )?;
        let request = ApiRequest::get(url);
        let listed: ListedCheckRuns = self.send(&request).await?.json(&request.what())?;
        Ok(listed
            .check_runs
            .iter()
            .find(|r| r.external_id.as_deref() == Some(key))
            .map(|r| CheckRunId(r.id)))
    }

    /// Completes the run with its conclusion and output, annotations in batches of 50.
    pub async fn complete_check_run(
        &self,
        repo: &RepoName,
        run: CheckRunId,
        conclusion: Conclusion,
        output: &CheckOutput,
    ) -> Result<(), GitHubError> {
        let url = self.repo_url(repo, &format!("/check-runs/{}", run.0))?;
        for body in completion_bodies(conclusion, output, timestamp()) {
            let request = ApiRequest::write(http::Method::PATCH, url.clone(), &body)?;
            self.send(&request).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::AnnotationLevel;

    fn annotation(line: u32) -> Annotation {
        Annotation {
            path: "a.yml".into(),
            start_line: line,
            end_line: line,
            annotation_level: AnnotationLevel::Warning,
            title: "t".into(),
            message: "m".into(),
            raw_details: None,
        }
    }

    fn output(annotations: usize, summary: &str) -> CheckOutput {
        CheckOutput {
            title: "T".into(),
            summary: summary.into(),
            annotations: (1..=annotations as u32).map(annotation).collect(),
        }
    }

    #[test]
    fn annotations_go_in_batches_of_fifty_and_only_the_first_completes() {
        let out = output(120, "S");
        let bodies = completion_bodies(Conclusion::Failure, &out, "now".into());
        let sizes: Vec<usize> = bodies.iter().map(|b| b.output.annotations.len()).collect();
        assert_eq!(sizes, [50, 50, 20]);
        let json: Vec<serde_json::Value> = bodies
            .iter()
            .map(|b| serde_json::to_value(b).unwrap())
            .collect();
        assert_eq!(json[0]["status"], "completed");
        assert_eq!(json[0]["conclusion"], "failure");
        assert_eq!(json[0]["completed_at"], "now");
        assert_eq!(json[0]["output"]["annotations"][0]["start_line"], 1);
        assert_eq!(json[1]["output"]["annotations"][0]["start_line"], 51);
        assert!(json[1].get("status").is_none() && json[1].get("conclusion").is_none());
        assert_eq!(json[2]["output"]["title"], "T");
        assert_eq!(json[2]["output"]["summary"], "S");
    }

    #[test]
    fn no_annotations_still_completes_once() {
        let out = output(0, "S");
        let bodies = completion_bodies(Conclusion::Success, &out, "now".into());
        assert_eq!(bodies.len(), 1);
        let json = serde_json::to_value(&bodies[0]).unwrap();
        assert_eq!(json["output"]["annotations"], serde_json::json!([]));
        assert_eq!(json["conclusion"], "success");
    }

    #[test]
    fn summaries_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_SUMMARY_CHARS + 10);
        let out = output(0, &long);
        let bodies = completion_bodies(Conclusion::Neutral, &out, "now".into());
        assert_eq!(bodies[0].output.summary.chars().count(), MAX_SUMMARY_CHARS);
        assert_eq!(truncate_chars("abc", 5), "abc");
        assert_eq!(truncate_chars("aéc", 2), "aé");
    }
}
