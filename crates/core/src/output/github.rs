//! `--format github`: GitHub Actions workflow commands, which become annotations on the run
//! and, for lines in the diff, on the pull request.

use crate::model::{FileReport, Report, Severity};
use std::fmt::Write;

/// One `::error`/`::warning`/`::notice` command per unsuppressed finding.
pub fn render(report: &Report) -> String {
    report.files.iter().map(file).collect()
}

/// The commands for one file's findings.
pub fn file(file: &FileReport) -> String {
    let mut out = String::new();
    for f in file.findings.iter().filter(|f| f.suppressed.is_none()) {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let _ = writeln!(
            out,
            "::{command} file={},line={},endLine={},col={},title={}::{}",
            escape_property(&file.path),
            f.line,
            f.end_line.max(f.line),
            f.column.max(1),
            escape_property(&f.rule),
            escape_data(&f.message),
        );
    }
    out
}

/// Escapes a command's message as `@actions/core` does.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value: like data, plus `:` and `,`, which delimit properties.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
