//! The fast YAML scanner against the full parser: whenever the fast scanner accepts a text,
//! its tree (nodes, positions, documents, duplicates) must equal the full parser's exactly.
//! Inputs: the real corpora (`../shared/corpus`, `bench-corpus`, `charts`, `kustomize`),
//! examples, fixtures, fuzz seeds and generated bench files; and acceptance floors (by bytes
//! on the real bench corpus) so that a scanner that declines everything fails.

#[path = "../benches/support/corpus.rs"]
mod corpus;

use immutabot::yaml::{Limits, Stream, fast};
use std::path::{Path, PathBuf};

/// Checks one text; returns whether the fast scanner accepted it.
fn same(name: &str, text: &str) -> bool {
    let Some(got) = fast::parse(text, Limits::default()) else {
        return false;
    };
    let want = Stream::parse_full(text, Limits::default());
    if got != want {
        let first = got
            .nodes
            .iter()
            .zip(&want.nodes)
            .position(|(a, b)| a != b)
            .map(|i| {
                format!(
                    "node {i}: fast {:?}\n full {:?}",
                    got.nodes[i], want.nodes[i]
                )
            });
        panic!(
            "{name}: fast scanner differs from the full parser\n{}\nnodes {} vs {}, docs {:?} vs {:?}, error {:?}",
            first.unwrap_or_default(),
            got.nodes.len(),
            want.nodes.len(),
            got.docs,
            want.docs,
            want.error
        );
    }
    true
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x, "yaml" | "yml" | "json" | "sed"))
            || p.starts_with(manifest().join("fuzz/seeds/analyze"))
        {
            out.push(p);
        }
    }
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn real_files_match_the_full_parser() {
    let root = manifest();
    let mut files = Vec::new();
    for dir in [
        "../shared/corpus",
        "../shared/bench-corpus",
        "../shared/charts",
        "../shared/kustomize",
        "examples",
        "tests/fixtures",
        "tests/data",
        "fuzz/seeds/analyze",
    ] {
        files_under(&root.join(dir), &mut files);
    }
    assert!(files.len() > 600, "only {} files found", files.len());
    let mut accepted = 0;
    let seeds = root.join("fuzz/seeds/analyze");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        // A fuzz seed's first byte picks the fuzz target's path; the rest is the file.
        let bytes = match bytes.split_first() {
            Some((_, rest)) if f.starts_with(&seeds) => rest,
            _ => &bytes[..],
        };
        let text = String::from_utf8_lossy(bytes);
        if same(&f.display().to_string(), &text) {
            accepted += 1;
        }
    }
    eprintln!("fast scanner accepted {accepted} of {} files", files.len());
}

#[test]
fn the_real_bench_corpus_mostly_takes_the_fast_path() {
    let mut files = Vec::new();
    files_under(&manifest().join("../shared/bench-corpus"), &mut files);
    assert!(files.len() > 500, "only {} files found", files.len());
    let (mut bytes, mut bytes_ok) = (0usize, 0usize);
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        bytes += raw.len();
        let body = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw);
        if let Ok(text) = std::str::from_utf8(body)
            && fast::parse(text, Limits::default()).is_some()
        {
            bytes_ok += raw.len();
        }
    }
    let share = bytes_ok as f64 / bytes as f64;
    eprintln!(
        "fast scanner took {:.2} % of the bench corpus' bytes",
        share * 100.0
    );
    assert!(
        share >= FLOOR,
        "fast path share fell to {:.2} % of bytes",
        share * 100.0
    );
}

/// Just under the share reached (see `cargo run --release --example fast-share`).
const FLOOR: f64 = 0.995;

#[test]
fn generated_corpus_matches_and_mostly_takes_the_fast_path() {
    let (mut accepted, mut total, mut bytes_ok, mut bytes) = (0usize, 0usize, 0usize, 0usize);
    for i in 0..3000 {
        let f = corpus::file(1, i);
        // The rare ~1 MB files are measured by the bench; here they only slow the test.
        if f.bytes.len() > 200_000 {
            continue;
        }
        // `analyze` strips a byte-order mark before parsing; so do we.
        let body = f.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&f.bytes);
        let text = String::from_utf8_lossy(body);
        total += 1;
        bytes += f.bytes.len();
        if same(&f.path, &text) {
            accepted += 1;
            bytes_ok += f.bytes.len();
        }
    }
    let share = accepted as f64 / total as f64;
    eprintln!(
        "fast scanner accepted {accepted} of {total} generated files ({:.1} %, {:.1} % of bytes)",
        share * 100.0,
        bytes_ok as f64 * 100.0 / bytes as f64
    );
    assert!(
        share > 0.85,
        "fast path share fell to {:.1} %",
        share * 100.0
    );
}

#[test]
fn typical_forms_take_the_fast_path() {
    let texts = [
        "a: 1\nb:\n  - x\n  - y: 2\n    z: '3'\n",
        "k:\n- a\n- b: \"c\\n\"\n",
        "x: &c\n  r: always\ns:\n  w:\n    <<: *c\n    i: nginx # web\n",
        "---\na: |\n  line\n  two\n\nb: >-\n  f1\n  f2\n...\n---\nc: [1, {d: e}]\n",
        "{\"kind\": \"Pod\", \"spec\": {\"containers\": [\n  {\"name\": \"a\"}\n]}}\n",
        "",
        "# only a comment\n",
        "---\n",
        "a: 1\r\nb: |\r\n  x\r\n",
        "name: café # non-ASCII\nb: \"日本\"\n",
    ];
    for t in texts {
        assert!(
            fast::parse(t, Limits::default()).is_some(),
            "declined: {t:?}"
        );
        assert!(same("typical", t));
    }
}

#[test]
fn a_dash_before_a_flow_indicator_is_left_to_the_full_parser() {
    // Found by the property test: `-,` in a flow sequence is an error, not a scalar.
    for text in [
        "a: [\"x\", -, y]\n",
        "a: [-]\n",
        "a: {b: -}\n",
        "a: [-{}]\n",
    ] {
        assert_eq!(
            Stream::parse(text, Limits::default()),
            Stream::parse_full(text, Limits::default()),
            "{text:?}"
        );
    }
}
