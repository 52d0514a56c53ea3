//! Step 3, the base: the reviewed files as the base branch has them, analysed with the same
//! settings, so that `review.fail_on: new` can tell what the pull request introduces and the
//! summary can list the exemptions it adds. Read only when one of the two needs it.
//!
//! Charts and kustomizations the request touches are rendered at the base too (only for
//! `fail_on: new`, where it decides the check): a chart that was already writable does not
//! fail a request that only edits it.

use super::analyse::{self, Analysed};
use super::fetch::Inputs;
use crate::config::Gate;
use crate::date::Date;
use crate::expiry;
use crate::forge::review::ChangeRequest;
use crate::forge::{FileRefused, FileStatus};
use crate::ids::CommitSha;
use crate::jobs::render::Renderers;
use crate::review::baseline::Baseline;

/// The base branch's findings and exemptions of the reviewed files.
pub async fn read<F: ChangeRequest>(
    forge: &F,
    base: &CommitSha,
    renderers: &Renderers,
    input: &Inputs,
    head: &Analysed,
    today: Date,
) -> anyhow::Result<Baseline> {
    let exempts = head
        .reports
        .iter()
        .any(|r| r.findings.iter().any(|f| f.suppressed.is_some()));
    if input.config.review.fail_on == Gate::Any && !exempts {
        return Ok(Baseline::default());
    }
    // Files a base file refers to (`extends`, overrides) are read as the head has them.
    let mut files = input.fetched.clone();
    let mut paths = Vec::new();
    for f in input
        .reviewed
        .iter()
        .filter(|f| f.status != FileStatus::Added)
    {
        let at_base = f.previous_path.as_deref().unwrap_or(&f.path);
        let bytes = match forge.file_at(at_base, base).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            // A base file the forge will not hand over is compared with nothing.
            Err(e) if FileRefused::is_cause_of(&e) => continue,
            Err(e) => return Err(e),
        };
        // Under its head path: findings are matched by the path the head gives them.
        files.insert(f.path.clone(), bytes);
        paths.push(f.path.clone());
    }
    let (mut reports, _) = analyse::run_core(paths, files, input.config.clone()).await?;
    if input.config.review.fail_on == Gate::New {
        super::charts::render_base(forge, base, renderers, input, &mut reports).await?;
    }
    reports.iter_mut().for_each(|r| expiry::apply(r, today));
    Ok(Baseline::of(&reports))
}
