//! Step 4, publish: the inline comments, resolving the threads of fixed findings, and the
//! status with its summary.

use super::Target;
use super::fetch::OurThreads;
use super::remember::Check;
use crate::forge::Conclusion;
use crate::forge::review::{ChangeRequest, Refusal};
use crate::ids::CommitSha;
use crate::review::plan::{self, Placement, Plan, ReviewFile};
use crate::review::summary::{self, Note};
use crate::review::{annotate, marker, render};
use std::collections::{HashMap, HashSet};
use tracing::info;

/// Ends the status as cancelled: a newer head is being reviewed.
pub async fn cancel<F: ChangeRequest>(
    forge: &F,
    target: &Target,
    check: &Check,
    plan: &Plan,
    files: &[ReviewFile<'_>],
) -> anyhow::Result<()> {
    let note = Note::Text("A newer commit was pushed; this check was superseded.".into());
    let output = summary::check_output(plan, files, &[note]);
    forge
        .finish_status(&target.head, check.status, Conclusion::Cancelled, &output)
        .await
}

/// Posts the planned comments as one review; the ones the forge refuses become annotations.
/// Returns how many were posted.
pub async fn comments<F: ChangeRequest>(
    forge: &F,
    head: &CommitSha,
    plan: &mut Plan,
    files: &[ReviewFile<'_>],
    notes: &mut Vec<Note>,
) -> anyhow::Result<usize> {
    if plan.comments.is_empty() {
        return Ok(0);
    }
    let comments: Vec<_> = plan.comments.iter().map(|c| c.comment.clone()).collect();
    let fingerprints: Vec<&str> = plan
        .comments
        .iter()
        .map(|c| c.fingerprint.as_str())
        .collect();
    let key = marker::review_key(head.as_str(), &fingerprints);
    let body = format!(
        "{}\n\n{}",
        render::review_body(plan),
        marker::review_marker(&key)
    );
    let posting = forge.post_comments(head, &body, &comments, &key).await?;
    if let Some(first) = posting.refused.first() {
        notes.push(Note::Text(format!(
            "{} refused the inline comments ({}); they are listed as annotations instead.",
            forge.forge_name(),
            first.message
        )));
        demote(plan, files, &posting.refused);
    }
    Ok(posting.posted)
}

/// Resolves our threads whose finding is gone, unless a person replied in them.
pub async fn resolve_fixed<F: ChangeRequest>(
    forge: &F,
    threads: &OurThreads,
    plan: &Plan,
) -> anyhow::Result<usize> {
    let live: HashSet<&str> = plan
        .findings
        .iter()
        .filter(|f| f.placement != Placement::Suppressed)
        .map(|f| f.fingerprint.as_str())
        .collect();
    let mut resolved = 0;
    for (fp, t) in &threads.0 {
        if t.thread.is_resolved || live.contains(fp.as_str()) {
            continue;
        }
        if t.human_replied {
            info!(thread = %t.thread.id, "finding fixed, but a person replied: thread left open");
            continue;
        }
        forge.resolve_thread(&t.thread.id).await?;
        resolved += 1;
    }
    Ok(resolved)
}

/// Ends the status with the plan's conclusion and the summary.
pub async fn finish<F: ChangeRequest>(
    forge: &F,
    target: &Target,
    check: &Check,
    plan: &Plan,
    files: &[ReviewFile<'_>],
    notes: &[Note],
) -> anyhow::Result<()> {
    let output = summary::check_output(plan, files, notes);
    forge
        .finish_status(&target.head, check.status, plan.conclusion, &output)
        .await
}

/// The refused comments become annotations, and their findings say so.
fn demote(plan: &mut Plan, files: &[ReviewFile<'_>], refused: &[Refusal]) {
    let mut by_fp: HashMap<String, (&ReviewFile<'_>, &crate::model::Finding)> = HashMap::new();
    for file in files {
        let fps = crate::output::fingerprint::all(file.report);
        for (fp, f) in fps.into_iter().zip(&file.report.findings) {
            by_fp.insert(fp, (file, f));
        }
    }
    let refused: HashSet<usize> = refused.iter().map(|r| r.index).collect();
    let (demoted, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut plan.comments)
        .into_iter()
        .enumerate()
        .partition(|(i, _)| refused.contains(i));
    plan.comments = kept.into_iter().map(|(_, c)| c).collect();
    for (_, c) in demoted {
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
