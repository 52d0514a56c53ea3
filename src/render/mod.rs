//! Rendering Helm charts and Kustomize overlays with the real tools, bounded, and checking
//! what they deploy with the core. The core reads the rendered text
//! (`immutabot_core::render`); this module finds what to render and runs the renderers.

pub mod discover;
pub mod process;
