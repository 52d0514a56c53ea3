//! Fixes where a kustomization's author edits: the resource file itself when it lies in the
//! checked tree and no patch changes the object on the way, else a strategic-merge patch
//! keyed by container name in the checked overlay's kustomization file (name-keyed patches
//! survive a change in container order; index-based JSON patches do not —
//! kubernetes-sigs/kustomize#5354).
//!
//! The overlay patch is written inline (`patches: - patch: |-`): one line-exact suggestion a
//! reviewer can apply, where a new file cannot be suggested in a review.

use crate::model::{FileReport, Finding, Fix, Role};
use crate::render::kustomize::Fixing;
use crate::rules::RuleId;
use immutabot_core::render::knobs;
use immutabot_core::render::kustomize::{self as rendered, OverlayContainer, OverlayTarget};

/// A writable container of the render, with where it came from.
struct Writable<'a> {
    finding: &'a Finding,
    doc: usize,
}

/// Gives each writable container of the render its fix.
pub fn place(reports: &mut Vec<FileReport>, fx: &Fixing<'_>) {
    let writable: Vec<Writable<'_>> = fx
        .report
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::WritableRootFilesystem.as_str() && f.suppressed.is_none())
        .filter(|f| f.container.is_some())
        .map(|f| Writable {
            finding: f,
            doc: fx.docs.get(f.line - 1).copied().unwrap_or(0),
        })
        .collect();
    let mut overlay: Vec<&Writable<'_>> = Vec::new();
    for w in &writable {
        match in_resource(w, fx) {
            Some((path, fix)) => set_fix(reports, &path, w.finding, fix, None),
            None => overlay.push(w),
        }
    }
    if overlay.is_empty() {
        return;
    }
    let Some(fix) = overlay_fix(&overlay, fx) else {
        return;
    };
    for w in overlay {
        let note = format!(
            "{} The patch adds a strategic-merge patch keyed by container name to `{}`, the overlay that was checked.",
            patched_by(w, fx),
            fx.own
        );
        move_to_overlay(reports, fx.own, w.finding, fix.clone(), note);
    }
}

/// The resource file's own patch, when editing it fixes what deploys: the file is in the
/// tree, no patch of a kustomization changes the object, and the core patches the container
/// there.
fn in_resource(w: &Writable<'_>, fx: &Fixing<'_>) -> Option<(String, Fix)> {
    let object = fx.objects.get(w.doc)?;
    let patched = object
        .transformations
        .iter()
        .any(|t| t.configured_by.kind == "PatchTransformer");
    if patched {
        return None;
    }
    let (_, origin) = fx.origin(w.doc)?;
    if origin.path.starts_with("../") || origin.path.starts_with('/') {
        return None;
    }
    let fix = origin
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::WritableRootFilesystem.as_str())
        .find(|f| f.container == w.finding.container)?
        .fix
        .clone()?;
    Some((origin.path.clone(), fix))
}

/// Which kustomizations' patches change the object on its way (kustomize records the
/// kustomization and the transformer, not the patch file).
fn patched_by(w: &Writable<'_>, fx: &Fixing<'_>) -> String {
    let Some(object) = fx.objects.get(w.doc) else {
        return String::new();
    };
    let mut by: Vec<String> = Vec::new();
    for t in &object.transformations {
        if t.configured_by.kind == "PatchTransformer" {
            let at = crate::render::discover::lexical(&fx.wrap_dir.join(&t.configured_in));
            let shown = crate::render::discover::relative_to(&at, fx.cwd);
            if !by.contains(&shown) {
                by.push(shown);
            }
        }
    }
    if by.is_empty() {
        return String::new();
    }
    format!(
        " Patches in `{}` change this object on its way.",
        by.join("`, `")
    )
}

/// One inline patch for every writable container the resource files cannot fix.
fn overlay_fix(overlay: &[&Writable<'_>], fx: &Fixing<'_>) -> Option<Fix> {
    let mut targets: Vec<OverlayTarget> = Vec::new();
    for w in overlay {
        let object = fx.objects.get(w.doc)?;
        // The name the resource file gives it: the overlay's own prefix comes after patches.
        let name = fx
            .origin(w.doc)
            .and_then(|(_, r)| {
                r.units
                    .iter()
                    .find(|u| u.container == w.finding.container)
                    .and_then(|u| u.workload.split_once('/').map(|(_, n)| n.to_string()))
            })
            .unwrap_or_else(|| object.name.clone());
        let workload = w.finding.workload.clone().unwrap_or_default();
        let container = w.finding.container.clone().unwrap_or_default();
        let scratch = knobs::scratch_needed(fx.text, &workload, &container)
            .into_iter()
            .map(|m| (m.name, m.path))
            .collect();
        let init = fx.report.units.iter().any(|u| {
            u.workload == workload
                && u.container.as_deref() == Some(&container)
                && u.role == Role::Init
        });
        let c = OverlayContainer {
            name: container,
            init,
            scratch,
        };
        match targets
            .iter_mut()
            .find(|t| t.kind == object.kind && t.name == name)
        {
            Some(t) => t.containers.push(c),
            None => targets.push(OverlayTarget {
                api_version: object.api_version.clone(),
                kind: object.kind.clone(),
                name,
                namespace: None,
                containers: vec![c],
            }),
        }
    }
    let patch = rendered::overlay_patch(&targets);
    if patch.is_empty() {
        return None;
    }
    let file = crate::render::discover::kustomization_file(fx.dir)?;
    let text = std::fs::read_to_string(file).ok()?;
    rendered::list_inline_patch(
        &text,
        &patch,
        "make the containers read-only with a strategic-merge patch keyed by container name",
    )
}

fn set_fix(reports: &mut [FileReport], path: &str, f: &Finding, fix: Fix, note: Option<String>) {
    if let Some(g) = reports
        .iter_mut()
        .filter(|r| r.path == path)
        .flat_map(|r| r.findings.iter_mut())
        .find(|g| g.rule == f.rule && g.workload == f.workload && g.container == f.container)
    {
        g.fix = Some(fix);
        if let Some(n) = note {
            g.message.push_str(&n);
        }
    }
}

/// Moves a finding from its resource file to the overlay's kustomization file, which the
/// patch edits.
fn move_to_overlay(reports: &mut Vec<FileReport>, own: &str, f: &Finding, fix: Fix, note: String) {
    let mut moved = None;
    for r in reports.iter_mut() {
        if let Some(i) = r.findings.iter().position(|g| {
            g.rule == f.rule && g.workload == f.workload && g.container == f.container
        }) {
            let mut g = r.findings.remove(i);
            g.message = format!(
                "{} It comes from `{}` line {}.{note}",
                g.message, r.path, g.line
            );
            moved = Some(g);
            break;
        }
    }
    let Some(mut g) = moved else { return };
    g.line = fix.start_line;
    g.end_line = fix.start_line;
    g.column = 1;
    g.fix = Some(fix);
    match reports.iter_mut().find(|r| r.path == own) {
        Some(r) => r.findings.push(g),
        None => {
            let rendered = reports.iter().find_map(|r| r.rendered.clone());
            reports.push(FileReport {
                path: own.to_string(),
                format: crate::model::Format::Kubernetes,
                skipped_reason: None,
                units: Vec::new(),
                findings: vec![g],
                rendered,
            });
        }
    }
}
