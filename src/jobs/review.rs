//! Reviewing one head commit of a pull request: fetch, analyse, plan, post, clean up,
//! remember.

use super::JobContext;
use super::fetch::Prefetched;
use crate::analyze::{self, NOT_RECOGNISED};
use crate::config::Config;
use crate::forge::github::{GitHubError, Installation};
use crate::forge::{Conclusion, FileStatus, ReviewThread};
use crate::ids::{CheckRunId, CommitSha, RepoName};
use crate::model::{FileReport, Format, ReadOnly};
use crate::queue::Outcome;
use crate::queue::job::ReviewJob;
use crate::review::plan::{self, Placement, Plan, ReviewFile};
use crate::review::summary::{self, Note};
use crate::review::{FileDiff, MAX_COMMENTS, annotate, marker, render};
use crate::storage::checks::{self as history, CheckCounts, FindingRecord};
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use tracing::{Instrument, info, warn};

/// Files named by `extends` or override lookups that one review may fetch.
const MAX_EXTRA_FILES: usize = 20;
/// The repository settings file, always read from the base branch.
const CONFIG_PATH: &str = ".immutabot.yml";

/// Runs a review job; errors become retryable failures, a 404 a permanent one.
pub async fn run(ctx: &JobContext, job: &ReviewJob) -> Outcome {
    let span = tracing::info_span!(
        "review",
        repo = %job.repo.display_name(),
        pr = job.number.0,
        head = %job.head_sha
    );
    match review(ctx, job).instrument(span).await {
        Ok(outcome) => outcome,
        Err(e) => super::failure(e),
    }
}

