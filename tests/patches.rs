//! Patches, as the user sees them: for each fixture, every finding and the exact lines its
//! suggestion replaces. Then the properties every patch must keep.

use immutabot::analyze::{NoFiles, analyze};
use immutabot::config::Config;
use immutabot::model::{FileReport, Finding, Fix};
use immutabot::patch;
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
    analyze(name, text.as_bytes(), &Config::default(), &NoFiles)
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

/// Applies `fix` and checks the four properties of a patch.
fn check_fix(name: &str, text: &str, f: &Finding, fix: &Fix) {
    let patched = patch::apply(text, fix).expect("fix applies");
    // 1. The patched file parses.
    let s = Stream::parse(&patched, Limits::default());
    assert!(
        s.error.is_none(),
        "{name}: patched file does not parse: {:?}\n{patched}",
        s.error
    );
    // 2. Nothing outside the replaced lines changed.
    let before: Vec<&str> = text.split_inclusive('\n').collect();
    let after: Vec<&str> = patched.split_inclusive('\n').collect();
    let head = fix.start_line - 1;
    let tail = before.len() - fix.end_line;
    assert_eq!(before[..head], after[..head], "{name}: lines above changed");
    assert_eq!(
        before[before.len() - tail..],
        after[after.len() - tail..],
        "{name}: lines below changed"
    );
    // 3. The rule no longer fires on that unit.
    let again = run(name, &patched);
    let same =
        |g: &Finding| g.rule == f.rule && g.workload == f.workload && g.container == f.container;
    let left: Vec<&Finding> = again.findings.iter().filter(|g| same(g)).collect();
    assert!(
        left.is_empty() || f.rule == "tmpfs-owned-by-root" && left.iter().all(|g| g.line != f.line),
        "{name}: {} still fires after its fix:\n{patched}\n{left:?}",
        f.rule
    );
    // 4. Applying it again changes nothing: no fix is left for that rule and unit.
    assert!(
        again
            .findings
            .iter()
            .filter(|g| same(g))
            .all(|g| g.fix.is_none() || g.line != f.line),
        "{name}: a second fix is offered"
    );
    // No new invalid-file finding.
    assert!(
        !again.findings.iter().any(|g| g.rule == "invalid-file"),
        "{name}: the patch broke the file:\n{patched}"
    );
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
                check_fix(&name, &text, f, fix);
            }
        }
    }
}
