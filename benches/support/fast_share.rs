//! How much of a set of folders the fast YAML scanner reads, and why it declines the rest.
//!
//!     cargo run --release --example fast-share -- DIR...
//!
//! Walks the folders (files `*.yaml`, `*.yml`, `*.json`) and prints markdown: a line
//! `fast path: X of Y bytes (Z %), N of M files` and a table of declines by reason. A
//! byte-order mark is stripped first, as `analyze` does; invalid UTF-8 counts as a decline.

use immutabot::yaml::{Limits, fast};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x, "yaml" | "yml" | "json"))
        {
            out.push(p);
        }
    }
}

fn main() {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: fast-share DIR...");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    for d in &dirs {
        files_under(Path::new(d), &mut files);
    }
    let (mut bytes, mut bytes_ok, mut ok) = (0usize, 0usize, 0usize);
    // Reason -> (files, bytes, largest file).
    let mut declines: BTreeMap<&'static str, (usize, usize, (usize, String))> = BTreeMap::new();
    for f in &files {
        let Ok(raw) = std::fs::read(f) else { continue };
        bytes += raw.len();
        let body = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw);
        let why = match std::str::from_utf8(body) {
            Err(_) => "invalid UTF-8",
            Ok(text) => match fast::scan(text, Limits::default()) {
                Ok(_) => {
                    ok += 1;
                    bytes_ok += raw.len();
                    continue;
                }
                Err(d) => d.0,
            },
        };
        let e = declines.entry(why).or_default();
        e.0 += 1;
        e.1 += raw.len();
        if raw.len() > e.2.0 {
            e.2 = (raw.len(), f.display().to_string());
        }
    }
    let pct = |n: usize, d: usize| {
        if d == 0 {
            0.0
        } else {
            n as f64 * 100.0 / d as f64
        }
    };
    println!(
        "fast path: {bytes_ok} of {bytes} bytes ({:.1} %), {ok} of {} files",
        pct(bytes_ok, bytes),
        files.len()
    );
    if declines.is_empty() {
        return;
    }
    let mut rows: Vec<_> = declines.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.1));
    println!();
    println!("| declined because | files | bytes | largest |");
    println!("|---|---:|---:|---|");
    for (why, (n, b, (_, largest))) in rows {
        println!("| {why} | {n} | {b} | {largest} |");
    }
}