async fn review(ctx: &JobContext, p: &ReviewJob) -> anyhow::Result<Outcome> {
    let Some((installation, repo_id, repo)) = p.repo.github() else {
        return Ok(super::unsupported(&p.repo));
    };
    let (repo, head, number) = (repo.clone(), p.head_sha.clone(), p.number);
    let gh = ctx.github.installation(installation)?;

    let pr = gh.pull_request(&repo, number).await?;
    if !pr.open {
        return Ok(Outcome::Superseded("pull request closed".into()));
    }
    if pr.head_sha != head {
        return Ok(Outcome::Superseded(format!(
            "head moved on to {}",
            pr.head_sha
        )));
    }

    let (check_id, run) =
        history::start_check(&ctx.pool, repo_id.0, number.0, head.as_str(), p.rerun).await?;
    let run_id = match run {
        Some(id) => CheckRunId(id),
        None => {
            let id = gh.create_check_run(&repo, &head).await?;
            history::set_check_run(&ctx.pool, check_id, id.0).await?;
            id
        }
    };

    let files = gh.changed_files(&repo, number).await?;
    let mut notes = Vec::new();
    let config = base_config(&gh, &repo, &pr.base_sha, &mut notes).await?;
    if files
        .iter()
        .any(|f| f.path == CONFIG_PATH || f.previous_path.as_deref() == Some(CONFIG_PATH))
    {
        notes.push(Note::ConfigChanged);
    }

    let reviewed: Vec<_> = files
        .iter()
        .filter(|f| f.status != FileStatus::Removed)
        .filter(|f| analyze::is_candidate(&f.path) && !config.is_ignored(&f.path))
        .collect();
    let mut fetched = Prefetched::default();
    for f in &reviewed {
        match gh.file_at(&repo, &f.path, &head).await? {
            Some(bytes) => fetched.insert(f.path.clone(), bytes),
            None => notes.push(Note::Text(format!(
                "`{}` could not be read at {head}.",
                f.path
            ))),
        }
    }
    let (reports, fetched) = analyse(&gh, &repo, &head, &reviewed, fetched, &config).await?;
    let sources: Vec<String> = reports
        .iter()
        .map(|r| String::from_utf8_lossy(fetched.get(&r.path).unwrap_or_default()).into_owned())
        .collect();

    let diffs: HashMap<&str, FileDiff> = files
        .iter()
        .filter_map(|f| Some((f.path.as_str(), FileDiff::parse(f.patch.as_deref()?).ok()?)))
        .collect();
    let review_files: Vec<ReviewFile> = reports
        .iter()
        .zip(&sources)
        .map(|(r, source)| ReviewFile {
            report: r,
            source,
            patch: diffs.get(r.path.as_str()),
        })
        .collect();

    let threads = gh.review_threads(&repo, number).await?;
    let ours = our_threads(&threads);
    let open: HashSet<String> = ours
        .iter()
        .filter(|(_, t)| !t.thread.is_resolved)
        .map(|(fp, _)| fp.clone())
        .collect();
    let mut plan = plan::plan(&review_files, &config, &open, MAX_COMMENTS);

    // A push while we worked makes all of this stale: the newer job will post instead.
    let now = gh.pull_request(&repo, number).await?;
    if now.head_sha != head || !now.open {
        let note = Note::Text("A newer commit was pushed; this check was superseded.".into());
        let output = summary::check_output(&plan, &review_files, &[note]);
        gh.complete_check_run(&repo, run_id, Conclusion::Cancelled, &output)
            .await?;
        history::finish_check(
            &ctx.pool,
            check_id,
            Conclusion::Cancelled.as_str(),
            &CheckCounts::default(),
            &[],
        )
        .await?;
        return Ok(Outcome::Superseded("head moved on before posting".into()));
    }

    let mut posted = 0;
    if !plan.comments.is_empty() {
        let comments: Vec<_> = plan.comments.iter().map(|c| c.comment.clone()).collect();
        let fingerprints: Vec<&str> = plan
            .comments
            .iter()
            .map(|c| c.fingerprint.as_str())
            .collect();
        let key = marker::review_key(head.as_str(), &fingerprints);
        let body = format!(
            "{}\n\n{}",
            render::review_body(&plan),
            marker::review_marker(&key)
        );
        match gh
            .create_review(&repo, number, &head, &body, &comments, &key)
            .await
        {
            Ok(_) => posted = comments.len(),
            Err(GitHubError::Unprocessable { message }) => {
                let anchors: Vec<String> = comments
                    .iter()
                    .map(|c| match c.start_line {
                        Some(s) => format!("{}:{}-{}", c.path, s, c.line),
                        None => format!("{}:{}", c.path, c.line),
                    })
                    .collect();
                warn!(%message, anchors = %anchors.join(", "),
                    "GitHub refused the review; its findings go to the check run instead");
                notes.push(Note::Text(format!(
                    "GitHub refused the inline comments ({message}); they are listed as annotations instead."
                )));
                demote_comments(&mut plan, &review_files);
            }
            Err(e) => return Err(e.into()),
        }
    }

    let live: HashSet<&str> = plan
        .findings
        .iter()
        .filter(|f| f.placement != Placement::Suppressed)
        .map(|f| f.fingerprint.as_str())
        .collect();
    let mut resolved = 0;
    for (fp, t) in &ours {
        if t.thread.is_resolved || live.contains(fp.as_str()) {
            continue;
        }
        if t.human_replied {
            info!(thread = %t.thread.id, "finding fixed, but a person replied: thread left open");
            continue;
        }
        gh.resolve_thread(&t.thread.id).await?;
        resolved += 1;
    }

    let output = summary::check_output(&plan, &review_files, &notes);
    gh.complete_check_run(&repo, run_id, plan.conclusion, &output)
        .await?;

    let (counts, records) = history_of(&plan, &reports, &open, posted);
    let fixed = history::finish_check(
        &ctx.pool,
        check_id,
        plan.conclusion.as_str(),
        &counts,
        &records,
    )
    .await?;
    info!(
        comments = posted,
        annotations = plan.annotations.len(),
        resolved,
        fixed = fixed.len(),
        conclusion = plan.conclusion.as_str(),
        "review done"
    );
    Ok(Outcome::Done)
}

/// The base branch's settings: a pull request must not switch its own checks off.
async fn base_config(
    gh: &Installation,
    repo: &RepoName,
    base: &CommitSha,
    notes: &mut Vec<Note>,
) -> anyhow::Result<Config> {
    let Some(bytes) = gh.file_at(repo, CONFIG_PATH, base).await? else {
        return Ok(Config::default());
    };
    match Config::parse(&String::from_utf8_lossy(&bytes)) {
        Ok(c) => Ok(c),
        Err(e) => {
            notes.push(Note::ConfigInvalid(format!("{CONFIG_PATH}:{e}")));
            Ok(Config::default())
        }
    }
}

