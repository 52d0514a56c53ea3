//! A located YAML tree built from the parser's events.
//!
//! Every node keeps its byte range, line and column, and whether it was written in block or
//! flow style, so rules can point at the exact line and patches can edit text around it.
//! Aliases are kept as references to their anchor instead of being expanded: a YAML bomb
//! then costs one node per alias, not billions.

use serde_saphyr::granit_parser::{Event, Marker, Options, Parser, ScalarStyle, Span};
use std::collections::{HashMap, HashSet};

/// Index of a node in its [`Document`].
pub type NodeId = u32;

/// Limits that keep hostile input cheap.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nodes allowed in one stream.
    pub max_nodes: usize,
    /// Nesting depth of block or flow collections.
    pub max_depth: usize,
    /// Aliases followed to resolve one value (merges included).
    pub max_alias_hops: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: 2_000_000,
            max_depth: 128,
            max_alias_hops: 64,
        }
    }
}

/// A point in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Byte offset.
    pub byte: usize,
    /// 1-based line.
    pub line: usize,
    /// 0-based column in characters.
    pub col: usize,
}

impl Pos {
    fn from_marker(m: &Marker) -> Pos {
        Pos {
            byte: m.byte_offset().unwrap_or(0),
            line: m.line(),
            col: m.col(),
        }
    }
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No quotes.
    Plain,
    /// `'…'` or `"…"`.
    Quoted,
    /// `|` or `>`.
    Block,
}

/// What a node holds.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A scalar with its processed value.
    Scalar {
        /// The value after escape processing.
        value: String,
        /// How it was written.
        style: Style,
    },
    /// A sequence.
    Seq {
        /// Item nodes in order.
        items: Vec<NodeId>,
        /// Written as `[a, b]`.
        flow: bool,
    },
    /// A mapping.
    Map {
        /// Key and value nodes in order (duplicates kept).
        entries: Vec<(NodeId, NodeId)>,
        /// Written as `{a: b}`.
        flow: bool,
    },
    /// `*name`: refers to an anchored node.
    Alias(NodeId),
}

/// A node with its location.
#[derive(Debug, Clone)]
pub struct Node {
    /// Content.
    pub kind: Kind,
    /// Where the node starts (for block collections: the first key or dash).
    pub start: Pos,
    /// Where the node's own text ends (exclusive). For collections: the end of the last child.
    pub end: Pos,
    /// Whether an explicit tag such as `!!str` was written.
    pub tagged: bool,
}

/// A key written twice in one mapping.
#[derive(Debug, Clone)]
pub struct DuplicateKey {
    /// The mapping.
    pub map: NodeId,
    /// The key text.
    pub key: String,
    /// Where the second occurrence is.
    pub at: Pos,
}

/// Why the parser stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's reason.
    pub message: String,
}

/// All documents of a stream share one arena so ids stay valid across them.
#[derive(Debug, Default)]
pub struct Stream {
    /// Node arena.
    pub nodes: Vec<Node>,
    /// Root node of each complete document (`None` for an empty document).
    pub docs: Vec<Option<NodeId>>,
    /// Keys written twice in one mapping.
    pub duplicates: Vec<DuplicateKey>,
    /// Set when parsing stopped early; documents before the error are kept.
    pub error: Option<ParseError>,
    limits: Limits,
}

enum Frame {
    Seq(NodeId),
    /// A mapping, its pending key, and a set of its keys once it is large enough to need one
    /// (small mappings, nearly all of them, are scanned instead: no allocation per key).
    Map(NodeId, Option<NodeId>, Option<HashSet<String>>),
}

