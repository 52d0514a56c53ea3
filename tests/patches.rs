//! Patches, as the user sees them: for each fixture, every finding and the exact lines its
//! suggestion replaces. Then the properties every patch must keep.
//!
//! The flow and JSON fixtures are real files or shaped like them: `k8s-flow-trailing-commas`
//! is the Kubernetes website's `indexed-job.yaml` (JSON-style flow, a trailing comma after
//! every entry), `k8s-pod.json` and `k8s-json-stream.json` follow kubectl's own test data
//! (`hack/testdata/pod-with-precision.json`, `multi-resource-json.json`: objects one after
//! another, tight `"key":value` spacing mixed with `"key": value`), `k8s-json-lines.json`
//! is what `jq -c` writes, `compose.json` a Compose file kept as JSON.

#[path = "support/promises.rs"]
mod promises;

use immutabot::analyze::{NoFiles, analyze};
use immutabot::cli::fix::fix_bytes;
use immutabot::config::Config;
use immutabot::model::{FileReport, Finding};
use immutabot::output::diff::{self, Change};
use immutabot::yaml::{Limits, Stream};
use std::path::Path;

fn fixtures() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn run(name: &str, text: &str) -> FileReport {
    promises::run(name, text)
}

/// A finding and its suggestion, the way a reviewer reads it.
fn render(text: &str, f: &Finding) -> String {
    let mut out = format!(
        "{}:{} {} [{}] {}\n",
        f.line, f.column, f.severity, f.rule, f.message
    );
    if let Some(fix) = &f.fix {
        out.push_str(&format!(
            "  fix: {} (lines {}-{})\n",
            fix.description, fix.start_line, fix.end_line
        ));
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for l in &lines[fix.start_line - 1..fix.end_line] {
            out.push_str(&format!("  - {}\n", l.trim_end_matches(['\n', '\r'])));
        }
        for l in fix.replacement.split_inclusive('\n') {
            out.push_str(&format!("  + {}\n", l.trim_end_matches(['\n', '\r'])));
        }
    }
    out
}

#[test]
fn patch_snapshots() {
    for (name, text) in fixtures() {
        let report = run(&name, &text);
        let body: String = report.findings.iter().map(|f| render(&text, f)).collect();
        insta::assert_snapshot!(name.clone(), body);
    }
}

#[test]
fn patches_keep_crlf_line_endings() {
    let (name, text) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "k8s-pod-crlf.yaml")
        .unwrap();
    let report = run(&name, &text);
    let fix = report.findings[0].fix.as_ref().unwrap();
    assert!(fix.replacement.ends_with("\r\n"));
    assert_eq!(
        fix.replacement.matches('\n').count(),
        fix.replacement.matches("\r\n").count()
    );
}

#[test]
fn every_fixture_patch_keeps_its_promises() {
    for (name, text) in fixtures() {
        let report = run(&name, &text);
        for f in &report.findings {
            if let Some(fix) = &f.fix {
                promises::assert_patch_keeps_promises(&name, &text, f, fix);
            }
        }
    }
}

/// The JSON values of a text read as a stream of them.
fn json_values(text: &str) -> Result<usize, String> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<serde::de::IgnoredAny>()
        .try_fold(0, |n, v| v.map(|_| n + 1).map_err(|e| e.to_string()))
}

/// `--fix` on the flow and JSON fixtures, as the `--diff` a user reads. The fixed file
/// parses, checks clean, stays JSON (as many objects as before) and a second `--fix` has
/// nothing left to do.
#[test]
fn fix_diffs_of_flow_and_json_files() {
    for (name, text) in fixtures()
        .into_iter()
        .filter(|(n, _)| n.ends_with(".json") || n.contains("flow"))
    {
        let analyze_it = |b: &[u8]| analyze(&name, b, &Config::default(), &NoFiles);
        let fixed = fix_bytes(text.clone().into_bytes(), analyze_it);
        let after = String::from_utf8(fixed.bytes.clone()).unwrap();
        let change = Change {
            path: name.clone(),
            before: text.clone(),
            after: after.clone(),
        };
        insta::assert_snapshot!(format!("fix_diff_{name}"), diff::render(&[change]));
        assert!(
            Stream::parse(&after, Limits::default()).error.is_none(),
            "{name}:\n{after}"
        );
        let left: Vec<&Finding> = fixed
            .report
            .findings
            .iter()
            .filter(|f| f.rule == "writable-root-filesystem" || f.rule == "invalid-file")
            .collect();
        assert!(left.is_empty(), "{name}: {left:#?}");
        if name.ends_with(".json") {
            assert_eq!(json_values(&after), json_values(&text), "{name}:\n{after}");
        }
        let again = fix_bytes(fixed.bytes, analyze_it);
        assert_eq!(again.applied, 0, "{name}: a second --fix changes it");
    }
}

/// A stream of JSON objects is read like a multi-document YAML stream: every workload in it
/// is a unit, at the line of its container's `name`.
#[test]
fn json_streams_are_read_object_by_object() {
    for name in ["k8s-json-stream.json", "k8s-json-lines.json"] {
        let (_, text) = fixtures().into_iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(json_values(&text), Ok(2));
        let report = run(name, &text);
        let units: Vec<String> = report
            .units
            .iter()
            .map(|u| {
                let line = text.lines().nth(u.line - 1).unwrap();
                let name = format!("\"{}\"", u.container.as_deref().unwrap());
                assert!(line.contains(&name), "{name} is not on line {}", u.line);
                format!("{}:{} {} {:?}", u.line, u.workload, name, u.read_only)
            })
            .collect();
        insta::assert_snapshot!(format!("units_{name}"), units.join("\n"));
    }
}
