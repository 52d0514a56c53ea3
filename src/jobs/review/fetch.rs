//! Step 1, fetch: the request as it is now, its changed files, the base branch's settings,
//! the files to analyse at the head, and the threads already on the request.

use super::prefetched::Prefetched;
use crate::analyze;
use crate::config::Config;
use crate::forge::FileRefused;
use crate::forge::review::ChangeRequest;
use crate::forge::{ChangedFile, FileStatus, PullRequest, ReviewThread};
use crate::ids::CommitSha;
use crate::jobs::memory::Budget;
use crate::review::FileDiff;
use crate::review::marker;
use crate::review::summary::Note;
use std::collections::{HashMap, HashSet};

/// The repository settings file, always read from the base branch.
pub const CONFIG_PATH: &str = ".immutabot.yml";

/// Everything the analysis and the plan read.
pub struct Inputs {
    /// The base branch's settings.
    pub config: Config,
    /// The candidate files that still exist at the head.
    pub reviewed: Vec<ChangedFile>,
    /// Every changed path, old paths of renames and removed files included: what selects
    /// the charts and kustomizations to render.
    pub changed: Vec<String>,
    /// Their bytes, and any file the analysis asks for later.
    pub fetched: Prefetched,
    /// Parsed hunks of every changed file that has them, by path.
    pub diffs: HashMap<String, FileDiff>,
    /// Things the summary must say.
    pub notes: Vec<Note>,
    /// What the review may still fetch: files the analysis asks for come out of it too.
    pub budget: Budget,
}

/// The request if it is still open at `head`; otherwise why this review is stale.
pub async fn current<F: ChangeRequest>(
    forge: &F,
    head: &CommitSha,
) -> anyhow::Result<Result<PullRequest, String>> {
    let request = forge.current().await?;
    if !request.open {
        return Ok(Err("pull request closed".into()));
    }
    if request.head_sha != *head {
        return Ok(Err(format!("head moved on to {}", request.head_sha)));
    }
    Ok(Ok(request))
}

/// Changed files, settings and the head's bytes of every file worth analysing.
pub async fn inputs<F: ChangeRequest>(
    forge: &F,
    request: &PullRequest,
    head: &CommitSha,
) -> anyhow::Result<Inputs> {
    let files = forge.changed_files().await?;
    let mut notes = Vec::new();
    if let Some(cap) = forge.listed_files_cap().filter(|&cap| files.len() >= cap) {
        notes.push(Note::Text(format!(
            "{} lists at most {cap} changed files of a pull request: files past them were not checked.",
            forge.forge_name()
        )));
    }
    let config = base_config(forge, &request.base_sha, &mut notes).await?;
    if files
        .iter()
        .any(|f| f.path == CONFIG_PATH || f.previous_path.as_deref() == Some(CONFIG_PATH))
    {
        notes.push(Note::ConfigChanged);
    }
    let diffs = files
        .iter()
        .filter_map(|f| Some((f.path.clone(), FileDiff::parse(f.patch.as_deref()?).ok()?)))
        .collect();
    let changed = files
        .iter()
        .flat_map(|f| std::iter::once(f.path.clone()).chain(f.previous_path.clone()))
        .collect();
    let reviewed: Vec<ChangedFile> = files
        .into_iter()
        .filter(|f| f.status != FileStatus::Removed)
        .filter(|f| analyze::is_candidate(&f.path) && !config.is_ignored(&f.path))
        .collect();
    let mut fetched = Prefetched::default();
    let mut budget = Budget::review();
    for f in &reviewed {
        if !budget.admit(&f.path, None) {
            continue;
        }
        match forge.file_at(&f.path, head).await {
            Ok(Some(bytes)) => {
                budget.hold(bytes.len());
                fetched.insert(f.path.clone(), bytes)
            }
            Ok(None) => notes.push(Note::Text(format!(
                "`{}` could not be read at {head}.",
                f.path
            ))),
            // One file the forge will not hand over costs one note, not the review.
            Err(e) if FileRefused::is_cause_of(&e) => {
                notes.push(Note::Text(format!("`{}` was not checked: {e:#}.", f.path)))
            }
            Err(e) => return Err(e),
        }
    }
    let left_out: HashSet<&str> = budget.left_out().iter().map(String::as_str).collect();
    let reviewed = reviewed
        .into_iter()
        .filter(|f| !left_out.contains(f.path.as_str()))
        .collect();
    Ok(Inputs {
        config,
        reviewed,
        changed,
        fetched,
        diffs,
        notes,
        budget,
    })
}

/// The base branch's settings: a pull request must not switch its own checks off.
async fn base_config<F: ChangeRequest>(
    forge: &F,
    base: &CommitSha,
    notes: &mut Vec<Note>,
) -> anyhow::Result<Config> {
    let Some(bytes) = forge.file_at(CONFIG_PATH, base).await? else {
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

/// One of our threads: the first comment carries our marker.
pub struct OurThread {
    /// The thread.
    pub thread: ReviewThread,
    /// Someone other than us wrote in it: a fixed finding's thread stays open then.
    pub human_replied: bool,
}

/// Our threads on the request, by the fingerprint of the finding each is about.
pub struct OurThreads(pub HashMap<String, OurThread>);

impl OurThreads {
    /// Fingerprints with an unresolved thread: the plan does not comment on them again.
    pub fn open(&self) -> HashSet<String> {
        self.0
            .iter()
            .filter(|(_, t)| !t.thread.is_resolved)
            .map(|(fp, _)| fp.clone())
            .collect()
    }
}

/// Reads every thread and keeps ours.
pub async fn our_threads<F: ChangeRequest>(forge: &F) -> anyhow::Result<OurThreads> {
    Ok(ours(forge.threads().await?))
}

fn ours(threads: Vec<ReviewThread>) -> OurThreads {
    let mut ours = HashMap::new();
    for thread in threads {
        let Some(first) = thread.comments.first() else {
            continue;
        };
        let Some(fp) = marker::fingerprint_of(&first.body) else {
            continue;
        };
        let human_replied = thread.comments[1..]
            .iter()
            .any(|c| c.author != first.author);
        ours.insert(
            fp,
            OurThread {
                thread,
                human_replied,
            },
        );
    }
    OurThreads(ours)
}
