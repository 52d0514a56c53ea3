//! `--format gitlab`: a GitLab Code Quality report (a JSON array of Code Climate issues).

use crate::model::{Report, Severity};
use crate::output::fingerprint;
use serde_json::{Value, json};

/// The Code Quality issues for every unsuppressed finding, as pretty JSON.
///
/// GitLab has no notion of a suppressed issue, so suppressed findings are left out.
pub fn render(report: &Report) -> String {
    let mut issues: Vec<Value> = Vec::new();
    for file in &report.files {
        let prints = fingerprint::all(file);
        for (f, print) in file.findings.iter().zip(prints) {
            if f.suppressed.is_some() {
                continue;
            }
            issues.push(json!({
                "description": f.message,
                "check_name": f.rule,
                "fingerprint": print,
                "severity": severity(f.severity),
                "location": {
                    "path": file.path,
                    "lines": { "begin": f.line, "end": f.end_line.max(f.line) },
                },
            }));
        }
    }
    let mut s = serde_json::to_string_pretty(&issues).expect("JSON values always serialise");
    s.push('\n');
    s
}

/// GitLab's severity for ours: a writable root file system is critical, not a blocker.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}