/// Runs the core over the fetched files, fetching files it asks for (extends, overrides)
/// once, then running it again with them.
async fn analyse(
    gh: &Installation,
    repo: &RepoName,
    head: &CommitSha,
    reviewed: &[&crate::forge::ChangedFile],
    mut fetched: Prefetched,
    config: &Config,
) -> anyhow::Result<(Vec<FileReport>, Prefetched)> {
    let paths: Vec<String> = reviewed.iter().map(|f| f.path.clone()).collect();
    for round in 0..2 {
        let (reports, back) = run_core(paths.clone(), fetched, config.clone()).await?;
        fetched = back;
        let missing = fetched.take_missing();
        if round == 1 || missing.is_empty() {
            return Ok((reports, fetched));
        }
        for path in missing.into_iter().take(MAX_EXTRA_FILES) {
            match gh.file_at(repo, &path, head).await? {
                Some(bytes) => fetched.insert(path, bytes),
                None => fetched.insert_absent(path),
            }
        }
    }
    unreachable!("the loop returns in its second round")
}

async fn run_core(
    paths: Vec<String>,
    fetched: Prefetched,
    config: Config,
) -> anyhow::Result<(Vec<FileReport>, Prefetched)> {
    tokio::task::spawn_blocking(move || {
        let reports = paths
            .iter()
            .filter_map(|path| {
                let bytes = fetched.get(path)?;
                let report = analyze::analyze(path, bytes, &config, &fetched);
                // YAML that is neither Compose nor Kubernetes (CI files, lock files) is not ours.
                let foreign = report.format == Format::Skipped
                    && report.skipped_reason.as_deref() == Some(NOT_RECOGNISED);
                (!foreign).then_some(report)
            })
            .collect();
        (reports, fetched)
    })
    .await
    .context("the analysis panicked")
}

struct OurThread<'a> {
    thread: &'a ReviewThread,
    human_replied: bool,
}

/// Our threads by fingerprint: the first comment carries our marker.
fn our_threads(threads: &[ReviewThread]) -> HashMap<String, OurThread<'_>> {
    let mut ours = HashMap::new();
    for t in threads {
        let Some(first) = t.comments.first() else {
            continue;
        };
        let Some(fp) = marker::fingerprint_of(&first.body) else {
            continue;
        };
        let human_replied = t.comments[1..].iter().any(|c| c.author != first.author);
        ours.insert(
            fp,
            OurThread {
                thread: t,
                human_replied,
            },
        );
    }
    ours
}

/// After GitHub refused the review, every planned comment becomes an annotation.
fn demote_comments(plan: &mut Plan, files: &[ReviewFile<'_>]) {
    let mut by_fp: HashMap<String, (&ReviewFile<'_>, &crate::model::Finding)> = HashMap::new();
    for file in files {
        let fps = crate::output::fingerprint::all(file.report);
        for (fp, f) in fps.into_iter().zip(&file.report.findings) {
            by_fp.insert(fp, (file, f));
        }
    }
    for c in std::mem::take(&mut plan.comments) {
        let Some((file, f)) = by_fp.get(&c.fingerprint) else {
            continue;
        };
        plan.annotations.push(annotate::annotation(file, f));
        for pf in plan
            .findings
            .iter_mut()
            .filter(|pf| pf.fingerprint == c.fingerprint)
        {
            pf.placement = Placement::Annotation(plan::AnnotationReason::OutsideDiff);
        }
    }
}

fn history_of(
    plan: &Plan,
    reports: &[FileReport],
    open: &HashSet<String>,
    posted: usize,
) -> (CheckCounts, Vec<FindingRecord>) {
    let mut counts = CheckCounts {
        files_checked: reports.len() as i32,
        comments: posted as i32,
        ..CheckCounts::default()
    };
    for r in reports {
        counts.units += r.units.len() as i32;
        counts.read_only += r
            .units
            .iter()
            .filter(|u| u.read_only == ReadOnly::True)
            .count() as i32;
        counts.suppressed += r
            .units
            .iter()
            .filter(|u| u.read_only == ReadOnly::Suppressed)
            .count() as i32;
    }
    let records = plan
        .findings
        .iter()
        .map(|f| {
            let suppressed = f.placement == Placement::Suppressed;
            if !suppressed {
                counts.findings += 1;
                if f.in_diff {
                    counts.in_diff += 1;
                }
            }
            FindingRecord {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.clone(),
                path: f.path.clone(),
                line: f.line as i32,
                workload: f.workload.clone(),
                container: f.container.clone(),
                severity: f.severity.as_str().to_string(),
                suppressed,
                commented: (f.placement.is_comment() && posted > 0)
                    || open.contains(&f.fingerprint),
            }
        })
        .collect();
    (counts, records)
}
