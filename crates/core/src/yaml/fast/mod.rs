//! A fast scanner for the subset of YAML that real manifests use.
//!
//! The full parser reads about 30 MB/s; this reads block mappings and sequences, plain and
//! quoted scalars (folded over lines too), literal and folded blocks, flow collections (JSON
//! included), anchors, aliases, comments and multi-document streams directly from the text,
//! and feeds the tree builder the full parser feeds (`src/yaml/build.rs`), with the same
//! positions. On anything it is not sure about (tags, directives, complex keys, tabs, a lone
//! CR, odd characters, errors, limits) it declines, says why ([`Decline`]), and the full
//! parser reads the file, so its output is either the full parser's output or nothing; tests
//! check exactly that.

mod block;
mod cursor;
mod flow;
mod scalar;

use super::build::{Builder, Event};
use super::tree::{Limits, Pos, Stream, Style, Text};
use cursor::Cursor;

/// Why the fast scanner left a text to the full parser: a short, stable label such as
/// `"tag"` or `"multi-line implicit key"` (for statistics: `cargo run --example fast-share`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decline(pub &'static str);

impl std::fmt::Display for Decline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Parses `text` if it is in the subset; `None` means "use the full parser".
pub fn parse(text: &str, limits: Limits) -> Option<Stream> {
    scan(text, limits).ok()
}

/// Parses `text` if it is in the subset, or says why not.
pub fn scan(text: &str, limits: Limits) -> Result<Stream, Decline> {
    // The parser treats tabs and a lone CR specially, rejects control characters and reads
    // a few non-ASCII characters as breaks or marks: leave those texts to it.
    let (odd, cr, high) = classify(text.as_bytes());
    if odd {
        let tab = text.as_bytes().contains(&b'\t');
        return Err(Decline(if tab { "tab" } else { "control character" }));
    }
    if cr && !cursor::crlf_only(text.as_bytes()) {
        return Err(Decline("lone CR"));
    }
    if high && text.chars().any(special) {
        return Err(Decline("special Unicode character"));
    }
    let mut s = Scanner {
        c: Cursor::new(text, !high),
        b: Builder::new(limits, text.len()),
        names: Vec::new(),
        max_depth: limits.max_depth,
    };
    if s.stream().is_none() || s.b.failed() {
        let why = match s.c.why {
            "" if s.b.failed() => "limit",
            "" => "other",
            why => why,
        };
        return Err(Decline(why));
    }
    Ok(s.b.finish())
}

/// Whether the text has control characters (other than LF and CR), CR, non-ASCII bytes.
fn classify(b: &[u8]) -> (bool, bool, bool) {
    // Byte-wide accumulators and no early exit: the loop vectorises, and nearly all texts
    // pass it.
    let (mut odd, mut cr, mut high) = (0u8, 0u8, 0u8);
    for &x in b {
        odd |= u8::from((x < 0x20) & (x != b'\n') & (x != b'\r')) | u8::from(x == 0x7f);
        cr |= u8::from(x == b'\r');
        high |= x & 0x80;
    }
    (odd != 0, cr != 0, high != 0)
}

/// Non-ASCII characters the parser does not read as ordinary text: C1 controls, line and
/// paragraph separators, byte-order marks and non-characters.
fn special(c: char) -> bool {
    matches!(
        c,
        '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

/// The scanner's state: where it reads, what it has built, and the anchors in scope.
struct Scanner<'a> {
    c: Cursor<'a>,
    b: Builder,
    /// Anchor names of the current document with their numbers (number = index + 1).
    names: Vec<&'a str>,
    max_depth: usize,
}

impl<'a> Scanner<'a> {
    /// Sends an event to the builder; `None` once a limit is hit.
    fn emit(&mut self, event: Event, start: Pos, end: Pos) -> Option<()> {
        self.b.event(event, start, end).then_some(())
    }

    /// Opens a collection, declining well before the parser's nesting limit.
    fn open(&mut self, event: Event, start: Pos, end: Pos) -> Option<()> {
        if self.b.depth() + 3 >= self.max_depth {
            return self.c.no("deep nesting");
        }
        self.emit(event, start, end)
    }

    /// A scalar node.
    fn scalar(
        &mut self,
        value: Text,
        style: Style,
        anchor: usize,
        start: Pos,
        end: Pos,
    ) -> Option<()> {
        self.emit(Event::Scalar(value, style, anchor, false), start, end)
    }

    /// The empty value the parser reports as `~`.
    fn empty(&mut self, anchor: usize, at: Pos) -> Option<()> {
        self.scalar(Text::const_new("~"), Style::Plain, anchor, at, at)
    }

    /// Reads a name after `&` or `*` (the cursor is at the sigil); it must end in a blank.
    fn name(&mut self) -> Option<&'a str> {
        let b = self.c.b;
        let from = self.c.i + 1;
        let len = b[from..]
            .iter()
            .take_while(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'-' | b'.'))
            .count();
        if len == 0 || !self.c.blank_at(1 + len) {
            return self.c.no("odd anchor name");
        }
        self.c.bump(1 + len);
        self.c.slice(from, from + len)
    }

    /// `&name`: a new anchor number. Redefinitions decline (which node wins is the parser's
    /// business).
    fn anchor(&mut self) -> Option<usize> {
        let name = self.name()?;
        if self.names.contains(&name) {
            return self.c.no("anchor redefined");
        }
        self.names.push(name);
        Some(self.names.len())
    }

    /// `*name`: an alias node. Unknown names decline.
    fn alias(&mut self) -> Option<()> {
        let start = self.c.pos();
        let name = self.name()?;
        let Some(id) = self.names.iter().position(|n| *n == name) else {
            return self.c.no("unknown alias");
        };
        let id = id + 1;
        let end = self.c.pos();
        self.emit(Event::Alias(id), start, end)
    }

    /// The whole stream: documents separated by `---` and `...`.
    fn stream(&mut self) -> Option<()> {
        let at = self.c.pos();
        self.emit(Event::Other, at, at)?;
        self.c.settle();
        while !self.c.eof() {
            self.names.clear();
            let at = self.c.pos();
            if self.c.at_marker() {
                if self.c.peek() == b'.' {
                    return self.c.no("document end outside a document");
                }
                self.c.bump(3);
                let after = self.c.pos();
                let bare = self.c.eol();
                if !self.c.rest_blank() {
                    return self.c.no("text after ---");
                }
                self.c.settle();
                self.emit(Event::DocStart, at, after)?;
                if self.c.eof() || self.c.at_marker() {
                    if !bare {
                        return self.c.no("empty document with a comment");
                    }
                    self.empty(0, after)?;
                } else {
                    self.line_node(-1)?;
                }
            } else {
                self.emit(Event::DocStart, at, at)?;
                self.line_node(-1)?;
            }
            if !self.c.eof() && !self.c.at_marker() {
                return self.c.no("text after the root node");
            }
            let at = self.c.pos();
            self.emit(Event::DocEnd, at, at)?;
            if self.c.at_marker() && self.c.peek() == b'.' {
                self.c.bump(3);
                if !self.c.rest_blank() {
                    return self.c.no("text after ...");
                }
                self.c.settle();
                let next_doc = self.c.at_marker() && self.c.peek() == b'-';
                if !(self.c.eof() || next_doc) {
                    return self.c.no("document after ... without ---");
                }
            }
        }
        let at = self.c.pos();
        self.emit(Event::Other, at, at)
    }
}
