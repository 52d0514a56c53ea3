//! Rendered Helm charts and Kustomize overlays, as text: marking template lines before a
//! render and reading them back after, finding a chart's values knobs, reading Kustomize's
//! origin annotations, and carrying findings back to the files a person edits. Running
//! `helm` and `kubectl` is the caller's job; nothing here starts a process.

pub mod helm_lines;
pub mod knobs;
pub mod kustomize;
pub mod relocate;
