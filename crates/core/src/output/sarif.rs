//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it.
//!
//! Every rule the tool knows is listed (so `ruleIndex` values never move), every finding is a
//! result (suppressed ones carry `suppressions`, which code scanning shows as dismissed), and
//! fixes are whole-line `replacements`.

use crate::model::{FileReport, Finding, Fix, Report, Severity, SuppressionKind};
use crate::output::{OutputFormat, Sources, fingerprint, stream, text};
use crate::rules::RuleId;
use serde_json::{Value, json};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/immutabot/immutabot";

/// The SARIF log for `report`; `sources` gives the texts needed to describe some fixes exactly.
pub fn render(report: &Report, sources: &Sources) -> String {
    stream::render_all(
        OutputFormat::Sarif,
        text::Options::default(),
        report
            .files
            .iter()
            .map(|f| (f, sources.get(&f.path).map(String::as_str))),
    )
}

/// The SARIF log as a JSON value.
pub fn log(report: &Report, sources: &Sources) -> Value {
    log_with_results(
        report
            .files
            .iter()
            .flat_map(|file| file_results(file, sources.get(&file.path).map(String::as_str)))
            .collect(),
    )
}

/// The SARIF log around a list of results.
pub fn log_with_results(results: Vec<Value>) -> Value {
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "immutabot",
                    "informationUri": INFORMATION_URI,
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": RuleId::ALL.iter().map(|r| rule(*r)).collect::<Vec<_>>(),
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn rule(r: RuleId) -> Value {
    let sev = r.default_severity();
    json!({
        "id": r.as_str(),
        "name": pascal_case(r.as_str()),
        "shortDescription": { "text": r.title() },
        "fullDescription": { "text": format!("{}. See {} for why it matters and how to fix it.", r.title(), r.help_uri()) },
        "helpUri": r.help_uri(),
        "defaultConfiguration": { "level": level(sev) },
        "properties": {
            "tags": ["security"],
            "security-severity": security_severity(sev),
        },
    })
}

/// The results for one file's findings.
pub fn file_results(file: &FileReport, text: Option<&str>) -> Vec<Value> {
    let prints = fingerprint::all(file);
    let src = crate::output::patch_index(file, text);
    file.findings
        .iter()
        .zip(prints)
        .map(|(f, print)| result(file, f, print, src.as_ref()))
        .collect()
}

fn result(
    file: &FileReport,
    f: &Finding,
    print: String,
    text: Option<&crate::yaml::Source<'_>>,
) -> Value {
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": f.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact(&file.path),
                "region": {
                    "startLine": f.line.max(1),
                    "startColumn": f.column.max(1),
                    "endLine": f.end_line.max(f.line).max(1),
                }
            }
        }],
        "partialFingerprints": { "immutabot/v1": print },
    });
    if let Some(index) = RuleId::ALL.iter().position(|r| r.as_str() == f.rule) {
        r["ruleIndex"] = json!(index);
    }
    if let Some(s) = &f.suppressed {
        let kind = match s.kind {
            SuppressionKind::Comment | SuppressionKind::Annotation => "inSource",
            SuppressionKind::Config => "external",
        };
        let mut sup = json!({ "kind": kind, "status": "accepted" });
        if !s.reason.is_empty() {
            sup["justification"] = json!(s.reason);
        }
        r["suppressions"] = json!([sup]);
    }
    if let Some(fix) = &f.fix {
        r["fixes"] = json!([{
            "description": { "text": fix.description },
            "artifactChanges": [{
                "artifactLocation": artifact(&file.path),
                "replacements": [{
                    "deletedRegion": deleted_region(fix, text),
                    "insertedContent": { "text": fix.replacement },
                }],
            }],
        }]);
    }
    r
}

fn artifact(path: &str) -> Value {
    json!({ "uri": uri(path), "uriBaseId": "%SRCROOT%" })
}

/// The region a whole-line fix deletes: from the start of `start_line` to the start of the
/// line after `end_line`, so the deleted text includes the last line's ending.
///
/// When the range ends the file without a final newline there is no next line; the region
/// then ends after the last character of `end_line` (which needs the text to measure).
fn deleted_region(fix: &Fix, text: Option<&crate::yaml::Source<'_>>) -> Value {
    let start = fix.start_line.max(1);
    let end = fix.end_line.max(start);
    if !fix.replacement.is_empty()
        && !fix.replacement.ends_with('\n')
        && let Some(src) = text
        && end <= src.line_count()
        && !src.has_eol(end)
    {
        return json!({
            "startLine": start,
            "startColumn": 1,
            "endLine": end,
            "endColumn": src.line(end).chars().count() + 1,
        });
    }
    json!({ "startLine": start, "startColumn": 1, "endLine": end + 1, "endColumn": 1 })
}

/// A relative path as a URI reference: percent-encode what a URI cannot hold literally.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// SARIF's level for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The score GitHub code scanning maps to critical/high/medium/low (it expects a string).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "7.5",
        Severity::Warning => "5.0",
        Severity::Info => "2.0",
    }
}

fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}
