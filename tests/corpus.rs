//! The real-world corpus (`../shared/corpus`): every service and container agrees with the
//! hand-checked ground truth in `expected.tsv`.

use immutabot::analyze::{Resolver, analyze};
use immutabot::config::Config;
use immutabot::model::{FileReport, ReadOnly};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `../shared/corpus` beside the checkout (as CI lays it out), or `IMMUTABOT_CORPUS`.
fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("IMMUTABOT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        dir.join("expected.tsv").is_file(),
        "the corpus is not at {}: put shared/ beside the checkout or set IMMUTABOT_CORPUS",
        dir.display()
    );
    dir
}

/// The corpus flattens `owner/repo/dir/file` into `owner__repo__dir__file`: a file that
/// `extends` a sibling is found under the same prefix.
struct Flattened {
    dir: String,
    prefix: String,
}

impl Resolver for Flattened {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let rel = path.strip_prefix(&format!("{}/", self.dir))?;
        let name = format!("{}{}", self.prefix, rel.replace('/', "__"));
        std::fs::read(corpus_dir().join(&self.dir).join(name)).ok()
    }
}

fn analyse(file: &str) -> FileReport {
    let bytes = std::fs::read(corpus_dir().join(file)).expect("corpus file");
    let (dir, name) = file.split_once('/').unwrap();
    let prefix = match name.rfind("__") {
        Some(i) => name[..i + 2].to_string(),
        None => String::new(),
    };
    let resolver = Flattened {
        dir: dir.to_string(),
        prefix,
    };
    analyze(file, &bytes, &Config::default(), &resolver)
}

#[test]
fn corpus_agrees_with_the_ground_truth() {
    let tsv = std::fs::read_to_string(corpus_dir().join("expected.tsv")).expect("expected.tsv");
    let mut by_file: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<String> = line.split('\t').map(str::to_string).collect();
        by_file.entry(cols[0].clone()).or_default().push(cols);
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, rows) in &by_file {
        let report = analyse(file);
        let mut seen = vec![false; report.units.len()];
        for row in rows {
            let (entity, kind, truth, line) = (&row[2], &row[3], &row[4], &row[7]);
            if entity == "*" || entity == "-" || kind == "semgrep-extra" {
                continue;
            }
            let found = report.units.iter().position(|u| {
                let id = match &u.container {
                    Some(c) => format!("{}/{c}", u.workload),
                    None => u.workload.clone(),
                };
                &id == entity
            });
            let Some(i) = found else {
                failures.push(format!("{file}: {entity}: not found in the inventory"));
                continue;
            };
            seen[i] = true;
            checked += 1;
            let unit = &report.units[i];
            let ok = match truth.as_str() {
                "yes" => unit.read_only == ReadOnly::True,
                "no" => unit.read_only == ReadOnly::False,
                "unknown" => {
                    unit.read_only == ReadOnly::Unknown
                        || report.findings.iter().any(|f| {
                            f.rule == "invalid-file"
                                || (f.rule == "read-only-unknown"
                                    && f.workload.as_deref() == Some(&unit.workload))
                        })
                }
                _ => true,
            };
            if !ok {
                failures.push(format!(
                    "{file}: {entity}: truth {truth}, got {:?}",
                    unit.read_only
                ));
            }
            if !line.is_empty() && line.parse::<usize>().ok() != Some(unit.line) {
                failures.push(format!(
                    "{file}: {entity}: line {line} expected, got {}",
                    unit.line
                ));
            }
            if truth == "unknown"
                && unit.read_only == ReadOnly::Unknown
                && !report.findings.iter().any(|f| {
                    f.rule == "invalid-file"
                        || (f.rule == "read-only-unknown"
                            && f.workload.as_deref() == Some(&unit.workload))
                })
            {
                failures.push(format!(
                    "{file}: {entity}: unknown without a finding saying why"
                ));
            }
        }
        // A file judged unknown as a whole (`*`) may list its units, as unknown.
        let whole_file_unknown = rows.iter().any(|r| r[2] == "*" && r[4] == "unknown");
        for (i, s) in seen.iter().enumerate() {
            let excused = whole_file_unknown && report.units[i].read_only == ReadOnly::Unknown;
            if !s && !excused {
                let u = &report.units[i];
                failures.push(format!(
                    "{file}: unexpected unit {} {:?} at line {}",
                    u.workload, u.container, u.line
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements ({checked} units checked):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 250, "only {checked} units checked");
}
