//! The bundled examples: the compliant scenarios of the original design notes pass, their
//! writable twins fail, and applying every patch makes the twins pass.

use immutabot::analyze::{NoFiles, analyze};
use immutabot::config::Config;
use immutabot::model::{FileReport, ReadOnly};
use immutabot::patch;
use std::path::Path;

fn examples() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".yml") || name.ends_with(".yaml") {
                let rel = f
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&f).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn run(path: &str, text: &str) -> FileReport {
    analyze(path, text.as_bytes(), &Config::default(), &NoFiles)
}

#[test]
fn compliant_examples_are_read_only() {
    for (path, text) in examples() {
        if path.contains("writable") || path.starts_with("swarm-stack") {
            continue;
        }
        let r = run(&path, &text);
        assert!(!r.units.is_empty(), "{path}: no units");
        for u in &r.units {
            assert_eq!(u.read_only, ReadOnly::True, "{path}: {u:?}");
        }
        let errors: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.severity >= immutabot::model::Severity::Warning)
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:#?}");
    }
}

#[test]
fn writable_twins_fail_and_their_patches_fix_them() {
    for (path, text) in examples() {
        if !path.contains("writable") {
            continue;
        }
        let r = run(&path, &text);
        assert!(
            r.findings
                .iter()
                .any(|f| f.rule == "writable-root-filesystem"),
            "{path}: no writable finding"
        );
        let mut text = text;
        for _ in 0..10 {
            let r = run(&path, &text);
            let (next, applied) =
                patch::apply_all(&text, r.findings.iter().filter_map(|f| f.fix.as_ref()));
            text = next;
            if applied == 0 {
                break;
            }
        }
        let r = run(&path, &text);
        for u in &r.units {
            assert_eq!(
                u.read_only,
                ReadOnly::True,
                "{path} after fixes: {u:?}\n{text}"
            );
        }
        assert!(
            !r.findings.iter().any(|f| f.fix.is_some()),
            "{path}: fixes left after fixing:\n{text}\n{:#?}",
            r.findings
        );
    }
}

#[test]
fn swarm_example_flags_ignored_tmpfs() {
    let (path, text) = examples()
        .into_iter()
        .find(|(p, _)| p.starts_with("swarm-stack"))
        .unwrap();
    let r = run(&path, &text);
    assert!(
        r.findings.iter().any(|f| f.rule == "swarm-tmpfs-ignored"),
        "{:#?}",
        r.findings
    );
}