impl Stream {
    /// Parses `text` into a located tree; never panics, never fails: errors land in `error`.
    pub fn parse(text: &str, limits: Limits) -> Stream {
        let mut opts = Options::default();
        // Comment events cost a third of the parser's speed; suppressions read line text.
        opts.emit_comments = false;
        opts.block_nesting_limit = limits.max_depth;
        opts.flow_nesting_limit = limits.max_depth;
        let mut parser = Parser::new_from_str_with_options(text, opts);
        let mut s = Stream {
            limits,
            // About one node per ten bytes of YAML: growing the arena is then rare.
            nodes: Vec::with_capacity(text.len() / 10),
            ..Stream::default()
        };
        let mut stack: Vec<Frame> = Vec::new();
        let mut anchors: HashMap<usize, NodeId> = HashMap::new();
        let mut root: Option<NodeId> = None;
        while let Some(ev) = parser.next_event() {
            let (event, span) = match ev {
                Ok(x) => x,
                Err(e) => {
                    let m = e.marker();
                    s.error = Some(ParseError {
                        line: m.line().max(1),
                        column: m.col() + 1,
                        message: e.info(),
                    });
                    break;
                }
            };
            if s.nodes.len() >= limits.max_nodes {
                s.error = Some(ParseError {
                    line: span.start.line(),
                    column: span.start.col() + 1,
                    message: format!(
                        "the file has more than {} YAML nodes; not analysed",
                        limits.max_nodes
                    ),
                });
                break;
            }
            if stack.len() >= limits.max_depth {
                s.error = Some(ParseError {
                    line: span.start.line(),
                    column: span.start.col() + 1,
                    message: format!("nesting deeper than {} levels", limits.max_depth),
                });
                break;
            }
            let new_node = match event {
                Event::DocumentStart(..) => {
                    root = None;
                    anchors.clear();
                    continue;
                }
                Event::DocumentEnd => {
                    s.docs.push(root.take());
                    continue;
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let style = match style {
                        ScalarStyle::Plain => Style::Plain,
                        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                        _ => Style::Block,
                    };
                    let id = s.push(
                        Kind::Scalar {
                            value: value.into_owned(),
                            style,
                        },
                        &span,
                        tag.is_some(),
                    );
                    if anchor != 0 {
                        anchors.insert(anchor, id);
                    }
                    Some(id)
                }
                Event::Alias(anchor) => match anchors.get(&anchor) {
                    Some(&target) => Some(s.push(Kind::Alias(target), &span, false)),
                    None => Some(s.push(
                        Kind::Scalar {
                            value: String::new(),
                            style: Style::Plain,
                        },
                        &span,
                        false,
                    )),
                },
                Event::SequenceStart(style, anchor, tag) => {
                    let flow = matches!(style, serde_saphyr::granit_parser::StructureStyle::Flow);
                    let id = s.push(
                        Kind::Seq {
                            items: Vec::new(),
                            flow,
                        },
                        &span,
                        tag.is_some(),
                    );
                    if anchor != 0 {
                        anchors.insert(anchor, id);
                    }
                    stack.push(Frame::Seq(id));
                    continue;
                }
                Event::MappingStart(style, anchor, tag) => {
                    let flow = matches!(style, serde_saphyr::granit_parser::StructureStyle::Flow);
                    let id = s.push(
                        Kind::Map {
                            entries: Vec::new(),
                            flow,
                        },
                        &span,
                        tag.is_some(),
                    );
                    if anchor != 0 {
                        anchors.insert(anchor, id);
                    }
                    stack.push(Frame::Map(id, None, None));
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let id = match stack.pop() {
                        Some(Frame::Seq(id)) | Some(Frame::Map(id, _, _)) => id,
                        None => continue,
                    };
                    s.close(id, &span);
                    Some(id)
                }
                _ => continue,
            };
            let Some(id) = new_node else { continue };
            // Collections reach here from their end event, scalars at once.
            match stack.last_mut() {
                None => root = Some(id),
                Some(Frame::Seq(seq)) => {
                    let seq = *seq;
                    if let Kind::Seq { items, .. } = &mut s.nodes[seq as usize].kind {
                        items.push(id);
                    }
                }
                Some(Frame::Map(map, pending, seen)) => match pending.take() {
                    None => *pending = Some(id),
                    Some(key) => {
                        let map = *map;
                        if let Some(k) = s.scalar(key).filter(|k| *k != "<<")
                            && s.seen_before(map, k, seen)
                        {
                            s.duplicates.push(DuplicateKey {
                                map,
                                key: k.to_string(),
                                at: s.nodes[key as usize].start,
                            });
                        }
                        if let Kind::Map { entries, .. } = &mut s.nodes[map as usize].kind {
                            entries.push((key, id));
                        }
                    }
                },
            }
        }
        s
    }

