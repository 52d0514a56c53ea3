//! Builds a [`Stream`] from parse events, whichever scanner produced them.
//!
//! Both the full parser (granit) and our fast scanner feed the same builder, so node order,
//! collection ends, duplicate keys and the limits are computed by one piece of code: the fast
//! scanner only has to produce the same events at the same positions.

use super::tree::{DuplicateKey, Kind, Limits, Node, NodeId, ParseError, Pos, Stream, Style};
use std::collections::{HashMap, HashSet};

/// One parse event, with anchors as numbers (0: none) as granit numbers them.
pub(crate) enum Event {
    /// A document begins.
    DocStart,
    /// A document ends.
    DocEnd,
    /// A scalar: value, style, anchor, tagged.
    Scalar(super::tree::Text, Style, usize, bool),
    /// `*name`, by anchor number.
    Alias(usize),
    /// A sequence begins: flow, anchor, tagged.
    SeqStart(bool, usize, bool),
    /// A mapping begins: flow, anchor, tagged.
    MapStart(bool, usize, bool),
    /// The innermost collection ends.
    End,
    /// Anything else the parser reports (stream start and end): only the limits are checked.
    Other,
}

enum Frame {
    Seq(NodeId),
    /// A mapping, its pending key, and a set of its keys once it is large enough to need one
    /// (small mappings, nearly all of them, are scanned instead: no allocation per key).
    Map(NodeId, Option<NodeId>, Option<HashSet<String>>),
}

/// Turns events into a [`Stream`].
pub(crate) struct Builder {
    s: Stream,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
}

impl Builder {
    /// A builder for a text of `len` bytes.
    pub(crate) fn new(limits: Limits, len: usize) -> Builder {
        Builder {
            s: Stream {
                limits,
                // About one node per ten bytes of YAML: growing the arena is then rare.
                nodes: Vec::with_capacity(len / 10),
                ..Stream::default()
            },
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
        }
    }

    /// Collections open right now.
    pub(crate) fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Whether an error stopped the stream.
    pub(crate) fn failed(&self) -> bool {
        self.s.error.is_some()
    }

    /// Records the parser's error; later events are ignored.
    pub(crate) fn fail(&mut self, error: ParseError) {
        self.s.error = Some(error);
    }

    /// The finished stream.
    pub(crate) fn finish(self) -> Stream {
        self.s
    }

    /// Applies one event spanning `start..end`. Returns false once the stream has an error
    /// (a limit was hit): the caller stops there.
    pub(crate) fn event(&mut self, event: Event, start: Pos, end: Pos) -> bool {
        if self.s.error.is_some() {
            return false;
        }
        let limits = self.s.limits;
        if self.s.nodes.len() >= limits.max_nodes {
            self.fail(ParseError {
                line: start.line,
                column: start.col + 1,
                message: format!(
                    "the file has more than {} YAML nodes; not analysed",
                    limits.max_nodes
                ),
            });
            return false;
        }
        if self.stack.len() >= limits.max_depth {
            self.fail(ParseError {
                line: start.line,
                column: start.col + 1,
                message: format!("nesting deeper than {} levels", limits.max_depth),
            });
            return false;
        }
        let id = match event {
            Event::DocStart => {
                self.root = None;
                self.anchors.clear();
                return true;
            }
            Event::DocEnd => {
                self.s.docs.push(self.root.take());
                return true;
            }
            Event::Scalar(value, style, anchor, tagged) => {
                let id = self.push(Kind::Scalar { value, style }, start, end, tagged);
                self.anchor(anchor, id);
                id
            }
            Event::Alias(anchor) => {
                let kind = match self.anchors.get(&anchor) {
                    Some(&target) => Kind::Alias(target),
                    None => Kind::Scalar {
                        value: super::tree::Text::default(),
                        style: Style::Plain,
                    },
                };
                self.push(kind, start, end, false)
            }
            Event::SeqStart(flow, anchor, tagged) => {
                let kind = Kind::Seq {
                    items: Vec::new(),
                    flow,
                };
                let id = self.push(kind, start, end, tagged);
                self.anchor(anchor, id);
                self.stack.push(Frame::Seq(id));
                return true;
            }
            Event::MapStart(flow, anchor, tagged) => {
                let kind = Kind::Map {
                    entries: Vec::new(),
                    flow,
                };
                let id = self.push(kind, start, end, tagged);
                self.anchor(anchor, id);
                self.stack.push(Frame::Map(id, None, None));
                return true;
            }
            Event::Other => return true,
            Event::End => {
                let id = match self.stack.pop() {
                    Some(Frame::Seq(id)) | Some(Frame::Map(id, _, _)) => id,
                    None => return true,
                };
                self.close(id, start, end);
                id
            }
        };
        self.attach(id);
        true
    }

    fn anchor(&mut self, anchor: usize, id: NodeId) {
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
    }

    /// Adds a finished node to its parent (collections come here from their end event).
    fn attach(&mut self, id: NodeId) {
        let s = &mut self.s;
        match self.stack.last_mut() {
            None => self.root = Some(id),
            Some(Frame::Seq(seq)) => {
                if let Kind::Seq { items, .. } = &mut s.nodes[*seq as usize].kind {
                    items.push(id);
                }
            }
            Some(Frame::Map(map, pending, seen)) => match pending.take() {
                None => *pending = Some(id),
                Some(key) => {
                    let map = *map;
                    if let Some(k) = s.scalar(key).filter(|k| *k != "<<")
                        && seen_before(s, map, k, seen)
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

    fn push(&mut self, kind: Kind, start: Pos, end: Pos, tagged: bool) -> NodeId {
        let id = self.s.nodes.len() as NodeId;
        self.s.nodes.push(Node {
            kind,
            start,
            end,
            tagged,
        });
        id
    }

    /// Sets a collection's end: its closing bracket for flow style, else its last child.
    fn close(&mut self, id: NodeId, end_start: Pos, end_end: Pos) {
        let node = &self.s.nodes[id as usize];
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
            end_end
        } else {
            match last_child {
                Some(c) => self.s.nodes[c as usize].end,
                None => end_start,
            }
        };
        self.s.nodes[id as usize].end = end;
    }
}

/// Whether `key` is already a key of `map` (still being built).
fn seen_before(s: &Stream, map: NodeId, key: &str, set: &mut Option<HashSet<String>>) -> bool {
    const SCAN: usize = 16;
    if let Some(set) = set {
        return !set.insert(key.to_string());
    }
    let Kind::Map { entries, .. } = &s.nodes[map as usize].kind else {
        return false;
    };
    let keys = || entries.iter().filter_map(|&(k, _)| s.scalar(k));
    if entries.len() < SCAN {
        return keys().any(|k| k == key);
    }
    let mut all: HashSet<String> = keys().map(str::to_string).collect();
    let dup = !all.insert(key.to_string());
    *set = Some(all);
    dup
}
