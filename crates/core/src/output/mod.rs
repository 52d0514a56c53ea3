//! Renderers of a [`Report`](crate::model::Report): one module per output format.
//!
//! Every renderer is a pure function from the report (and, where a format shows patched
//! text, the analysed file texts) to a string, so each can be tested without the CLI.

pub mod diff;
pub mod fingerprint;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod rdjson;
pub mod sarif;
pub mod stream;
pub mod text;

use crate::model::FileReport;
use crate::yaml::Source;
use std::collections::BTreeMap;

/// The analysed texts (after any BOM), keyed by report path; renderers that show patches use it.
pub type Sources = BTreeMap<String, String>;

/// The output formats of `immutabot check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum OutputFormat {
    /// Human-readable, like a compiler's diagnostics.
    Text,
    /// The documented JSON report (version 1).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// GitLab Code Quality report.
    Gitlab,
    /// reviewdog's Diagnostic Format (rdjson), suggestions included.
    Rdjson,
}

/// The line index of `text`, built once per file and only when one of its findings carries a
/// patch to measure or show: built per finding, it made every format quadratic in the file.
pub fn patch_index<'a>(file: &FileReport, text: Option<&'a str>) -> Option<Source<'a>> {
    let has_fix = file.findings.iter().any(|f| f.fix.is_some());
    text.filter(|_| has_fix).map(Source::new)
}
