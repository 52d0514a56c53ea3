//! Property test of the fast YAML scanner: on YAML-like text (manifest lines at random
//! indentation, then random edits with odd characters), it never panics, and it either
//! declines or builds exactly the full parser's tree.

use immutabot::yaml::{Limits, Stream, fast};
use proptest::prelude::*;

/// Lines and fragments manifests are made of, including the forms the fast scanner must get
/// exactly right (block scalars, flow, anchors, quotes, comments, markers).
const LINES: &[&str] = &[
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "name: web",
    "- name: app",
    "- image: nginx:1.27",
    "-",
    "- - a",
    "containers:",
    "securityContext:",
    "readOnlyRootFilesystem: true",
    "read_only: \"true\"",
    "read_only: 'yes'",
    "x-common: &common",
    "<<: *common",
    "- *common",
    "ports: [80, \"443\", {a: b}]",
    "env: {A: '1', \"B\": \"x\\ty\\u00e9\"}",
    "data: |",
    "data: |-",
    "data: >",
    "data: >+",
    "script: |2",
    "line of text",
    "  more text",
    "",
    "# a comment",
    "key: value # trailing",
    "key:   ",
    "---",
    "...",
    "--- # doc",
    "{",
    "\"a\": [1,",
    "2],",
    "\"b\": {}",
    "}",
    "[a, b]",
    "a: b: c",
    "? complex",
    "!!str tagged: x",
    "%YAML 1.2",
    "'it''s': ok",
    "url: http://x:80/a#b",
    "a:b: c",
    "\"k\" : v",
    "k: &a v",
    "k: *a",
    "- &b",
    "  - x",
];

/// Characters edits insert: indicators, white space, quotes and a few non-ASCII ones.
const ODD: &[char] = &[
    ' ', ' ', '\n', '\t', '\r', '-', ':', '#', '\'', '"', '\\', '[', ']', '{', '}', ',', '&', '*',
    '!', '|', '>', '?', '%', '@', '`', 'é', '\u{feff}', '0', 'a',
];

fn text() -> impl Strategy<Value = String> {
    let lines = prop::collection::vec((0..LINES.len(), 0usize..7), 0..24);
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0..ODD.len(), 0u8..3), 0..4);
    (lines, edits, any::<bool>()).prop_map(|(lines, edits, final_newline)| {
        let mut t = String::new();
        for (i, (line, indent)) in lines.iter().enumerate() {
            if i > 0 {
                t.push('\n');
            }
            t.push_str(&" ".repeat(*indent));
            t.push_str(LINES[*line]);
        }
        if final_newline {
            t.push('\n');
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn fast_declines_or_equals_the_full_parser(t in text()) {
        if let Some(got) = fast::parse(&t, Limits::default()) {
            let want = Stream::parse_full(&t, Limits::default());
            prop_assert_eq!(got, want, "text: {:?}", t);
        }
    }
}
