//! Writes the benchmark corpus to disk: `cargo run --release --example gen-corpus -- DIR [N] [SEED]`.
//!
//! Deterministic: the same `N` and `SEED` give the same files, byte for byte. Defaults:
//! 10,000 files, seed 1 (about 80 MB). Files go to `DIR/compose/`, `DIR/k8s/` and `DIR/misc/`,
//! sharded into `gNNN/` folders of 100. Prints one line of counts per family.

#[path = "corpus.rs"]
mod corpus;

use std::io::Write as _;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: gen-corpus DIR [FILES=10000] [SEED=1]";
    let dir = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!(usage))?);
    let files: usize = match args.next() {
        Some(n) => n.parse().map_err(|_| anyhow::anyhow!(usage))?,
        None => 10_000,
    };
    let seed: u64 = match args.next() {
        Some(n) => n.parse().map_err(|_| anyhow::anyhow!(usage))?,
        None => 1,
    };
    let mut counts = [(0usize, 0usize); 3];
    let mut largest = 0;
    for i in 0..files {
        let f = corpus::file(seed, i);
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &f.bytes)?;
        let slot = match f.family {
            corpus::Family::Compose => 0,
            corpus::Family::Kubernetes => 1,
            corpus::Family::Misc => 2,
        };
        counts[slot].0 += 1;
        counts[slot].1 += f.bytes.len();
        largest = largest.max(f.bytes.len());
    }
    let mut out = std::io::stdout().lock();
    let total: usize = counts.iter().map(|c| c.1).sum();
    for (name, (n, bytes)) in ["compose", "k8s", "misc"].iter().zip(counts) {
        writeln!(out, "{name}\t{n} files\t{bytes} bytes")?;
    }
    writeln!(
        out,
        "total\t{files} files\t{total} bytes\tlargest {largest} bytes"
    )?;
    Ok(())
}
