//! A stream of concatenated JSON objects (`{…}\n{…}`), which kubectl reads one object after
//! another and Kubernetes' own test data uses. YAML reads only the first object and fails
//! at the second, so each object is parsed as a document of its own and its positions are
//! moved to where it sits in the whole text: findings and patches point at the right lines.

use super::tree::{Kind, Limits, Node, ParseError, Pos, Stream};
use std::ops::Range;

/// Reads `text` as a stream of JSON objects, or `None` when it is not one: it must open with
/// `{`, hold at least two top-level values with only blanks between them, and its first
/// object must be JSON (else the YAML parser's own error says more). A later object that
/// is not JSON stops the stream there, as it stops kubectl.
pub(super) fn parse(text: &str, limits: Limits) -> Option<Stream> {
    let parts = split(text)?;
    let mut out = Stream {
        limits,
        ..Stream::default()
    };
    let mut origin = Origin::default();
    for (i, part) in parts.into_iter().enumerate() {
        origin.advance(text, part.start);
        let doc = match json_error(&text[part.clone()]) {
            None => Stream::parse_full(&text[part], limits),
            Some(error) => Stream {
                error: Some(error),
                ..Stream::default()
            },
        };
        if i == 0 && doc.error.is_some() {
            return None;
        }
        append(&mut out, doc, origin);
        if out.error.is_some() {
            break;
        }
    }
    Some(out)
}

/// Why `part` is not JSON, at a position relative to it. kubectl decodes every object of
/// a stream as JSON, so YAML-only syntax (`{"a": }`, comments) is refused.
fn json_error(part: &str) -> Option<ParseError> {
    let e = serde_json::from_str::<serde::de::IgnoredAny>(part).err()?;
    let text = e.to_string();
    let reason = text.split(" at line ").next().unwrap_or(&text);
    Some(ParseError {
        line: e.line().max(1),
        column: e.column().max(1),
        message: format!(
            "an object of this JSON stream is not JSON ({reason}), and kubectl reads it as JSON"
        ),
    })
}

