//! `render::helm_lines` against the real charts of `../shared/charts/` and the real `helm`:
//! annotating a chart must not change a byte of what it renders once the markers are stripped,
//! and the markers must place most rendered lines, container names included.

#[path = "support/tools.rs"]
mod tools;

use immutabot_core::render::helm_lines::{annotate, included_files, split_rendered, strip};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a render of `chart` is given besides the values it needs to render at all: a fixed
/// jenkins password instead of `randAlphaNum`, or the two renders differ anyway.
fn sets(chart: &str) -> &'static [&'static str] {
    match chart {
        "jenkins" => &["controller.admin.password=fixed-for-the-comparison"],
        _ => &[],
    }
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "immutabot-helm-lines-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap();
    p
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The chart and its subcharts (`charts/*` with a Chart.yaml), recursively.
fn chart_roots(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    if let Ok(rd) = fs::read_dir(dir.join("charts")) {
        for e in rd {
            let p = e.unwrap().path();
            if p.join("Chart.yaml").is_file() {
                chart_roots(&p, out);
            }
        }
    }
}

/// Annotates every template Helm renders by itself; returns file id → original text.
fn annotate_chart(dir: &Path) -> (BTreeMap<u32, String>, BTreeSet<String>) {
    let mut originals = BTreeMap::new();
    let mut annotated = BTreeSet::new();
    let mut roots = Vec::new();
    chart_roots(dir, &mut roots);
    for root in roots {
        let templates = root.join("templates");
        let mut files = Vec::new();
        files_under(&templates, &mut files);
        files.sort();
        let texts: Vec<String> = files
            .iter()
            .map(|f| fs::read_to_string(f).unwrap_or_default())
            .collect();
        let by_path: BTreeSet<PathBuf> = texts
            .iter()
            .flat_map(|t| included_files(t))
            .map(|rel| templates.join(rel))
            .collect();
        for (f, text) in files.iter().zip(texts) {
            let name = f.file_name().unwrap().to_string_lossy();
            let ext_ok = [".yaml", ".yml", ".tpl"].iter().any(|e| name.ends_with(e));
            if name.starts_with('_') || !ext_ok || by_path.contains(f) {
                continue;
            }
            let id = originals.len() as u32 + 1;
            fs::write(f, annotate(&text, id)).unwrap();
            originals.insert(id, text);
            let rel = f
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            annotated.insert(rel);
        }
    }
    (originals, annotated)
}

fn render(chart: &str, dir: &Path, home: &Path) -> Result<String, String> {
    let mut cmd = Command::new(tools::helm());
    cmd.env_clear()
        .env("HOME", home)
        .arg("template")
        .arg("t")
        .arg(dir);
    if let Some(v) = tools::required_values(chart) {
        cmd.arg("-f").arg(v);
    }
    for s in sets(chart) {
        cmd.arg("--set").arg(s);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        return Err(format!(
            "helm template {chart} ({}) failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8(out.stdout).unwrap())
}

/// The output with what changes from one render to the next masked: jenkins names its test Pod
/// with `randAlphaNum 5`, linkerd's heartbeat schedule is `now` plus ten minutes.
fn mask_volatile(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if let Some(i) = line.find("-ui-test-") {
            let at = i + "-ui-test-".len();
            out.push_str(&line[..at]);
            out.push_str("*****");
            out.push_str(line.get(at + 5..).unwrap_or(""));
        } else if line.trim_start().starts_with("schedule: \"") && line.contains(" * * *") {
            out.push_str("  schedule: *\n");
        } else {
            out.push_str(line);
        }
    }
    out
}

const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Pod",
    "ReplicaSet",
];

/// The `name:` line of each container: items of `containers:` / `initContainers:` lists, whose
/// name is the item's first line (`- name:`) or a key of it further down.
fn container_name_lines(text: &str) -> Vec<usize> {
    let mut found = Vec::new();
    // (list key indent, item dash indent, name of the current item seen)
    let mut list: Option<(usize, Option<usize>, bool)> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some((key, item, seen)) = list {
            let is_item = t.starts_with("- ");
            if indent < key || indent == key && !is_item {
                list = None;
            } else if is_item && item.is_none_or(|d| d == indent) {
                let named = t.starts_with("- name:");
                if named {
                    found.push(i);
                }
                list = Some((key, Some(indent), named));
                continue;
            } else {
                if !seen && item.is_some_and(|d| indent == d + 2) && t.starts_with("name:") {
                    found.push(i);
                    list = Some((key, item, true));
                }
                continue;
            }
        }
        if t == "containers:" || t == "initContainers:" {
            list = Some((indent, None, false));
        }
    }
    found
}

#[test]
fn annotated_charts_render_the_same_and_place_their_lines() {
    let charts_dir = tools::shared("charts");
    let mut charts: Vec<String> = fs::read_dir(&charts_dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("Chart.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    charts.sort();
    assert_eq!(charts.len(), 8, "charts in {}", charts_dir.display());
    let home = scratch("home");
    let mut failures = Vec::new();
    eprintln!(
        "{:<22} {:>6} {:>7} {:>6} {:>7} {:>5} {:>6} {:>6}",
        "chart", "lines", "placed", "in ann", "placed", "ctrs", "name:", "action"
    );
    for chart in &charts {
        let copy = scratch(chart);
        copy_dir(&charts_dir.join(chart), &copy);
        let (originals, annotated_files) = annotate_chart(&copy);
        let plain = render(chart, &charts_dir.join(chart), &home).unwrap();
        let annotated = render(chart, &copy, &home);
        let debug = std::env::var("HELM_LINES_DEBUG").is_ok_and(|c| &c == chart);
        if debug {
            eprintln!("annotated copy kept: {}", copy.display());
        } else {
            let _ = fs::remove_dir_all(&copy);
        }
        let annotated = match annotated {
            Ok(a) => a,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let (text, origins) = strip(&annotated);
        let (plain, masked) = (mask_volatile(&plain), mask_volatile(&text));
        if masked != plain {
            let diff = plain
                .lines()
                .zip(masked.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| format!("line {}: plain {a:?}, stripped {b:?}", i + 1))
                .unwrap_or_else(|| format!("lengths {} / {}", plain.len(), masked.len()));
            failures.push(format!(
                "{chart}: stripped output differs from plain render: {diff}"
            ));
        }
        assert_eq!(
            origins.len(),
            text.lines().count(),
            "{chart}: one origin per line"
        );
        let docs = split_rendered(&annotated);
        let (mut all, mut placed_all, mut own, mut placed_own) = (0, 0, 0, 0);
        let (mut names, mut at_name, mut at_action) = (0, 0, 0);
        for doc in &docs {
            let lines: Vec<&str> = doc.text.lines().collect();
            // Files included by path were left as they are: their lines have no markers.
            let rel = doc.source.split_once('/').map_or("", |(_, r)| r);
            let annotated_file = annotated_files.contains(rel);
            for (i, line) in lines.iter().enumerate() {
                let t = line.trim();
                if t.is_empty() || t == "---" || t.starts_with("# Source: ") {
                    continue;
                }
                let placed = doc.origins[i].is_some();
                all += 1;
                placed_all += placed as usize;
                if annotated_file {
                    own += 1;
                    placed_own += placed as usize;
                } else if debug {
                    eprintln!("not annotated {}: {line}", doc.source);
                }
                if debug && annotated_file && !placed {
                    eprintln!("unplaced {}:{}: {line}", doc.source, i + 1);
                }
            }
            // A container's name line points at a template line holding `name:`, or at the
            // action (an include of a partial, `toYaml` of values) that printed the container.
            let workload = lines.iter().any(|l| {
                WORKLOADS
                    .iter()
                    .any(|k| l.strip_prefix("kind: ") == Some(k))
            });
            if !workload {
                continue;
            }
            for i in container_name_lines(&doc.text) {
                names += 1;
                let origin = doc.origins[i].and_then(|(f, l)| {
                    originals
                        .get(&f)
                        .and_then(|t| t.lines().nth(l - 1))
                        .map(str::to_string)
                });
                match origin {
                    Some(t) if t.contains("name:") => at_name += 1,
                    Some(t) if t.contains("{{") => at_action += 1,
                    other => failures.push(format!(
                        "{chart}: container line {:?} maps to {other:?}",
                        lines[i]
                    )),
                }
            }
        }
        let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
        if pct(placed_own, own) < 80.0 {
            failures.push(format!(
                "{chart}: only {:.1}% of the lines of annotated files have an origin",
                pct(placed_own, own)
            ));
        }
        eprintln!(
            "{chart:<22} {all:>6} {:>6.1}% {own:>6} {:>6.1}% {names:>5} {at_name:>6} {at_action:>6}",
            pct(placed_all, all),
            pct(placed_own, own),
        );
    }
    let _ = fs::remove_dir_all(&home);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
