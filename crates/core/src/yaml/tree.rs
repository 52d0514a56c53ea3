//! A located YAML tree built from the parser's events.
//!
//! Every node keeps its byte range, line and column, and whether it was written in block or
//! flow style, so rules can point at the exact line and patches can edit text around it.
//! Aliases are kept as references to their anchor instead of being expanded: a YAML bomb
//! then costs one node per alias, not billions.

use super::build::{Builder, Event};
use serde_saphyr::granit_parser::{
    Event as GEvent, Marker, Options, Parser, ScalarStyle, StructureStyle,
};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Index of a node in its [`Document`].
pub type NodeId = u32;

/// Limits that keep hostile input cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nodes allowed in one stream.
    pub max_nodes: usize,
    /// Nesting depth of block or flow collections.
    pub max_depth: usize,
    /// Aliases followed to resolve one value (merges included).
    pub max_alias_hops: usize,
    /// Work allowed for all lookups through `<<` merge keys, per node of the stream (plus a
    /// fixed allowance): past it, merged mappings are no longer read and the stream says so.
    pub merge_work_per_node: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: 2_000_000,
            max_depth: 128,
            max_alias_hops: 64,
            merge_work_per_node: 64,
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

/// A scalar's text. Most keys and values in manifests are short: stored inline up to 24
/// bytes, they cost no allocation (allocation was over a third of `check`'s time).
pub type Text = compact_str::CompactString;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A scalar with its processed value.
    Scalar {
        /// The value after escape processing.
        value: Text,
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stream {
    /// Node arena.
    pub nodes: Vec<Node>,
    /// Root node of each complete document (`None` for an empty document).
    pub docs: Vec<Option<NodeId>>,
    /// Keys written twice in one mapping.
    pub duplicates: Vec<DuplicateKey>,
    /// Set when parsing stopped early; documents before the error are kept.
    pub error: Option<ParseError>,
    pub(super) limits: Limits,
    /// Work done by lookups through merge keys (the analysis is shared by worker threads).
    pub(super) merge_meter: MergeMeter,
}

/// Fixed allowance of merge work on top of the per-node one, so small files never hit it.
const MERGE_WORK_BASE: u64 = 1_000_000;

/// Counts node visits of lookups through `<<`; not part of the tree, so never compared.
#[derive(Debug, Default)]
pub(super) struct MergeMeter {
    work: AtomicU64,
    exhausted: AtomicBool,
}

impl PartialEq for MergeMeter {
    fn eq(&self, _: &MergeMeter) -> bool {
        true
    }
}

impl Eq for MergeMeter {}

/// Mappings already searched by one lookup, with the merge depth they were searched at: a
/// mapping reached again at the same depth or deeper holds nothing new, which keeps a lookup
/// linear in the mappings it can reach however often they are merged (a merge-key bomb).
type Seen = HashMap<NodeId, usize>;

impl Stream {
    /// Parses `text` into a located tree; never panics, never fails: errors land in `error`.
    ///
    /// Our fast scanner reads the common subset of YAML that manifests use; on anything else
    /// it declines and the full parser reads the text (and reports errors). A text YAML
    /// rejects may be a stream of JSON objects, read one document per object.
    pub fn parse(text: &str, limits: Limits) -> Stream {
        if let Some(s) = super::fast::parse(text, limits) {
            return s;
        }
        let s = Stream::parse_full(text, limits);
        if s.error.is_some()
            && let Some(json) = super::json_stream::parse(text, limits)
        {
            return json;
        }
        s
    }

    /// Parses `text` with the full parser only (the reference the fast scanner must match).
    pub fn parse_full(text: &str, limits: Limits) -> Stream {
        let mut opts = Options::default();
        // Comment events cost a third of the parser's speed; suppressions read line text.
        opts.emit_comments = false;
        opts.block_nesting_limit = limits.max_depth;
        opts.flow_nesting_limit = limits.max_depth;
        let mut parser = Parser::new_from_str_with_options(text, opts);
        let mut b = Builder::new(limits, text.len());
        while let Some(ev) = parser.next_event() {
            let (event, span) = match ev {
                Ok(x) => x,
                Err(e) => {
                    let m = e.marker();
                    b.fail(ParseError {
                        line: m.line().max(1),
                        column: m.col() + 1,
                        message: e.info(),
                    });
                    break;
                }
            };
            let event = match event {
                GEvent::DocumentStart(..) => Event::DocStart,
                GEvent::DocumentEnd => Event::DocEnd,
                GEvent::Scalar(value, style, anchor, tag) => {
                    let style = match style {
                        ScalarStyle::Plain => Style::Plain,
                        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                        _ => Style::Block,
                    };
                    Event::Scalar(Text::from(value), style, anchor, tag.is_some())
                }
                GEvent::Alias(anchor) => Event::Alias(anchor),
                GEvent::SequenceStart(style, anchor, tag) => {
                    Event::SeqStart(matches!(style, StructureStyle::Flow), anchor, tag.is_some())
                }
                GEvent::MappingStart(style, anchor, tag) => {
                    Event::MapStart(matches!(style, StructureStyle::Flow), anchor, tag.is_some())
                }
                GEvent::SequenceEnd | GEvent::MappingEnd => Event::End,
                _ => Event::Other,
            };
            let start = Pos::from_marker(&span.start);
            let end = Pos::from_marker(&span.end);
            if !b.event(event, start, end) {
                break;
            }
        }
        b.finish()
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
            Kind::Scalar { value, .. } => Some(value.as_str()),
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
        if let Some(found) = self.own(map, key) {
            return Some(found);
        }
        if !self.has_merge(map) {
            return None;
        }
        self.get_merged(map, key, 0, &mut Seen::new())
    }

    fn get_merged(
        &self,
        map: NodeId,
        key: &str,
        depth: usize,
        seen: &mut Seen,
    ) -> Option<(NodeId, NodeId)> {
        if !self.enter(map, depth, seen) {
            return None;
        }
        if depth > 0
            && let Some(found) = self.own(map, key)
        {
            return Some(found);
        }
        for src in self.merge_sources(map) {
            if let Some(found) = self.get_merged(src, key, depth + 1, seen) {
                return Some(found);
            }
        }
        None
    }

    /// Whether the mapping itself has a `<<` entry.
    fn has_merge(&self, map: NodeId) -> bool {
        self.own_entries(map)
            .any(|(k, _)| self.scalar(k) == Some("<<"))
    }

    /// The mappings merged into `map`, in the order they take precedence.
    fn merge_sources(&self, map: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.own_entries(map)
            .filter(|(k, _)| self.scalar(*k) == Some("<<"))
            .flat_map(move |(_, v)| {
                if self.is_seq(v) {
                    self.items(v).to_vec()
                } else {
                    vec![v]
                }
            })
    }

    /// Decides whether a merge lookup reads `map` at `depth`, and pays for it.
    fn enter(&self, map: NodeId, depth: usize, seen: &mut Seen) -> bool {
        if depth > self.limits.max_alias_hops || self.merge_exhausted() {
            return false;
        }
        let map = self.resolve(map);
        if seen.get(&map).is_some_and(|&d| d <= depth) {
            return false;
        }
        seen.insert(map, depth);
        let cost = 1 + self.own_entries(map).count() as u64;
        let budget = self
            .limits
            .merge_work_per_node
            .saturating_mul(self.nodes.len() as u64)
            .saturating_add(MERGE_WORK_BASE);
        let work = self.merge_meter.work.fetch_add(cost, Ordering::Relaxed) + cost;
        if work > budget {
            self.merge_meter.exhausted.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Node visits made so far by lookups through merge keys (a measure of work for tests).
    pub fn merge_work(&self) -> u64 {
        self.merge_meter.work.load(Ordering::Relaxed)
    }

    /// Whether lookups through merge keys ran out of their work allowance: merged values
    /// read after that point are missing, so the file's units must not be trusted.
    pub fn merge_exhausted(&self) -> bool {
        self.merge_meter.exhausted.load(Ordering::Relaxed)
    }

    /// Keys of a mapping after merges, each once, in the order they first appear.
    pub fn keys(&self, map: NodeId) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if !self.has_merge(map) {
            for (k, _) in self.own_entries(map) {
                if let Some(key) = self.scalar(k)
                    && !out.iter().any(|o| o == key)
                {
                    out.push(key.to_string());
                }
            }
            return out;
        }
        let mut known: HashSet<String> = HashSet::new();
        self.collect_keys(map, &mut out, &mut known, 0, &mut Seen::new());
        out
    }

    fn collect_keys(
        &self,
        map: NodeId,
        out: &mut Vec<String>,
        known: &mut HashSet<String>,
        depth: usize,
        seen: &mut Seen,
    ) {
        if !self.enter(map, depth, seen) {
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
                        self.collect_keys(src, out, known, depth + 1, seen);
                    }
                }
                Some(key) if known.insert(key.to_string()) => out.push(key.to_string()),
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

    #[test]
    fn merges_keep_their_precedence() {
        let s = parse(
            "a: &a {x: a, y: a}\nb: &b {<<: *a, y: b, z: b}\nc: &c {w: c, x: c}\nm:\n  <<: [*b, *c]\n  z: m\n",
        );
        let root = s.docs[0].unwrap();
        let m = s.get(root, "m").unwrap().1;
        let at = |k: &str| s.get_str(m, k);
        assert_eq!(at("z"), Some("m"), "own entry wins");
        assert_eq!(
            at("y"),
            Some("b"),
            "the merged mapping's own entry before its merges"
        );
        assert_eq!(
            at("x"),
            Some("a"),
            "first merged mapping, depth first, before the next"
        );
        assert_eq!(at("w"), Some("c"));
        assert_eq!(at("v"), None);
        assert_eq!(s.keys(m), ["x", "y", "z", "w"]);
    }

    #[test]
    fn merge_bomb_lookups_visit_each_mapping_once() {
        let mut t = String::from("l0: &l0 {a: 1}\n");
        for i in 1..=20 {
            let p = i - 1;
            t.push_str(&format!(
                "l{i}: &l{i} {{<<: [*l{p}, *l{p}, *l{p}, *l{p}]}}\n"
            ));
        }
        t.push_str("top: {<<: *l20}\n");
        let s = parse(&t);
        let top = s.get(s.docs[0].unwrap(), "top").unwrap().1;
        assert_eq!(s.get(top, "missing"), None);
        // 22 mappings of at most 2 entries: a few visits each, not 4^20.
        assert!(s.merge_work() < 100, "{}", s.merge_work());
        assert!(!s.merge_exhausted());
    }
}
