//! Text edits around located nodes, and turning them into one whole-line [`Fix`].
//!
//! Every edit is an insertion or replacement of bytes in the original text; nothing is ever
//! re-serialised, so comments, quoting, key order and line endings survive untouched.

use crate::model::Fix;
use crate::yaml::{Kind, NodeId, Pos, Source, Stream};

/// Replace bytes `at..end` with `text` (an insertion when `at == end`).
#[derive(Debug, Clone)]
pub struct Edit {
    /// Start byte.
    pub at: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// New text.
    pub text: String,
}

/// How the file indents: learnt from the file so inserted lines look like their neighbours.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Spaces per nesting level of mappings.
    pub indent: usize,
    /// Spaces between a key and the dashes of its block sequence (0 = `key:\n- item`).
    pub seq_offset: usize,
}

impl Style {
    /// Learns the style from the first nested block collections of the file.
    pub fn learn(s: &Stream, src: &Source<'_>) -> Style {
        let mut indent = None;
        let mut seq_offset = None;
        for node in &s.nodes {
            let Kind::Map {
                entries,
                flow: false,
            } = &node.kind
            else {
                continue;
            };
            for &(k, v) in entries {
                let (kn, vn) = (s.node(k), s.node(v));
                if vn.start.line <= kn.start.line {
                    continue;
                }
                match &vn.kind {
                    Kind::Map { flow: false, .. }
                        if indent.is_none() && vn.start.col > kn.start.col =>
                    {
                        indent = Some(vn.start.col - kn.start.col);
                    }
                    Kind::Seq { flow: false, items } if seq_offset.is_none() => {
                        seq_offset = items
                            .first()
                            .and_then(|&i| dash_col(src, s.node(i).start))
                            .and_then(|dash| dash.checked_sub(kn.start.col));
                    }
                    _ => {}
                }
            }
            if indent.is_some() && seq_offset.is_some() {
                break;
            }
        }
        let indent = indent.unwrap_or(2).clamp(1, 8);
        Style {
            indent,
            seq_offset: seq_offset.unwrap_or(indent).min(8),
        }
    }
}

/// The column of the dash before a block sequence item that starts at `item`. The
/// sequence's own span may start at the item's content (indentless style), so the dash is
/// looked for on the item's line.
fn dash_col(src: &Source<'_>, item: Pos) -> Option<usize> {
    let line = src.line(item.line);
    line.get(..item.col.min(line.len()))?.rfind('-')
}

/// Builds edits against one file.
pub struct Editor<'a> {
    /// The parsed file.
    pub s: &'a Stream,
    /// Its text.
    pub src: &'a Source<'a>,
    /// Its indentation habits.
    pub style: Style,
}

