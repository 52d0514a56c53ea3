//! The analysis core's output types: what every front end (CLI, GitHub, report) consumes.
//!
//! These types are serialised as the documented JSON shape (`--format json`, version 1), so
//! field names and enum spellings are part of the public contract: add, never rename.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of file the core recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Docker Compose (any version) or a Swarm stack file.
    Compose,
    /// One or more Kubernetes manifests.
    Kubernetes,
    /// Not analysed; `skipped_reason` says why.
    Skipped,
}

/// Where a unit sits in its workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A Compose service.
    Service,
    /// A Kubernetes `containers` entry.
    Container,
    /// A Kubernetes `initContainers` entry (native sidecars included).
    Init,
    /// A Kubernetes `ephemeralContainers` entry.
    Ephemeral,
}

/// The effective read-only status of a unit's root file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadOnly {
    /// Read-only.
    #[serde(rename = "true")]
    True,
    /// Writable.
    #[serde(rename = "false")]
    False,
    /// Only known at deploy time, or the value would be rejected by the target.
    Unknown,
    /// Writable (or undecided), but a suppression exempts it. Never counted as compliant.
    Suppressed,
}

/// How serious a finding is; ordered so that `Error > Warning > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a check by default.
    Info,
    /// Likely a problem.
    Warning,
    /// The root file system is writable or the check cannot be trusted.
    Error,
}

impl Severity {
    /// The lowercase name used in JSON, config files and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity `{other}` (expected info, warning or error)"
            )),
        }
    }
}

/// A service or container whose root file system the core judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Compose: the service name. Kubernetes: `Kind/name`.
    pub workload: String,
    /// Kubernetes `metadata.namespace`, when the manifest sets one.
    pub namespace: Option<String>,
    /// Kubernetes container name; `None` for Compose services.
    pub container: Option<String>,
    /// Where the unit sits in its workload.
    pub role: Role,
    /// The image reference as written (after merges and `extends`), if any.
    pub image: Option<String>,
    /// 1-based line of the service key or of the container's `name:`.
    pub line: usize,
    /// The effective read-only status.
    pub read_only: ReadOnly,
    /// A Compose service with no image or build of its own (an override fragment, an
    /// `extends` base): listed and judged on what the file says. Only written when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// A replacement of whole lines: exactly what a GitHub ```` ```suggestion ```` block applies.
///
/// `replacement` holds the new lines, each ending with the file's own line ending, except
/// that the last one has none when the replaced range ended the file without one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// One line saying what the patch does.
    pub description: String,
    /// First replaced line, 1-based.
    pub start_line: usize,
    /// Last replaced line, 1-based, inclusive.
    pub end_line: usize,
    /// The text that takes the place of lines `start_line..=end_line`.
    pub replacement: String,
}

/// Why a finding does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Where the suppression came from: `comment`, `annotation` or `config`.
    pub kind: SuppressionKind,
    /// The reason given, if any.
    pub reason: String,
    /// The last day the suppression holds (`expires=` / `expires:`); it lapses the day after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<crate::date::Date>,
    /// Where it is written, as a person reads it (the comment's line, the config entry).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub origin: String,
}

/// Where a suppression was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// `# immutabot:ignore <rule> <reason>` on or above the unit.
    Comment,
    /// The workload's `immutabot.dev/exempt-containers` annotation.
    Annotation,
    /// `.immutabot.yml` `exempt` globs.
    Config,
}

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `writable-root-filesystem`.
    pub rule: String,
    /// Effective severity (after `.immutabot.yml`).
    pub severity: Severity,
    /// 1-based line the finding points at.
    pub line: usize,
    /// 1-based last line of the offending construct.
    pub end_line: usize,
    /// 1-based column on `line`.
    pub column: usize,
    /// What is wrong and why it matters, in one or two sentences.
    pub message: String,
    /// The unit's workload, when the finding is about one.
    pub workload: Option<String>,
    /// The unit's container (Kubernetes only).
    pub container: Option<String>,
    /// The patch that fixes it, when one can be made safely.
    pub fix: Option<Fix>,
    /// Set when a suppression exempts this finding; suppressed findings never fail a check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// The suppression that covered this finding until it expired; the finding counts again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<Suppression>,
}

/// Everything the core says about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReport {
    /// The path as given (forward slashes).
    pub path: String,
    /// What the file was recognised as.
    pub format: Format,
    /// Why the file was skipped, when `format` is `skipped`.
    pub skipped_reason: Option<String>,
    /// Every service or container in the file.
    pub units: Vec<Unit>,
    /// Every finding, suppressed ones included (marked).
    pub findings: Vec<Finding>,
    /// Set when the units and findings come from rendering a chart or kustomization: the
    /// file is the template or resource they originate from. Only written when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<Rendered>,
}

/// Which render a file's units and findings come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// The renderer.
    pub tool: RenderTool,
    /// The chart or kustomization folder that was rendered, as reported.
    pub root: String,
    /// Helm: the values file of each render that showed them (`values.yaml`: the defaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// What rendered a file's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderTool {
    /// `helm template`.
    Helm,
    /// `kubectl kustomize` / `kustomize build`.
    Kustomize,
}

/// Counts over a whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Files reported (analysed or skipped).
    pub files: usize,
    /// Units found.
    pub units: usize,
    /// Units whose root file system is read-only.
    pub read_only: usize,
    /// Units exempted by a suppression.
    pub suppressed: usize,
    /// Findings that are not suppressed.
    pub findings: usize,
    /// Files reported but not checked (templates, files that are not valid YAML, …).
    #[serde(default)]
    pub skipped: usize,
}

impl Summary {
    /// Counts one more file.
    pub fn add(&mut self, file: &FileReport) {
        self.files += 1;
        self.skipped += usize::from(file.format == Format::Skipped);
        self.units += file.units.len();
        self.read_only += file
            .units
            .iter()
            .filter(|u| u.read_only == ReadOnly::True)
            .count();
        self.suppressed += file
            .units
            .iter()
            .filter(|u| u.read_only == ReadOnly::Suppressed)
            .count();
        self.findings += file
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .count();
    }
}

impl FileReport {
    /// The highest severity among this file's findings that are not suppressed.
    pub fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| f.severity)
            .max()
    }
}

/// The result of a run: the documented JSON shape, version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Shape version; bumped only on incompatible changes.
    pub version: u32,
    /// One entry per file, in path order.
    pub files: Vec<FileReport>,
    /// Counts over `files`.
    pub summary: Summary,
}

impl Report {
    /// Builds a report from file reports, sorting them by path and computing the summary.
    pub fn new(mut files: Vec<FileReport>) -> Report {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut summary = Summary::default();
        for file in &files {
            summary.add(file);
        }
        Report {
            version: 1,
            files,
            summary,
        }
    }

    /// The highest severity among findings that are not suppressed.
    pub fn worst(&self) -> Option<Severity> {
        self.files.iter().filter_map(FileReport::worst).max()
    }
}
