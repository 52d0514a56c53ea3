//! A stand-in for `immutabot check --format json DIR` while the CLI is being written:
//! `cargo run --release --example analyze-dir -- [--threads N] DIR...`.
//!
//! Walks the directories, analyses every candidate file with [`immutabot::analyze::analyze`]
//! on N threads (default: `RAYON_NUM_THREADS`, else all cores) and prints the JSON report.
//! `scripts/bench` uses it only when `immutabot check` does not work yet.

use immutabot::analyze::{NoFiles, analyze, is_candidate};
use immutabot::config::Config;
use immutabot::model::Report;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else if is_candidate(&path.to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut roots = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--threads" || a == "-j" {
            threads = args
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("--threads needs a number"))?;
        } else if let Some(n) = a.strip_prefix("--threads=") {
            threads = n.parse()?;
        } else if a == "--format" {
            args.next(); // always JSON
        } else {
            roots.push(PathBuf::from(a));
        }
    }
    let mut files = Vec::new();
    for root in &roots {
        walk(root, &mut files)?;
    }
    let config = Config::default();
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::with_capacity(files.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let Ok(bytes) = std::fs::read(path) else {
                        continue;
                    };
                    let rel = path.to_string_lossy().replace('\\', "/");
                    mine.push(analyze(&rel, &bytes, &config, &NoFiles));
                }
                reports
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(mine);
            });
        }
    });
    let report = Report::new(reports.into_inner().unwrap_or_else(|e| e.into_inner()));
    let stdout = std::io::stdout().lock();
    serde_json::to_writer(std::io::BufWriter::new(stdout), &report)?;
    Ok(())
}
