//! Criterion benchmarks of the analysis core over generated and real files.
//!
//! `cargo bench --bench analyze` (add `-- --quick` for a fast run). Groups:
//! - `mix`: 400 files of the default corpus mix (what `scripts/bench` writes to disk);
//! - `kind/*`: one family and size at a time (small Compose, medium Kubernetes, JSON, a ~1 MB bundle);
//! - `real`: real files, each skipped with a message when absent: `bench-corpus` (the 602 files,
//!   31 MB, of `../shared/bench-corpus`), `bench-corpus-compose` (its 203 Compose files) and
//!   `shared-corpus` (the 100 YAML files of `../shared/corpus`).
//!
//! Throughput is in bytes (decimal units), so criterion prints MB/s.

#[path = "support/corpus.rs"]
mod corpus;

use corpus::{Family, GenFile, Size};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use immutabot::analyze::{NoFiles, analyze};
use immutabot::config::Config;
use std::hint::black_box;
use std::path::{Path, PathBuf};

const SEED: u64 = 1;

fn run(c: &mut Criterion, group: &str, id: &str, files: &[GenFile]) {
    if files.is_empty() {
        return;
    }
    let config = Config::default();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::BytesDecimal(bytes as u64));
    if bytes > 10_000_000 {
        g.sample_size(10);
    } else if bytes > 2_000_000 {
        g.sample_size(20);
    }
    g.bench_function(id, |b| {
        b.iter(|| {
            for f in files {
                black_box(analyze(&f.path, black_box(&f.bytes), &config, &NoFiles));
            }
        })
    });
    g.finish();
}

fn mix(c: &mut Criterion) {
    // The default mix without the rare ~1 MB files, which `kind/huge` measures on its own.
    let files: Vec<GenFile> = (0..600)
        .map(|i| corpus::file(SEED, i))
        .filter(|f| f.bytes.len() < 200_000)
        .take(400)
        .collect();
    run(c, "mix", "400-files", &files);
}

fn kinds(c: &mut Criterion) {
    let cases = [
        ("compose-small", Family::Compose, Size::Small, 50),
        ("compose-large", Family::Compose, Size::Large, 5),
        ("k8s-small", Family::Kubernetes, Size::Small, 50),
        ("k8s-medium", Family::Kubernetes, Size::Medium, 20),
        ("k8s-huge", Family::Kubernetes, Size::Huge, 1),
    ];
    for (id, family, size, n) in cases {
        let files: Vec<GenFile> = (0..n)
            .map(|i| corpus::file_of(SEED, i, family, size))
            .collect();
        run(c, "kind", id, &files);
    }
    let json: Vec<GenFile> = (0..2000)
        .map(|i| corpus::file(SEED, i))
        .filter(|f| f.path.ends_with(".json"))
        .take(30)
        .collect();
    run(c, "kind", "k8s-json", &json);
}

/// `../shared/NAME` beside the checkout (or `$IMMUTABOT_SHARED/NAME`), when it is there.
fn shared_dir(name: &str) -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("IMMUTABOT_SHARED").map(|s| PathBuf::from(s).join(name)),
        Some(manifest.join("../shared").join(name)),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_dir())
}

/// Every file below `dir` that `immutabot check` would read (`*.yaml`, `*.yml`, `*.json`),
/// sorted by path, named relative to `dir`.
fn read_tree(dir: &Path) -> Vec<GenFile> {
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if immutabot::analyze::is_candidate(&path.to_string_lossy()) {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy();
            Some(GenFile {
                path: rel.replace('\\', "/"),
                bytes,
                family: Family::Misc,
            })
        })
        .collect()
}

fn real(c: &mut Criterion) {
    match shared_dir("bench-corpus") {
        Some(root) => {
            let files = read_tree(&root);
            let compose: Vec<GenFile> = files
                .iter()
                .filter(|f| f.path.starts_with("compose/"))
                .cloned()
                .collect();
            run(c, "real", "bench-corpus", &files);
            run(c, "real", "bench-corpus-compose", &compose);
        }
        None => {
            eprintln!("real: no ../shared/bench-corpus beside the checkout, bench-corpus skipped")
        }
    }
    match shared_dir("corpus") {
        Some(root) => run(c, "real", "shared-corpus", &read_tree(&root)),
        None => eprintln!("real: no ../shared/corpus beside the checkout, shared-corpus skipped"),
    }
}

criterion_group!(benches, mix, kinds, real);
criterion_main!(benches);