    /// Whether `key` is already a key of `map` (still being built).
    fn seen_before(&self, map: NodeId, key: &str, set: &mut Option<HashSet<String>>) -> bool {
        const SCAN: usize = 16;
        if let Some(set) = set {
            return !set.insert(key.to_string());
        }
        let Kind::Map { entries, .. } = &self.nodes[map as usize].kind else {
            return false;
        };
        let keys = || entries.iter().filter_map(|&(k, _)| self.scalar(k));
        if entries.len() < SCAN {
            return keys().any(|k| k == key);
        }
        let mut all: HashSet<String> = keys().map(str::to_string).collect();
        let dup = !all.insert(key.to_string());
        *set = Some(all);
        dup
    }

    fn push(&mut self, kind: Kind, span: &Span, tagged: bool) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            kind,
            start: Pos::from_marker(&span.start),
            end: Pos::from_marker(&span.end),
            tagged,
        });
        id
    }

    fn close(&mut self, id: NodeId, end_span: &Span) {
        let node = &self.nodes[id as usize];
        let flow = matches!(
            node.kind,
            Kind::Seq { flow: true, .. } | Kind::Map { flow: true, .. }
        );
        let last_child = match &node.kind {
            Kind::Seq { items, .. } => items.last().copied(),
            Kind::Map { entries, .. } => entries.last().map(|(_, v)| *v),
            _ => None,
        };
        let end = if flow {
            Pos::from_marker(&end_span.end)
        } else {
            match last_child {
                Some(c) => self.nodes[c as usize].end,
                None => Pos::from_marker(&end_span.start),
            }
        };
        self.nodes[id as usize].end = end;
    }

    /// The node, by id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Follows aliases to the node they stand for (bounded).
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        for _ in 0..self.limits.max_alias_hops {
            match self.nodes[id as usize].kind {
                Kind::Alias(t) => id = t,
                _ => return id,
            }
        }
        id
    }

    /// The scalar text of a node (aliases followed), if it is a scalar.
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[self.resolve(id) as usize].kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The style of a scalar node (aliases followed).
    pub fn style(&self, id: NodeId) -> Option<Style> {
        match &self.nodes[self.resolve(id) as usize].kind {
            Kind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    /// Whether a node is a plain null (`~`, `null`, empty).
    pub fn is_null(&self, id: NodeId) -> bool {
        let r = self.resolve(id);
        matches!(&self.nodes[r as usize].kind,
            Kind::Scalar { value, style: Style::Plain } if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// Whether the node (aliases followed) is a mapping.
    pub fn is_map(&self, id: NodeId) -> bool {
        matches!(self.nodes[self.resolve(id) as usize].kind, Kind::Map { .. })
    }

    /// Whether the node (aliases followed) is a sequence.
    pub fn is_seq(&self, id: NodeId) -> bool {
        matches!(self.nodes[self.resolve(id) as usize].kind, Kind::Seq { .. })
    }

    /// Entries written in this mapping itself (aliases followed for the mapping, not merged).
    pub fn own_entries(&self, map: NodeId) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        let entries: &[(NodeId, NodeId)] = match &self.nodes[self.resolve(map) as usize].kind {
            Kind::Map { entries, .. } => entries,
            _ => &[],
        };
        entries.iter().copied()
    }

    /// Items of a sequence (aliases followed); empty for anything else.
    pub fn items(&self, seq: NodeId) -> &[NodeId] {
        match &self.nodes[self.resolve(seq) as usize].kind {
            Kind::Seq { items, .. } => items,
            _ => &[],
        }
    }

    /// The value of `key` written in the mapping itself (last one wins, as kubectl does).
    pub fn own(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        self.own_entries(map)
            .filter(|(k, _)| self.scalar(*k) == Some(key))
            .last()
    }

    /// The value of `key` after `<<` merge keys: the mapping's own entry wins, then merged
    /// mappings in order. Returns the key and value nodes.
    pub fn get(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        self.get_depth(map, key, 0)
    }

    fn get_depth(&self, map: NodeId, key: &str, depth: usize) -> Option<(NodeId, NodeId)> {
        if depth > self.limits.max_alias_hops {
            return None;
        }
        if let Some(found) = self.own(map, key) {
            return Some(found);
        }
        for (k, v) in self.own_entries(map) {
            if self.scalar(k) != Some("<<") {
                continue;
            }
            let sources: Vec<NodeId> = if self.is_seq(v) {
                self.items(v).to_vec()
            } else {
                vec![v]
            };
            for src in sources {
                if let Some(found) = self.get_depth(src, key, depth + 1) {
                    return Some(found);
                }
            }
        }
        None
    }

    /// Keys of a mapping after merges, each once, in the order they first appear.
    pub fn keys(&self, map: NodeId) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.collect_keys(map, &mut out, 0);
        out
    }

    fn collect_keys(&self, map: NodeId, out: &mut Vec<String>, depth: usize) {
        if depth > self.limits.max_alias_hops {
            return;
        }
        for (k, v) in self.own_entries(map) {
            match self.scalar(k) {
                Some("<<") => {
                    let sources: Vec<NodeId> = if self.is_seq(v) {
                        self.items(v).to_vec()
                    } else {
                        vec![v]
                    };
                    for src in sources {
                        self.collect_keys(src, out, depth + 1);
                    }
                }
                Some(key) if !out.iter().any(|o| o == key) => out.push(key.to_string()),
                _ => {}
            }
        }
    }

    /// Whether `key` is written more than once in `map` itself.
    pub fn is_duplicated(&self, map: NodeId, key: &str) -> bool {
        let map = self.resolve(map);
        self.duplicates.iter().any(|d| d.map == map && d.key == key)
    }

    /// The scalar value of `key` (merges applied), if it is a scalar.
    pub fn get_str(&self, map: NodeId, key: &str) -> Option<&str> {
        self.scalar(self.get(map, key)?.1)
    }

    /// Follows a path of keys through mappings (merges applied).
    pub fn path(&self, mut node: NodeId, keys: &[&str]) -> Option<NodeId> {
        for key in keys {
            node = self.get(node, key)?.1;
        }
        Some(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Stream {
        Stream::parse(t, Limits::default())
    }

    #[test]
    fn merges_and_positions() {
        let s = parse(
            "x: &c\n  restart: always\n  read_only: false\nservices:\n  web:\n    <<: *c\n    image: nginx\n",
        );
        assert!(s.error.is_none());
        let root = s.docs[0].unwrap();
        let web = s.path(root, &["services", "web"]).unwrap();
        let (_, ro) = s.get(web, "read_only").unwrap();
        assert_eq!(s.scalar(ro), Some("false"));
        assert_eq!(s.node(ro).start.line, 3);
        assert_eq!(s.node(web).start.line, 6);
        assert_eq!(s.node(web).end.line, 7);
        assert_eq!(s.keys(web), vec!["restart", "read_only", "image"]);
    }

    #[test]
    fn duplicates_and_errors() {
        let s = parse("a: 1\na: 2\n");
        assert_eq!(s.duplicates.len(), 1);
        let big: String = (0..40).map(|i| format!("k{i}: 1\n")).collect::<String>() + "k3: 2\n";
        let s = parse(&big);
        assert_eq!(s.duplicates.len(), 1);
        assert_eq!(s.duplicates[0].key, "k3");
        let s = parse("a: [1\n");
        assert!(s.error.is_some());
        let s = parse("a: 1\n---\nb: 2\n");
        assert_eq!(s.docs.len(), 2);
    }

    #[test]
    fn alias_bomb_is_cheap() {
        let mut t = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..30 {
            let p = i - 1;
            t.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let s = parse(&t);
        assert!(s.nodes.len() < 1000);
    }
}
