//! Rendered Helm charts and Kustomize overlays, as text: marking template lines before a
//! render and reading them back after, finding a chart's values knobs, reading Kustomize's
//! origin annotations, and carrying findings back to the files a person edits. Running
//! `helm` and `kubectl` is the caller's job; nothing here starts a process.

pub mod helm_lines;
pub mod knobs;
pub mod kustomize;
pub mod relocate;

use crate::config::Config;
use crate::model::Finding;
use crate::rules::RuleId;

/// The finding of a chart or kustomization that does not render: the tool's own message, on
/// `line` of the file that decides it (`Chart.yaml`, a values file, `kustomization.yaml`).
pub fn render_failed(config: &Config, line: usize, message: String) -> Finding {
    Finding {
        rule: RuleId::RenderFailed.as_str().into(),
        severity: config.severity_of(RuleId::RenderFailed),
        line,
        end_line: line,
        column: 1,
        message,
        workload: None,
        container: None,
        fix: None,
        suppressed: None,
        expired: None,
    }
}
