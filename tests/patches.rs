//! Patches, as the user sees them: for each fixture, every finding and the exact lines its
//! suggestion replaces. Then the properties every patch must keep.

#[path = "support/promises.rs"]
mod promises;

use immutabot::model::{FileReport, Finding};
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
