//! Step 2b, render: the charts and kustomizations holding a changed file, rendered from
//! their folders at the head. Their reports (on templates, values files and resources) join
//! the analysed files and replace the plain reports of the files a render stands for; the
//! planner then places each finding by path and line like any other. Under
//! `review.fail_on: new` the same units are rendered at the base too.

use super::analyse::Analysed;
use super::fetch::Inputs;
use crate::config::Config;
use crate::forge::ObjectId;
use crate::forge::review::ChangeRequest;
use crate::ids::CommitSha;
use crate::jobs::render::{self, Blobs, Rendered, Renderers, Workspace, select};
use crate::model::FileReport;
use crate::review::summary::Note;

/// Charts and kustomizations one review renders; the rest are named in the check run.
pub const MAX_RENDERS: usize = 20;
/// Kustomization files one review reads to find the overlays that build on a changed base.
const MAX_KUSTOMIZATION_FILES: usize = 200;

/// Renders what the request touches and adds the reports to `analysed`.
pub async fn render<F: ChangeRequest>(
    forge: &F,
    head: &CommitSha,
    renderers: &Renderers,
    input: &mut Inputs,
    analysed: &mut Analysed,
) -> anyhow::Result<()> {
    let at = At {
        commit: head,
        renderers,
        config: &input.config,
        changed: &input.changed,
    };
    let Some(rendered) = rendered_at(forge, at, &mut input.notes).await? else {
        return Ok(());
    };
    for r in &rendered.reports {
        if !input.changed.contains(&r.path) {
            // Not changed: every line is outside the diff (no diff would mean "no patch").
            input.diffs.entry(r.path.clone()).or_default();
        }
    }
    rendered.merge_into(&mut analysed.reports, Some(&mut analysed.sources));
    Ok(())
}

/// The same charts and kustomizations as the base has them, merged into the base's plain
/// `reports`: what `review.fail_on: new` compares the head's rendered findings with. What
/// the base cannot render (a chart the request adds, a broken one) has no findings there.
pub async fn render_base<F: ChangeRequest>(
    forge: &F,
    base: &CommitSha,
    renderers: &Renderers,
    input: &Inputs,
    reports: &mut Vec<FileReport>,
) -> anyhow::Result<()> {
    let at = At {
        commit: base,
        renderers,
        config: &input.config,
        changed: &input.changed,
    };
    // The head's render already said what was left out; the base's notes would repeat it.
    let mut notes = Vec::new();
    if let Some(rendered) = rendered_at(forge, at, &mut notes).await? {
        rendered.merge_into(reports, None);
    }
    Ok(())
}

/// Which commit a render reads, and with what.
#[derive(Clone, Copy)]
struct At<'a> {
    commit: &'a CommitSha,
    renderers: &'a Renderers,
    config: &'a Config,
    changed: &'a [String],
}

/// Renders the charts and kustomizations at `at` that hold a changed path; `None` when
/// there are none (or no folder to render them in, which `notes` then says).
async fn rendered_at<F: ChangeRequest>(
    forge: &F,
    at: At<'_>,
    notes: &mut Vec<Note>,
) -> anyhow::Result<Option<Rendered>> {
    if !at.changed.iter().any(|p| select::may_render(p)) {
        return Ok(None);
    }
    let tree = forge.tree(at.commit).await?;
    let mut units = select::touched(&tree, at.changed);
    units.retain(|u| !at.config.is_ignored(&u.own_file(&tree)));
    if units.is_empty() {
        return Ok(None);
    }
    let mut ws = match Workspace::new() {
        Ok(ws) => ws,
        Err(e) => {
            // The server's /tmp is not writable: say so, and keep the plain reports.
            let what: Vec<String> = units.iter().map(|u| u.path_shown()).collect();
            notes.push(Note::Text(format!(
                "{} not rendered: {e:#}.",
                what.join(", ")
            )));
            return Ok(None);
        }
    };
    let blobs = FromRequest(forge);
    if units.iter().any(|u| u.kind == select::Kind::Kustomization) {
        // A change to a base is checked as it deploys: through the overlays built on it.
        for e in select::kustomization_files(&tree).take(MAX_KUSTOMIZATION_FILES) {
            ws.fetch(&blobs, e).await?;
        }
        units = select::through_roots(units, &tree, ws.root());
    }
    note_limits(&tree, &mut units, notes);
    let rendered = render::render_units(
        &blobs,
        &tree,
        &mut ws,
        &units,
        at.renderers,
        at.config,
        true,
    )
    .await?;
    Ok(Some(rendered))
}

/// Keeps the first [`MAX_RENDERS`] units and says what was left out.
fn note_limits(
    tree: &crate::forge::Tree,
    units: &mut Vec<select::RenderUnit>,
    notes: &mut Vec<Note>,
) {
    if tree.truncated {
        notes.push(Note::Text(
            "The repository's tree could not be listed in full: some charts or kustomizations may not have been rendered.".into(),
        ));
    }
    if units.len() > MAX_RENDERS {
        let left: Vec<String> = units[MAX_RENDERS..]
            .iter()
            .map(|u| u.path_shown())
            .collect();
        notes.push(Note::Text(format!(
            "This change touches {} charts and kustomizations; the first {MAX_RENDERS} were rendered, not {}.",
            units.len(),
            left.join(", ")
        )));
        units.truncate(MAX_RENDERS);
    }
}

/// The request's blobs, for the renders.
struct FromRequest<'a, F>(&'a F);

impl<F: ChangeRequest> Blobs for FromRequest<'_, F> {
    async fn blob(&self, id: &ObjectId) -> anyhow::Result<Vec<u8>> {
        self.0.blob(id).await
    }
}
