//! Rendering Helm charts and Kustomize overlays with the real tools, bounded, and checking
//! what they deploy with the core. The core reads the rendered text
//! (`immutabot_core::render`); this module finds what to render and runs the renderers.

pub mod chart_copy;
pub mod discover;
pub mod helm;
pub mod helm_fix;
pub mod kustomize;
pub mod kustomize_fix;
pub mod process;

use crate::model::{FileReport, Format};

/// A report that says why a chart or kustomization was not rendered.
pub fn skipped(path: &str, reason: &str) -> FileReport {
    FileReport {
        path: path.to_string(),
        format: Format::Skipped,
        skipped_reason: Some(reason.to_string()),
        units: Vec::new(),
        findings: Vec::new(),
        rendered: None,
    }
}
