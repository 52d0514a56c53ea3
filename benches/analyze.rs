//! Criterion benchmarks of the analysis core over generated and real files.
//!
//! `cargo bench --bench analyze` (add `-- --quick` for a fast run). Groups:
//! - `mix`: 400 files of the default corpus mix (what `scripts/bench` writes to disk);
//! - `kind/*`: one family and size at a time (small Compose, medium Kubernetes, JSON, a ~1 MB bundle);
//! - `real`: the 101 real files of `../shared/corpus` when present (skipped otherwise).
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
    if bytes > 2_000_000 {
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

fn shared_corpus() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("IMMUTABOT_SHARED").map(|s| PathBuf::from(s).join("corpus")),
        Some(manifest.join("../shared/corpus")),
        Some(PathBuf::from("/work/shared/corpus")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_dir())
}

fn real(c: &mut Criterion) {
    let Some(root) = shared_corpus() else {
        eprintln!("real: no shared corpus found, skipped");
        return;
    };
    let mut files = Vec::new();
    for sub in ["compose", "k8s", "tricky"] {
        let Ok(dir) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if let Ok(bytes) = std::fs::read(&p) {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                files.push(GenFile {
                    path: format!("{sub}/{}", name.unwrap_or_default()),
                    bytes,
                    family: Family::Misc,
                });
            }
        }
    }
    run(c, "real", "shared-corpus", &files);
}

criterion_group!(benches, mix, kinds, real);
criterion_main!(benches);
