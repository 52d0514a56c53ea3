//! Property test of the fast YAML scanner: on YAML-like text (generated mappings, sequences,
//! scalars of every style (folded over lines too), block scalars in every header form, flow,
//! anchors, comments, documents, at random
//! indentation widths, with CRLF or no final newline, half of them then edited with odd
//! characters), it never panics, and it either declines or builds exactly the full parser's
//! tree.

use immutabot::yaml::{Limits, Stream, fast};
use proptest::prelude::*;

/// Characters edits insert: indicators, white space, quotes and a few non-ASCII ones.
const ODD: &[char] = &[
    ' ', ' ', '\n', '\t', '\r', '-', ':', '#', '\'', '"', '\\', '[', ']', '{', '}', ',', '&', '*',
    '!', '|', '>', '?', '%', '@', '`', 'é', '\u{feff}', '0', 'a',
];

/// A tiny deterministic generator, so a proptest seed maps to one text.
struct Gen(u64, usize);

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
    /// A new anchor name, or an alias to an earlier one.
    fn anchor(&mut self) -> String {
        self.1 += 1;
        format!("&a{}", self.1)
    }
    fn alias(&mut self) -> String {
        match self.1 {
            0 => "*a0".to_string(),
            n => format!("*a{}", 1 + self.below(n)),
        }
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const KEYS: &[&str] = &[
    "name",
    "image",
    "read_only",
    "a",
    "x-y",
    "\"q k\"",
    "'s k'",
    "<<",
    "ports",
    "k8s.io/x",
];
const SCALARS: &[&str] = &[
    "nginx:1.27",
    "true",
    "yes",
    "1",
    "~",
    "null",
    "a b  c",
    "http://x:80/a#b",
    "\"d\\\"q\\n\"",
    "'it''s'",
    "\"\\u00e9\\x41\"",
    "-1",
    "café",
    "[a, b]",
    "{a: 1, \"b\": [c]}",
    "[]",
    "{}",
    "a # note",
    "\"\"",
    "''",
    "x:y",
    "-x",
];

/// A block mapping at `indent`, `depth` levels deep.
fn map(g: &mut Gen, out: &mut String, indent: usize, w: usize, depth: usize) {
    for _ in 0..1 + g.below(4) {
        if g.below(6) == 0 {
            out.push_str(&" ".repeat(g.below(indent + 3)));
            out.push_str("# comment\n");
        }
        out.push_str(&" ".repeat(indent));
        out.push_str(g.pick(KEYS));
        out.push(':');
        value(g, out, indent, w, depth);
    }
}

/// The value after `key:` (or `-`), with its line break.
fn value(g: &mut Gen, out: &mut String, indent: usize, w: usize, depth: usize) {
    let anchor = g.below(8) == 0;
    let choice = if depth > 4 { g.below(4) } else { g.below(9) };
    if anchor && choice >= 6 {
        out.push(' ');
        out.push_str(&g.anchor());
    }
    match choice {
        0 if anchor => {
            out.push(' ');
            out.push_str(&g.alias());
            out.push('\n');
        }
        0 | 1 => {
            out.push(' ');
            out.push_str(g.pick(SCALARS));
            out.push('\n');
        }
        2 => out.push('\n'),
        3 if g.below(2) == 0 => {
            // A block scalar: every header form, leading, inner and trailing empty lines,
            // lines of white space, more-indented lines; sometimes on the next line.
            if g.below(5) == 0 {
                out.push('\n');
                out.push_str(&" ".repeat(indent + w));
            } else {
                out.push(' ');
            }
            out.push_str(g.pick(&[
                "|", "|-", "|+", ">", ">-", ">+", "|2", "|1-", ">2+", "|+1", ">-2", "| # c",
            ]));
            out.push('\n');
            for _ in 0..1 + g.below(5) {
                match g.below(6) {
                    0 => out.push('\n'),
                    1 => {
                        out.push_str(&" ".repeat(g.below(indent + w + 3)));
                        out.push('\n');
                    }
                    _ => {}
                }
                out.push_str(&" ".repeat(indent + w + g.below(2) + g.below(2)));
                out.push_str(g.pick(&["line", "two words", "# not a comment", "k: v", "é"]));
                out.push_str(g.pick(&["", "", "  "]));
                out.push('\n');
            }
            if g.below(3) == 0 {
                out.push_str(g.pick(&["\n", "\n\n", "  \n"]));
            }
        }
        3 => {
            // A plain or quoted scalar folded over lines, with empty lines and escapes.
            let (open, close) = *[("", ""), ("\"", "\""), ("'", "'")]
                .get(g.below(3))
                .unwrap_or(&("", ""));
            out.push(' ');
            out.push_str(open);
            out.push_str(g.pick(&["first", "a b ", "x\\", "it''s", "\\t"]));
            for _ in 0..1 + g.below(3) {
                out.push_str(g.pick(&["\n", "\n", "\n\n", " \n  \n", "\\\n"]));
                out.push_str(&" ".repeat(indent + g.below(w + 2)));
                out.push_str(g.pick(&[
                    "more",
                    "two  words ",
                    "- dash",
                    "a: b",
                    "# hash",
                    "x #y",
                    "\\\"q",
                    "é",
                ]));
            }
            out.push_str(close);
            out.push('\n');
        }
        4 | 5 => {
            out.push_str(" [\n");
            out.push_str(&" ".repeat(indent + w));
            out.push_str("\"a\", 1,\n");
            out.push_str(&" ".repeat(indent + w));
            out.push_str("{\"b\": null}]\n");
        }
        6 | 7 => {
            out.push('\n');
            map(g, out, indent + w, w, depth + 1);
        }
        _ => {
            out.push('\n');
            let dash = if g.below(2) == 0 { indent } else { indent + w };
            for _ in 0..1 + g.below(3) {
                out.push_str(&" ".repeat(dash));
                out.push('-');
                if g.below(2) == 0 {
                    out.push(' ');
                    let mut item = String::new();
                    map(g, &mut item, dash + 2, w, depth + 1);
                    out.push_str(item.trim_start());
                } else {
                    value(g, out, dash, w, depth + 1);
                }
            }
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0..ODD.len(), 0u8..3), 0..3);
    (any::<u64>(), edits, 0u8..10).prop_map(|(seed, edits, shape)| {
        let mut g = Gen(seed | 1, 0);
        let w = 1 + g.below(4);
        let mut t = String::new();
        for d in 0..1 + g.below(3) {
            if d > 0 || g.below(3) == 0 {
                t.push_str(g.pick(&["---\n", "--- # doc\n", "...\n---\n"]));
            }
            let indent = g.below(2);
            map(&mut g, &mut t, indent, w, 0);
        }
        if shape == 0 {
            t = t.replace('\n', "\r\n");
        }
        if shape == 1 {
            t.pop();
        }
        // Half the texts stay as generated; the rest get a few odd edits.
        if shape % 2 == 0 {
            return t;
        }
        let mut chars: Vec<char> = t.chars().collect();
        for (at, ch, op) in edits {
            if chars.is_empty() {
                chars.push(ODD[ch]);
                continue;
            }
            let at = at.index(chars.len());
            match op {
                0 => chars.insert(at, ODD[ch]),
                1 => chars[at] = ODD[ch],
                _ => {
                    chars.remove(at);
                }
            }
        }
        chars.into_iter().collect()
    })
}

#[test]
fn fast_declines_or_equals_the_full_parser() {
    use proptest::test_runner::{Config, TestRunner};
    use std::sync::atomic::{AtomicUsize, Ordering};
    const CASES: u32 = 10_000;
    let accepted = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        ..Config::default()
    });
    let result = runner.run(&text(), |t| {
        if let Some(got) = fast::parse(&t, Limits::default()) {
            accepted.fetch_add(1, Ordering::Relaxed);
            let want = Stream::parse_full(&t, Limits::default());
            prop_assert_eq!(got, want, "text: {:?}", t);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The property means little if the scanner declined nearly everything.
    let accepted = accepted.into_inner();
    eprintln!("fast scanner accepted {accepted} of {CASES} generated texts");
    assert!(accepted >= CASES as usize / 10, "only {accepted} accepted");
}