/// The byte ranges of the top-level objects; `None` unless there are two or more. The last
/// range runs to the end of the text when its object is not closed, so the parser reports
/// where it breaks.
fn split(text: &str) -> Option<Vec<Range<usize>>> {
    let b = text.as_bytes();
    let mut i = skip_blanks(b, 0);
    let mut parts = Vec::new();
    while i < b.len() {
        if b[i] != b'{' {
            return None;
        }
        match object_end(b, i) {
            Some(end) => {
                parts.push(i..end);
                i = skip_blanks(b, end);
            }
            None => {
                parts.push(i..b.len());
                break;
            }
        }
    }
    (parts.len() >= 2).then_some(parts)
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The end (exclusive) of the object opening at `start`: braces counted outside strings.
fn object_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'"' => i = string_end(b, i)?,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The position of the quote closing the string that opens at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Where a part starts in the whole text: byte, 1-based line, column in characters.
#[derive(Debug, Clone, Copy, Default)]
struct Origin {
    byte: usize,
    line: usize,
    col: usize,
}

impl Origin {
    /// Moves to byte `to`, counting line breaks the way YAML does (`\n`, `\r\n`, lone `\r`).
    fn advance(&mut self, text: &str, to: usize) {
        if self.line == 0 {
            self.line = 1;
        }
        let b = text.as_bytes();
        for (i, &c) in b.iter().enumerate().take(to).skip(self.byte) {
            let lone_cr = c == b'\r' && b.get(i + 1) != Some(&b'\n');
            if c == b'\n' || lone_cr {
                self.line += 1;
                self.col = 0;
            } else if (c & 0xC0) != 0x80 {
                self.col += 1;
            }
        }
        self.byte = to;
    }

    fn shift(self, p: Pos) -> Pos {
        Pos {
            byte: p.byte + self.byte,
            line: p.line + self.line - 1,
            col: if p.line == 1 { p.col + self.col } else { p.col },
        }
    }
}

/// Adds one part's documents to `out`, renumbering its nodes and moving its positions.
fn append(out: &mut Stream, part: Stream, at: Origin) {
    let base = out.nodes.len() as u32;
    if out.nodes.len() + part.nodes.len() > out.limits.max_nodes {
        let first = part
            .nodes
            .first()
            .map_or(Pos::default(), |n| at.shift(n.start));
        out.error = Some(ParseError {
            line: first.line,
            column: first.col + 1,
            message: format!(
                "the file has more than {} YAML nodes; not analysed",
                out.limits.max_nodes
            ),
        });
        return;
    }
    out.nodes.extend(part.nodes.into_iter().map(|n| {
        Node {
            kind: match n.kind {
                Kind::Seq { items, flow } => Kind::Seq {
                    items: items.into_iter().map(|i| i + base).collect(),
                    flow,
                },
                Kind::Map { entries, flow } => Kind::Map {
                    entries: entries
                        .into_iter()
                        .map(|(k, v)| (k + base, v + base))
                        .collect(),
                    flow,
                },
                Kind::Alias(t) => Kind::Alias(t + base),
                scalar => scalar,
            },
            start: at.shift(n.start),
            end: at.shift(n.end),
            tagged: n.tagged,
        }
    }));
    out.docs
        .extend(part.docs.into_iter().map(|d| d.map(|id| id + base)));
    out.duplicates
        .extend(part.duplicates.into_iter().map(|mut d| {
            d.map += base;
            d.at = at.shift(d.at);
            d
        }));
    out.error = part.error.map(|e| {
        let p = at.shift(Pos {
            byte: 0,
            line: e.line,
            col: e.column.saturating_sub(1),
        });
        ParseError {
            line: p.line,
            column: p.col + 1,
            ..e
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Stream {
        Stream::parse(t, Limits::default())
    }

    #[test]
    fn objects_become_documents_at_their_own_positions() {
        let t = "{\"kind\": \"A\"}\n{\n  \"kind\": \"B\", \"x\": \"}{\\\"\"\n} {\"kind\": \"C\"}\n";
        let s = parse(t);
        assert_eq!(s.error, None);
        assert_eq!(s.docs.len(), 3);
        let kinds: Vec<(&str, Pos)> = s
            .docs
            .iter()
            .map(|d| {
                let (_, v) = s.get(d.unwrap(), "kind").unwrap();
                (s.scalar(v).unwrap(), s.node(v).start)
            })
            .collect();
        assert_eq!(kinds[0].0, "A");
        let at = |needle: &str, line, col| Pos {
            byte: t.find(needle).unwrap(),
            line,
            col,
        };
        assert_eq!(kinds[1], ("B", at("\"B\"", 3, 10)));
        let (_, x) = s.get(s.docs[1].unwrap(), "x").unwrap();
        assert_eq!(s.scalar(x), Some("}{\""));
        // The third object starts on the line the second one ends on.
        assert_eq!(kinds[2], ("C", at("\"C\"", 4, 11)));
    }

    #[test]
    fn a_broken_object_is_reported_where_it_is_and_keeps_the_ones_before() {
        let s = parse("{\"a\": 1}\n{\"b\": 2}\n{\"c\": }\n");
        assert_eq!(s.docs.len(), 2);
        let e = s.error.unwrap();
        assert_eq!(e.line, 3);
        let s = parse("{\"a\": 1}\n{\"b\": [2}\n");
        assert_eq!(s.docs.len(), 1);
        assert_eq!(s.error.unwrap().line, 2);
    }

    #[test]
    fn other_texts_are_left_to_the_yaml_parser() {
        for t in [
            "{a: 1}\n",
            "{\"a\": 1}\n}\n",
            "{\"a\": 1}\n---\n",
            "{a: 1} x\n",
            "[1]\n[2]\n",
        ] {
            assert_eq!(split(t), None, "{t}");
        }
        let s = parse("{\"a\": 1}\n---\n{\"b\": 2}\n");
        assert_eq!((s.docs.len(), s.error), (2, None));
    }

    #[test]
    fn the_node_limit_counts_the_whole_stream() {
        let limits = Limits {
            max_nodes: 5,
            ..Limits::default()
        };
        let s = Stream::parse("{\"a\": 1}\n{\"b\": 2}\n", limits);
        assert_eq!(s.docs.len(), 1);
        assert!(s.error.unwrap().message.contains("more than 5"));
    }
}