impl<'a> Editor<'a> {
    fn eol(&self) -> &'static str {
        self.src.eol()
    }

    /// Inserts whole lines after 1-based `line`.
    pub fn lines_after(&self, line: usize, lines: &[String]) -> Edit {
        let at = self.src.line_range(line).end;
        let eol = self.eol();
        let body = lines.join(eol);
        let text = if self.src.has_eol(line) {
            format!("{body}{eol}")
        } else {
            format!("{eol}{body}")
        };
        Edit { at, end: at, text }
    }

    /// The last line holding content of a node.
    pub fn last_line(&self, n: NodeId) -> usize {
        let node = self.s.node(n);
        self.src
            .last_content_line(node.end.byte)
            .max(node.start.line)
    }

    /// Adds `key: value` (given as lines, the first holding the key, relative indentation
    /// in the later ones) to a mapping, block or flow. `flow` is the one-line form used in
    /// a flow mapping.
    pub fn add_to_map(&self, map: NodeId, lines: &[String], flow: &str) -> Option<Edit> {
        let node = self.s.node(map);
        match &node.kind {
            Kind::Map {
                flow: true,
                entries,
            } => {
                let close = node.end.byte.checked_sub(1)?;
                if self.src.text().as_bytes().get(close) != Some(&b'}') {
                    return None;
                }
                let text = if entries.is_empty() {
                    flow.to_string()
                } else {
                    format!(", {flow}")
                };
                let at = self.before_blanks(close);
                Some(Edit { at, end: at, text })
            }
            Kind::Map { flow: false, .. } => {
                let col = node.start.col;
                let pad = " ".repeat(col);
                let lines: Vec<String> = lines.iter().map(|l| format!("{pad}{l}")).collect();
                Some(self.lines_after(self.last_line(map), &lines))
            }
            _ => None,
        }
    }

    /// Adds lines as children of a key whose value is empty (`key:` with nothing after).
    pub fn add_under_key(&self, key: NodeId, lines: &[String]) -> Edit {
        let kn = self.s.node(key);
        let pad = " ".repeat(kn.start.col + self.style.indent);
        let lines: Vec<String> = lines.iter().map(|l| format!("{pad}{l}")).collect();
        self.lines_after(kn.start.line, &lines)
    }

    /// Appends items to a sequence. Each item is given as its lines without the dash, and
    /// as a one-line form for a flow sequence.
    pub fn add_to_seq(&self, seq: NodeId, items: &[Vec<String>], flows: &[String]) -> Option<Edit> {
        let node = self.s.node(seq);
        match &node.kind {
            Kind::Seq {
                flow: true,
                items: existing,
            } => {
                let close = node.end.byte.checked_sub(1)?;
                if self.src.text().as_bytes().get(close) != Some(&b']') {
                    return None;
                }
                let joined = flows.join(", ");
                let text = if existing.is_empty() {
                    joined
                } else {
                    format!(", {joined}")
                };
                let at = self.before_blanks(close);
                Some(Edit { at, end: at, text })
            }
            Kind::Seq {
                flow: false,
                items: existing,
            } => {
                let first = existing.first().map(|&i| self.s.node(i).start)?;
                let dash = dash_col(self.src, first)?;
                // Align continuation lines with the content of existing items.
                let content = if first.col > dash {
                    first.col
                } else {
                    dash + 2
                };
                let mut lines = Vec::new();
                for item in items {
                    for (i, l) in item.iter().enumerate() {
                        if i == 0 {
                            lines.push(format!(
                                "{}-{}{l}",
                                " ".repeat(dash),
                                " ".repeat(content - dash - 1)
                            ));
                        } else {
                            lines.push(format!("{}{l}", " ".repeat(content)));
                        }
                    }
                }
                Some(self.lines_after(self.last_line(seq), &lines))
            }
            _ => None,
        }
    }

    /// Lines of a new `key:` holding a block sequence of `items` (each item's lines).
    pub fn new_seq_key(&self, key: &str, items: &[Vec<String>]) -> Vec<String> {
        let mut out = vec![format!("{key}:")];
        let off = " ".repeat(self.style.seq_offset);
        for item in items {
            for (i, l) in item.iter().enumerate() {
                if i == 0 {
                    out.push(format!("{off}- {l}"));
                } else {
                    out.push(format!("{off}  {l}"));
                }
            }
        }
        out
    }

    /// Replaces a scalar's text.
    pub fn replace(&self, n: NodeId, text: &str) -> Edit {
        let node = self.s.node(n);
        if node.end.byte == node.start.byte {
            // An empty value right after `key:` needs a space.
            return Edit {
                at: node.start.byte,
                end: node.start.byte,
                text: format!(" {text}"),
            };
        }
        Edit {
            at: node.start.byte,
            end: node.end.byte,
            text: text.to_string(),
        }
    }

    /// The source text of a node.
    pub fn raw(&self, n: NodeId) -> &'a str {
        let node = self.s.node(n);
        &self.src.text()[node.start.byte..node.end.byte]
    }

    /// Deletes the whole lines of a block mapping entry (key through the end of its value).
    pub fn delete_entry(&self, key: NodeId, value: NodeId) -> Edit {
        let first = self.s.node(key).start.line;
        let last = self.last_line(value).max(first);
        Edit {
            at: self.src.line_start(first),
            end: self.src.line_range(last).end,
            text: String::new(),
        }
    }

    fn before_blanks(&self, mut i: usize) -> usize {
        let b = self.src.text().as_bytes();
        while i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\r' | b'\n') {
            i -= 1;
        }
        i
    }

    /// One whole-line fix from a set of edits.
    pub fn fix(&self, description: String, mut edits: Vec<Edit>) -> Option<Fix> {
        if edits.is_empty() {
            return None;
        }
        // At one insertion point, inner structures (more indented) come before outer ones:
        // items for a sequence that ends there precede a new key of its parent mapping.
        // An indentless sequence's dashes sit at its key's column: at equal indentation the
        // items still belong before the next key.
        let depth = |e: &Edit| {
            let t = e.text.trim_start_matches(['\r', '\n']);
            let body = t.trim_start_matches(' ');
            (t.len() - body.len(), body.starts_with('-'))
        };
        edits.sort_by_key(|e| (e.at, e.end, std::cmp::Reverse(depth(e))));
        for w in edits.windows(2) {
            if w[0].end > w[1].at {
                return None;
            }
        }
        let src = self.src;
        let line_span = |e: &Edit| -> (usize, usize) {
            if e.at == e.end {
                let l = if e.at > 0 && e.at == src.line_range(src.line_of(e.at)).start {
                    src.line_of(e.at - 1)
                } else {
                    src.line_of(e.at)
                };
                (l, l)
            } else {
                (src.line_of(e.at), src.line_of(e.end - 1))
            }
        };
        let mut a = usize::MAX;
        let mut b = 0;
        for e in &edits {
            let (x, y) = line_span(e);
            a = a.min(x);
            b = b.max(y);
        }
        if a == 0 || b > src.line_count() {
            return None;
        }
        let start = src.line_start(a);
        let end = src.line_range(b).end;
        let mut out = String::new();
        let mut pos = start;
        for e in &edits {
            out.push_str(&src.text()[pos..e.at]);
            out.push_str(&e.text);
            pos = e.end;
        }
        out.push_str(&src.text()[pos..end]);
        Some(Fix {
            description,
            start_line: a,
            end_line: b,
            replacement: out,
        })
    }
}
