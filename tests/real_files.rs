//! Every real file we have, checked as a user would: `../shared/bench-corpus` (602 files
//! from public repositories) and `../shared/corpus`. No crash, no valid YAML skipped as a
//! template, every unit on its service key or `name:`, and `--fix` output that parses,
//! checks clean for the rule it fixed, stays JSON when it was JSON, and is a fixed point.

use immutabot::analyze::{analyze, is_candidate};
use immutabot::cli::fix::fix_bytes;
use immutabot::cli::resolver::FsResolver;
use immutabot::config::Config;
use immutabot::model::{FileReport, Format};
use immutabot::yaml::{Limits, Stream};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel)
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if is_candidate(&p.to_string_lossy()) {
            out.push(p);
        }
    }
}

/// Every candidate file of a corpus, as (path relative to the corpus, bytes).
fn corpus(rel: &str) -> (PathBuf, Vec<(String, Vec<u8>)>) {
    let root = shared(rel);
    let mut paths = Vec::new();
    files_under(&root, &mut paths);
    paths.sort();
    assert!(paths.len() > 50, "{}: too few files", root.display());
    let files = paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read(&p).unwrap())
        })
        .collect();
    (root, files)
}

/// What is wrong with one file's report, if anything.
fn problems(path: &str, bytes: &[u8], r: &FileReport) -> Vec<String> {
    let mut out = Vec::new();
    let text = String::from_utf8_lossy(bytes);
    if let Some(reason) = r
        .skipped_reason
        .as_deref()
        .filter(|r| r.starts_with("template"))
        && Stream::parse(&text, Limits::default()).error.is_none()
    {
        out.push(format!("{path}: valid YAML skipped: {reason}"));
    }
    let lines: Vec<&str> = text.lines().collect();
    for u in &r.units {
        let line = lines.get(u.line.saturating_sub(1)).copied().unwrap_or("");
        let ok = match r.format {
            Format::Kubernetes => line.contains("name"),
            _ => {
                let t = line.trim_start().trim_start_matches(['"', '\'']);
                t.starts_with(&u.workload)
            }
        };
        if !ok {
            out.push(format!(
                "{path}:{}: unit {} {:?} is not on its key or `name:` ({line:?})",
                u.line, u.workload, u.container
            ));
        }
    }
    out
}

fn writable_with_fix(r: &FileReport) -> usize {
    r.findings
        .iter()
        .filter(|f| f.rule == "writable-root-filesystem" && f.fix.is_some())
        .filter(|f| f.suppressed.is_none())
        .count()
}

/// What is wrong with the file `--fix` writes, if anything.
fn fix_problems(path: &str, bytes: &[u8], analyze: &dyn Fn(&[u8]) -> FileReport) -> Vec<String> {
    let fixed = fix_bytes(bytes.to_vec(), analyze);
    if fixed.applied == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let before = String::from_utf8_lossy(bytes);
    let after = String::from_utf8_lossy(&fixed.bytes);
    let parsed_before = Stream::parse(&before, Limits::default()).error.is_none();
    if parsed_before && let Some(e) = Stream::parse(&after, Limits::default()).error {
        out.push(format!("{path}: --fix output does not parse: {e:?}"));
    }
    if writable_with_fix(&fixed.report) > 0 {
        out.push(format!(
            "{path}: --fix left writable units it had a fix for"
        ));
    }
    if path.ends_with(".json")
        && serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
        && serde_json::from_slice::<serde_json::Value>(&fixed.bytes).is_err()
    {
        out.push(format!("{path}: --fix made a JSON file no longer JSON"));
    }
    let again = fix_bytes(fixed.bytes.clone(), analyze);
    if again.bytes != fixed.bytes {
        out.push(format!("{path}: --fix is not idempotent"));
    }
    out
}

fn check_corpus(rel: &str) {
    let (root, files) = corpus(rel);
    let resolver = FsResolver::new(&root);
    let config = Config::default();
    let all: Vec<String> = files
        .par_iter()
        .flat_map_iter(|(path, bytes)| {
            let analyze = |b: &[u8]| analyze(path, b, &config, &resolver);
            let r = analyze(bytes);
            let mut p = problems(path, bytes, &r);
            p.extend(fix_problems(path, bytes, &analyze));
            p
        })
        .collect();
    assert!(
        all.is_empty(),
        "{} problems:\n{}",
        all.len(),
        all.join("\n")
    );
}

#[test]
fn every_file_of_the_bench_corpus_is_checked_and_fixed_cleanly() {
    check_corpus("bench-corpus");
}

#[test]
fn every_file_of_the_labelled_corpus_is_checked_and_fixed_cleanly() {
    check_corpus("corpus");
}

#[test]
fn charts_and_kustomizations_walked_as_a_repository_hold_no_compose_service() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_immutabot"))
        // As files, the way a walk sees them; rendered, tests/render.rs checks them.
        .args(["check", "--format", "json", "--no-render"])
        .arg(shared("charts"))
        .arg(shared("kustomize"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    assert!(files.len() > 50, "{}", files.len());
    let mut units = 0;
    for f in files {
        let path = f["path"].as_str().unwrap();
        let name = path.rsplit('/').next().unwrap();
        assert_ne!(f["format"], "compose", "{path}");
        let values = name.starts_with("values") || name.ends_with("-values.yaml");
        let chart_test = path.contains("/tests/") && name.ends_with("_test.yaml");
        assert!(!values && !chart_test, "{path} is listed: {f}");
        for u in f["units"].as_array().unwrap() {
            let workload = u["workload"].as_str().unwrap();
            assert!(workload.contains('/'), "{path}: phantom unit {u}");
            units += 1;
        }
        if name.starts_with("kustomization") || name == "Kustomization" {
            assert!(f["units"].as_array().unwrap().is_empty(), "{path}");
        }
    }
    assert!(units > 0, "the kustomize bases' Deployments are checked");
}
