//! `--format gitlab`: a GitLab Code Quality report (a JSON array of Code Climate issues).

use crate::model::{FileReport, Report, Severity};
use crate::output::{OutputFormat, fingerprint, stream, text};
use serde_json::{Value, json};

/// The Code Quality issues for every unsuppressed finding, as pretty JSON.
///
/// GitLab has no notion of a suppressed issue, so suppressed findings are left out.
pub fn render(report: &Report) -> String {
    stream::render_all(
        OutputFormat::Gitlab,
        text::Options::default(),
        report.files.iter().map(|f| (f, None)),
    )
}

/// One file's issues.
pub fn issues(file: &FileReport) -> Vec<Value> {
    let prints = fingerprint::all(file);
    file.findings
        .iter()
        .zip(prints)
        .filter(|(f, _)| f.suppressed.is_none())
        .map(|(f, print)| {
            json!({
                "description": f.message,
                "check_name": f.rule,
                "fingerprint": print,
                "severity": severity(f.severity),
                "location": {
                    "path": file.path,
                    "lines": { "begin": f.line, "end": f.end_line.max(f.line) },
                },
            })
        })
        .collect()
}

/// GitLab's severity for ours: a writable root file system is critical, not a blocker.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}
