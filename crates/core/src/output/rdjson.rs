//! `--format rdjson`: reviewdog's Diagnostic Format (a `DiagnosticResult` as JSON), so teams
//! that already run reviewdog can pipe us in: `immutabot check --format rdjson | reviewdog -f=rdjson`.
//!
//! Positions are 1-based; columns count UTF-8 bytes and range ends are exclusive, as the
//! format defines. A fix becomes a `suggestion` replacing whole lines: from column 1 of its
//! first line to column 1 of the line after its last, so the replaced text includes the
//! last line's ending, exactly like the replacement does. The diagnostic's own range names
//! lines only at its end (no column), which is what reviewdog needs to anchor a comment on
//! the lines of the finding. reviewdog has no notion of a suppression: suppressed findings
//! are left out, as in the GitLab report.

use crate::model::{FileReport, Finding, Fix, Report, Severity};
use crate::output::{OutputFormat, Sources, stream, text};
use crate::rules::RuleId;
use serde_json::{Value, json};

const INFORMATION_URI: &str = "https://github.com/immutabot/immutabot";

/// The `DiagnosticResult` for `report`; `sources` gives the texts needed to measure the last
/// line of a fix that ends the file without a newline.
pub fn render(report: &Report, sources: &Sources) -> String {
    stream::render_all(
        OutputFormat::Rdjson,
        text::Options::default(),
        report
            .files
            .iter()
            .map(|f| (f, sources.get(&f.path).map(String::as_str))),
    )
}

/// The `source` object naming the tool.
pub fn source() -> Value {
    json!({ "name": "immutabot", "url": INFORMATION_URI })
}

/// One file's diagnostics (unsuppressed findings only).
pub fn diagnostics(file: &FileReport, text: Option<&str>) -> Vec<Value> {
    let src = crate::output::patch_index(file, text);
    file.findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| diagnostic(file, f, src.as_ref()))
        .collect()
}

fn diagnostic(file: &FileReport, f: &Finding, text: Option<&crate::yaml::Source<'_>>) -> Value {
    let line = f.line.max(1);
    let mut d = json!({
        "message": f.message,
        "location": {
            "path": file.path,
            "range": {
                "start": { "line": line, "column": f.column.max(1) },
                "end": { "line": f.end_line.max(line) },
            },
        },
        "severity": severity(f.severity),
    });
    d["code"] = match RuleId::parse(&f.rule) {
        Some(rule) => json!({ "value": f.rule, "url": rule.help_uri() }),
        None => json!({ "value": f.rule }),
    };
    if let Some(fix) = &f.fix {
        d["suggestions"] = json!([{ "range": replaced_range(fix, text), "text": fix.replacement }]);
    }
    d
}

/// The range a whole-line fix replaces (end exclusive): up to column 1 of the next line, or,
/// when the range ends the file without a final newline, just past the last line's bytes.
fn replaced_range(fix: &Fix, text: Option<&crate::yaml::Source<'_>>) -> Value {
    let start = fix.start_line.max(1);
    let end = fix.end_line.max(start);
    if !fix.replacement.is_empty()
        && !fix.replacement.ends_with('\n')
        && let Some(src) = text
        && end <= src.line_count()
        && !src.has_eol(end)
    {
        return json!({
            "start": { "line": start, "column": 1 },
            "end": { "line": end, "column": src.line(end).len() + 1 },
        });
    }
    json!({
        "start": { "line": start, "column": 1 },
        "end": { "line": end + 1, "column": 1 },
    })
}

/// reviewdog's severity name for ours.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}
