//! Text edits around located nodes, and turning them into one whole-line [`Fix`].
//!
//! Every edit is an insertion or replacement of bytes in the original text; nothing is ever
//! re-serialised, so comments, quoting, key order and line endings survive untouched.

use super::render::{self, Layout, Syntax, Value};
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
    /// Written between this insertion and another one made at the same point before it
    /// (entries added to an empty flow collection need a comma between them).
    pub join: &'static str,
}

impl Edit {
    /// Inserts `text` at byte `at`.
    pub fn insert(at: usize, text: String) -> Edit {
        Edit {
            at,
            end: at,
            text,
            join: "",
        }
    }
}

/// How the file indents: learnt from the file so inserted lines look like their neighbours.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Spaces per nesting level of mappings.
    pub indent: usize,
    /// Spaces between a key and the dashes of its block sequence (0 = `key:\n- item`).
    pub seq_offset: usize,
    /// The text is JSON (one value, or a stream of them): what a patch adds is JSON too.
    pub json: bool,
    /// What separates a JSON key from its value in this file (`: `, `:`, ` : `).
    pub colon: &'static str,
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
        let json = is_json(src.text());
        let (flow_indent, colon) = if json {
            learn_flow(s, src)
        } else {
            (None, ": ")
        };
        let indent = indent.or(flow_indent).unwrap_or(2).clamp(1, 8);
        Style {
            indent,
            seq_offset: seq_offset.unwrap_or(indent).min(8),
            json,
            colon,
        }
    }
}

/// Whether the text is JSON: one value or several concatenated, as kubectl reads them.
/// Only a text that opens with a bracket is given to the JSON parser, so YAML costs nothing.
fn is_json(text: &str) -> bool {
    let t = text.trim_start();
    if !t.starts_with(['{', '[']) {
        return false;
    }
    serde_json::Deserializer::from_str(t)
        .into_iter::<serde::de::IgnoredAny>()
        .all(|v| v.is_ok())
}

/// The nesting step and key/value separator of a JSON file, from its first multi-line
/// nested collection and its first entry written on one line.
fn learn_flow(s: &Stream, src: &Source<'_>) -> (Option<usize>, &'static str) {
    let mut indent = None;
    let mut colon = None;
    for node in &s.nodes {
        let Kind::Map { entries, .. } = &node.kind else {
            continue;
        };
        for &(k, v) in entries {
            let (kn, vn) = (s.node(k), s.node(v));
            if colon.is_none() {
                colon = src
                    .text()
                    .get(kn.end.byte..vn.start.byte)
                    .and_then(|t| [": ", ":", " : ", " :"].into_iter().find(|c| *c == t));
            }
            let child = match &vn.kind {
                Kind::Map { entries, .. } => entries.first().map(|&(c, _)| c),
                Kind::Seq { items, .. } => items.first().copied(),
                _ => None,
            };
            if let Some(c) = child.map(|c| s.node(c).start)
                && indent.is_none()
                && c.line > kn.start.line
            {
                let line_indent = leading_blanks(src.line(kn.start.line)).len();
                indent = c.col.checked_sub(line_indent).filter(|&d| d > 0);
            }
        }
        if indent.is_some() && colon.is_some() {
            break;
        }
    }
    (indent, colon.unwrap_or(": "))
}

fn leading_blanks(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
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
        Edit::insert(at, text)
    }

    /// The last line holding content of a node.
    pub fn last_line(&self, n: NodeId) -> usize {
        let node = self.s.node(n);
        self.src
            .last_content_line(node.end.byte)
            .max(node.start.line)
    }

    /// Adds `key: value` to a mapping, block or flow. For a block mapping `lines` are the
    /// entry's lines (the first holding the key, relative indentation in the later ones); a
    /// flow mapping gets `value` written in its own syntax.
    pub fn add_to_map(
        &self,
        map: NodeId,
        lines: &[String],
        key: &str,
        value: &Value,
    ) -> Option<Edit> {
        let node = self.s.node(map);
        match &node.kind {
            Kind::Map { flow: true, .. } => self.add_to_flow(map, &[(Some(key), value)]),
            Kind::Map { flow: false, .. } => {
                let col = node.start.col;
                let pad = " ".repeat(col);
                let lines: Vec<String> = lines.iter().map(|l| format!("{pad}{l}")).collect();
                Some(self.lines_after(self.last_line(map), &lines))
            }
            _ => None,
        }
    }

    /// Whether a collection is written in flow style (`{…}`, `[…]`).
    pub fn is_flow(&self, n: NodeId) -> bool {
        matches!(
            self.s.node(n).kind,
            Kind::Map { flow: true, .. } | Kind::Seq { flow: true, .. }
        )
    }

    /// The collection directly holding node `n`, when it is near. Parents precede their
    /// children in the arena and spans nest, so it is the nearest earlier collection whose
    /// span holds `n`. Only style is looked up this way, so the walk back over `n`'s
    /// earlier siblings is bounded: a huge sibling list costs no more than a short one.
    pub fn enclosing(&self, n: NodeId) -> Option<NodeId> {
        const WALK: u32 = 1024;
        let node = self.s.node(n);
        (n.saturating_sub(WALK)..n).rev().find(|&i| {
            let p = self.s.node(i);
            matches!(p.kind, Kind::Map { .. } | Kind::Seq { .. })
                && p.start.byte <= node.start.byte
                && node.end.byte <= p.end.byte
        })
    }

    /// The value of key node `key` when it sits in a flow mapping, and that mapping when
    /// it is near (see [`Editor::enclosing`]).
    pub fn flow_parent(&self, key: NodeId) -> Option<(Option<NodeId>, NodeId)> {
        let v = self.value_after(key).filter(|&v| self.in_flow(v))?;
        Some((self.enclosing(key), v))
    }

    /// Replaces a value (an empty one, typically) inside flow collection `parent` with
    /// `value` written in the parent's syntax (the file's, when the parent is unknown).
    pub fn replace_value(&self, n: NodeId, parent: Option<NodeId>, value: &Value) -> Edit {
        let text = render::value(value, self.syntax(parent), Layout::Inline);
        self.replace(n, &text)
    }

    /// Writes `value` the way collection `coll` writes its entries.
    pub fn render(&self, coll: Option<NodeId>, value: &Value) -> String {
        render::value(value, self.syntax(coll), Layout::Inline)
    }

    /// How keys, strings and separators are written inside collection `coll`: JSON in a
    /// JSON file, keys and strings quoted where the neighbouring ones are, the neighbours'
    /// spacing. An empty collection takes after the one holding it.
    fn syntax(&self, coll: Option<NodeId>) -> Syntax<'a> {
        let json = self.style.json;
        let sample = coll.and_then(|c| {
            self.sample_map(c)
                .or_else(|| self.enclosing(c).and_then(|p| self.sample_map(p)))
        });
        let entries = || sample.into_iter().flat_map(|m| self.s.own_entries(m));
        let quote_keys = json || entries().last().is_some_and(|(k, _)| self.quoted(k));
        let quote_strings = json
            || entries()
                .find(|&(_, v)| self.is_string(v))
                .is_some_and(|(_, v)| self.quoted(v));
        let local = entries()
            .last()
            .filter(|_| quote_keys)
            .and_then(|(k, v)| self.colon_of(k, v));
        let colon = local.unwrap_or(if json { self.style.colon } else { ": " });
        let comma = coll
            .and_then(|c| self.comma_of(c))
            .or_else(|| sample.and_then(|m| self.comma_of(m)))
            .or_else(|| {
                coll.and_then(|c| self.enclosing(c))
                    .and_then(|p| self.comma_of(p))
            })
            .unwrap_or(", ");
        Syntax {
            json,
            quote_keys,
            quote_strings,
            colon,
            comma,
        }
    }

    /// The separator between the last two entries of a collection written on one line.
    fn comma_of(&self, coll: NodeId) -> Option<&'a str> {
        let (prev_end, next_start) = match &self.s.node(coll).kind {
            Kind::Map { entries, .. } => {
                let [.., (_, a), (b, _)] = entries.as_slice() else {
                    return None;
                };
                (self.s.node(*a).end.byte, self.s.node(*b).start.byte)
            }
            Kind::Seq { items, .. } => {
                let [.., a, b] = items.as_slice() else {
                    return None;
                };
                (self.s.node(*a).end.byte, self.s.node(*b).start.byte)
            }
            _ => return None,
        };
        let t = self.src.text().get(prev_end..next_start)?;
        matches!(t, "," | ", ").then_some(t)
    }

    /// A non-empty mapping to copy habits from: the collection itself, or its last item
    /// that is a mapping.
    fn sample_map(&self, coll: NodeId) -> Option<NodeId> {
        let non_empty = |m: NodeId| matches!(&self.s.node(m).kind, Kind::Map { entries, .. } if !entries.is_empty());
        match &self.s.node(coll).kind {
            Kind::Map { .. } => Some(coll).filter(|&m| non_empty(m)),
            Kind::Seq { items, .. } => items.iter().rev().copied().find(|&i| non_empty(i)),
            _ => None,
        }
    }

    fn quoted(&self, n: NodeId) -> bool {
        self.raw(n).starts_with('"')
    }

    /// A scalar that is a string, not a number or boolean written plain.
    fn is_string(&self, n: NodeId) -> bool {
        match &self.s.node(n).kind {
            Kind::Scalar { value, style } => {
                *style != crate::yaml::Style::Plain
                    || value.parse::<f64>().is_err()
                        && !matches!(value.as_str(), "true" | "false" | "null" | "~" | "")
            }
            _ => false,
        }
    }

    /// The separator between a key and its value when it is blanks around one colon.
    fn colon_of(&self, k: NodeId, v: NodeId) -> Option<&'a str> {
        let t = self
            .src
            .text()
            .get(self.s.node(k).end.byte..self.s.node(v).start.byte)?;
        (t.trim_matches(' ') == ":").then_some(t)
    }

    /// Adds entries (`(Some(key), value)` in a mapping, `(None, item)` in a sequence) to a
    /// flow collection, keeping the collection's shape: after a trailing comma the new
    /// entries get one too; when the closing bracket has a line of its own, each new entry
    /// gets a line at its neighbours' indentation (spread over lines like the rest of the
    /// file in JSON); otherwise they follow the last entry on its line.
    fn add_to_flow(&self, coll: NodeId, new: &[(Option<&str>, &Value)]) -> Option<Edit> {
        let node = self.s.node(coll);
        let bytes = self.src.text().as_bytes();
        let (open, close_byte, last) = match &node.kind {
            Kind::Map {
                flow: true,
                entries,
            } => (
                b'{',
                b'}',
                entries.last().map(|&(k, v)| {
                    let (kn, vn) = (self.s.node(k), self.s.node(v));
                    (kn.start, kn.end.byte.max(vn.end.byte))
                }),
            ),
            Kind::Seq { flow: true, items } => (
                b'[',
                b']',
                items
                    .last()
                    .map(|&i| (self.s.node(i).start, self.s.node(i).end.byte)),
            ),
            _ => return None,
        };
        let close = node.end.byte.checked_sub(1)?;
        if bytes.get(close) != Some(&close_byte) {
            return None;
        }
        let syn = self.syntax(Some(coll));
        let one = |(key, v): &(Option<&str>, &Value), layout: Layout<'_>| match key {
            Some(k) => render::entry(k, v, syn, layout),
            None => render::value(v, syn, layout),
        };
        let inline = || -> String {
            new.iter()
                .map(|e| format!("{}{}", syn.comma, one(e, Layout::Inline)))
                .collect()
        };
        let Some((first, end)) = last else {
            if bytes.get(node.start.byte) != Some(&open) {
                return None;
            }
            let text: Vec<String> = new.iter().map(|e| one(e, Layout::Inline)).collect();
            let mut edit = Edit::insert(node.start.byte + 1, text.join(syn.comma));
            edit.join = if syn.comma == "," { "," } else { ", " };
            return Some(edit);
        };
        let comma = trailing_comma(bytes, end, close)?;
        let line = self.src.line_of(comma.unwrap_or(end));
        if self.src.line_of(close) == line || (comma.is_none() && !self.rest_is_blank(end)) {
            return Some(Edit::insert(end, inline()));
        }
        let pad = leading_blanks(self.src.line(first.line));
        let eol = self.eol();
        let layout = if syn.json {
            Layout::Lines {
                pad,
                indent: self.style.indent,
                eol,
            }
        } else {
            Layout::Inline
        };
        let text = new.iter().map(|e| one(e, layout));
        Some(match comma {
            Some(_) => Edit::insert(
                self.line_content_end(line),
                text.map(|t| format!("{eol}{pad}{t},")).collect(),
            ),
            None => Edit::insert(end, text.map(|t| format!(",{eol}{pad}{t}")).collect()),
        })
    }

    /// Whether only blanks follow byte `at` on its line.
    fn rest_is_blank(&self, at: usize) -> bool {
        let end = self.line_content_end(self.src.line_of(at));
        self.src.text()[at.min(end)..end].trim().is_empty()
    }

    fn line_content_end(&self, line: usize) -> usize {
        self.src.line_start(line) + self.src.line(line).len()
    }

    /// Adds lines as children of a key whose value is empty (`key:`, `key: null`, `key: ~`);
    /// a written null goes, so that the lines become the value.
    pub fn add_under_key(&self, key: NodeId, lines: &[String]) -> Vec<Edit> {
        let kn = self.s.node(key);
        let pad = " ".repeat(kn.start.col + self.style.indent);
        let lines: Vec<String> = lines.iter().map(|l| format!("{pad}{l}")).collect();
        let mut edits: Vec<Edit> = self.drop_null(key).into_iter().collect();
        edits.push(self.lines_after(kn.start.line, &lines));
        edits
    }

    /// Deletes the `null` or `~` written as the value of `key`, with the blanks before it.
    pub fn drop_null(&self, key: NodeId) -> Option<Edit> {
        let v = self.value_after(key).filter(|&v| self.s.is_null(v))?;
        let vn = self.s.node(v);
        if vn.end.byte <= vn.start.byte {
            return None;
        }
        let bytes = self.src.text().as_bytes();
        let mut at = vn.start.byte;
        while at > 0 && matches!(bytes[at - 1], b' ' | b'\t') {
            at -= 1;
        }
        Some(Edit {
            at,
            end: vn.end.byte,
            text: String::new(),
            join: "",
        })
    }

    /// The value of key node `key`: the builder adds a key's value right after it.
    pub fn value_after(&self, key: NodeId) -> Option<NodeId> {
        let v = key.checked_add(1)?;
        let vn = self.s.nodes.get(v as usize)?;
        (vn.start.byte >= self.s.node(key).end.byte).then_some(v)
    }

    /// Whether node `n` sits in a flow collection: what follows it, past blanks and
    /// comments, is a comma or a closing bracket, which never starts block content.
    pub fn in_flow(&self, n: NodeId) -> bool {
        let bytes = self.src.text().as_bytes();
        let mut i = self.s.node(n).end.byte;
        while i < bytes.len() {
            match bytes[i] {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => {
                    while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                        i += 1;
                    }
                }
                b => return matches!(b, b',' | b'}' | b']'),
            }
        }
        false
    }

    /// Appends items to a sequence. Each item is given as its lines without the dash (for
    /// a block sequence) and as a value (for a flow sequence).
    pub fn add_to_seq(&self, seq: NodeId, items: &[Vec<String>], values: &[Value]) -> Option<Edit> {
        let node = self.s.node(seq);
        match &node.kind {
            Kind::Seq { flow: true, .. } => {
                let new: Vec<(Option<&str>, &Value)> = values.iter().map(|v| (None, v)).collect();
                self.add_to_flow(seq, &new)
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
            return Edit::insert(node.start.byte, format!(" {text}"));
        }
        Edit {
            at: node.start.byte,
            end: node.end.byte,
            text: text.to_string(),
            join: "",
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
            join: "",
        }
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
        // Two changes of one unit may both delete the same empty value.
        edits.dedup_by(|a, b| a.at == b.at && a.end == b.end && a.at < a.end && a.text == b.text);
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
        let mut last_insert = None;
        for e in &edits {
            out.push_str(&src.text()[pos..e.at]);
            if last_insert == Some(e.at) && e.at == e.end {
                out.push_str(e.join);
            }
            out.push_str(&e.text);
            last_insert = (e.at == e.end).then_some(e.at);
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

/// After the last entry of a flow collection (ending at `from`), the position of its
/// trailing comma if it has one. `None` when anything but blanks, comments and one comma
/// stands before the closing bracket at `close`: the collection is not shaped as expected.
fn trailing_comma(bytes: &[u8], from: usize, close: usize) -> Option<Option<usize>> {
    let mut comma = None;
    let mut i = from;
    while i < close {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < close && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b',' if comma.is_none() => {
                comma = Some(i);
                i += 1;
            }
            _ => return None,
        }
    }
    (i == close).then_some(comma)
}
