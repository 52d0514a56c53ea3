//! Block mappings, block sequences and the nodes inside them.
//!
//! Convention: after any node, the cursor is at the first character of the next line with
//! content (or at the end), so the caller reads that line's indentation from the column.

use super::Scanner;
use super::scalar;
use crate::yaml::Pos;
use crate::yaml::build::Event;
use crate::yaml::{Style, Text};

/// Where a node starts, which decides what it may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// First thing on its line: anything but a block scalar.
    Line,
    /// After `key: ` on the same line: no mapping or sequence.
    Value,
    /// After `- ` on the same line: a compact mapping or sequence is allowed.
    Item,
}

impl Scanner<'_> {
    /// The node that starts at the cursor, the first character of a line; its content must be
    /// indented more than `parent`.
    pub(super) fn line_node(&mut self, parent: isize) -> Option<()> {
        self.node(parent, Ctx::Line)
    }

    fn node(&mut self, parent: isize, ctx: Ctx) -> Option<()> {
        let col = self.c.col();
        let mut anchor = 0;
        if self.c.peek() == b'&' {
            if ctx == Ctx::Line {
                return self.c.no("anchor on its own line");
            }
            anchor = self.anchor()?;
            let prop_end = self.c.pos();
            if self.c.rest_blank() {
                // The anchored node is on the following lines, or empty.
                self.c.settle();
                if !self.c.eof() && !self.c.at_marker() {
                    let k = self.c.col() as isize;
                    if k > parent {
                        return self.anchored_line_node(anchor);
                    }
                    if k == parent && self.c.peek() == b'-' && self.c.blank_at(1) {
                        return self.c.no("anchored indentless sequence");
                    }
                }
                return self.empty(anchor, prop_end);
            }
        }
        let collections = ctx != Ctx::Value && anchor == 0;
        let start = self.c.pos();
        match self.c.peek() {
            b'-' if self.c.blank_at(1) => {
                if !collections {
                    return self.c.no("sequence after a key or anchor on one line");
                }
                self.seq(col, false, 0)
            }
            b'*' => {
                if anchor != 0 {
                    return self.c.no("anchored alias");
                }
                self.alias()?;
                self.end_of_inline(parent)
            }
            b'[' | b'{' => {
                self.flow(parent, anchor)?;
                self.end_of_inline(parent)
            }
            b'|' | b'>' => {
                // On its own line too (`key:` then `|-` below it): the content is still
                // indented under the enclosing block, which is `parent`.
                let (value, start, end) = scalar::block(&mut self.c, parent)?;
                self.scalar(value, Style::Block, anchor, start, end)?;
                self.c.settle();
                Some(())
            }
            b'"' | b'\'' => {
                let (value, multi) = scalar::quoted(&mut self.c, parent)?;
                let end = self.c.pos();
                if self.c.peek() == b':' && self.c.blank_at(1) {
                    if !collections || multi || end.byte - start.byte > scalar::MAX_KEY {
                        return self.c.no("odd quoted key");
                    }
                    return self.map(col, (value, Style::Quoted, start, end), 0);
                }
                self.scalar(value, Style::Quoted, anchor, start, end)?;
                self.end_of_inline(parent)
            }
            b'!' => self.c.no("tag"),
            b'?' => self.c.no("complex key"),
            b'&' | b'%' | b'@' | b'`' | b':' | b',' | b']' | b'}' | b'#' => {
                self.c.no("indicator at the start of a node")
            }
            _ => {
                let (text, key) = scalar::plain_block(&mut self.c)?;
                if key {
                    let end = self.c.pos();
                    if !collections {
                        return self.c.no("mapping after a key or anchor on one line");
                    }
                    return self.map(col, (Text::from(text), Style::Plain, start, end), 0);
                }
                let value = match scalar::plain_more(&mut self.c, parent, text)? {
                    Some(folded) => folded,
                    None => Text::from(text),
                };
                let end = self.c.pos();
                self.scalar(value, Style::Plain, anchor, start, end)?;
                self.end_of_inline(parent)
            }
        }
    }

    /// A node on its own line under an anchor written on the line before (`key: &a`).
    fn anchored_line_node(&mut self, anchor: usize) -> Option<()> {
        let col = self.c.col();
        let start = self.c.pos();
        match self.c.peek() {
            b'-' if self.c.blank_at(1) => self.seq(col, false, anchor),
            b'"' | b'\'' | b'*' | b'[' | b'{' | b'|' | b'>' | b'&' | b'!' | b'%' | b'?' | b'@'
            | b'`' | b':' | b',' | b']' | b'}' | b'#' => self.c.no("anchor before an odd node"),
            _ => {
                let (text, key) = scalar::plain_block(&mut self.c)?;
                let end = self.c.pos();
                if !key {
                    return self.c.no("anchor before a scalar on its own line");
                }
                self.map(col, (Text::from(text), Style::Plain, start, end), anchor)
            }
        }
    }

    /// After a one-line node: only a comment may follow on the line, and the next line must
    /// not be indented under it (that would continue a scalar, or be an error).
    fn end_of_inline(&mut self, parent: isize) -> Option<()> {
        if !self.c.rest_blank() {
            return self.c.no("text after a node");
        }
        self.c.settle();
        if !self.c.eof() && !self.c.at_marker() && self.c.col() as isize > parent {
            return self.c.no("indented line after a node");
        }
        Some(())
    }

    /// A block mapping at column `col` whose first key has been read; the cursor is at its `:`.
    fn map(&mut self, col: usize, first: (Text, Style, Pos, Pos), anchor: usize) -> Option<()> {
        let (mut key, mut style, mut start, mut end) = first;
        self.open(Event::MapStart(false, anchor, false), start, start)?;
        loop {
            self.scalar(key, style, 0, start, end)?;
            let colon = self.c.pos();
            self.c.bump(1);
            self.map_value(col as isize, colon)?;
            if self.c.eof() || self.c.at_marker() || self.c.col() < col {
                break;
            }
            if self.c.col() > col {
                return self.c.no("mapping indentation");
            }
            start = self.c.pos();
            match self.c.peek() {
                b'"' | b'\'' => {
                    let (text, multi) = scalar::quoted(&mut self.c, col as isize)?;
                    key = text;
                    style = Style::Quoted;
                    if multi
                        || !(self.c.peek() == b':' && self.c.blank_at(1))
                        || self.c.i - start.byte > scalar::MAX_KEY
                    {
                        return self.c.no("odd quoted key");
                    }
                }
                b'-' if self.c.blank_at(1) => return self.c.no("sequence in a mapping"),
                b'?' => return self.c.no("complex key"),
                b'!' => return self.c.no("tag"),
                b'&' | b'*' | b'%' | b'@' | b'`' | b':' | b',' | b'[' | b']' | b'{' | b'}'
                | b'|' | b'>' | b'#' => return self.c.no("odd key"),
                _ => {
                    let (text, is_key) = scalar::plain_block(&mut self.c)?;
                    if !is_key {
                        return self.c.no("scalar where a key should be");
                    }
                    key = Text::from(text);
                    style = Style::Plain;
                }
            }
            end = self.c.pos();
        }
        let at = self.c.pos();
        self.emit(Event::End, at, at)
    }

    /// The value after `key:` in a mapping at indentation `indent`; `colon` is where the
    /// parser puts an empty value.
    fn map_value(&mut self, indent: isize, colon: Pos) -> Option<()> {
        if self.c.rest_blank() {
            self.c.settle();
            if !self.c.eof() && !self.c.at_marker() {
                let k = self.c.col() as isize;
                if k > indent {
                    return self.line_node(indent);
                }
                if k == indent && self.c.peek() == b'-' && self.c.blank_at(1) {
                    return self.seq(k as usize, true, 0);
                }
            }
            return self.empty(0, colon);
        }
        self.node(indent, Ctx::Value)
    }

    /// A block sequence whose dashes are at column `col`; the cursor is at the first dash.
    /// `indentless`: the value of a key at the same indentation, which ends at a non-dash line.
    fn seq(&mut self, col: usize, indentless: bool, anchor: usize) -> Option<()> {
        let start = if indentless {
            // The parser starts such a sequence after the first dash, its spaces and comment.
            let mut probe = self.c;
            probe.bump(1);
            probe.skip_spaces();
            probe.skip_comment();
            probe.pos()
        } else {
            self.c.pos()
        };
        self.open(Event::SeqStart(false, anchor, false), start, start)?;
        loop {
            self.c.bump(1);
            self.item(col)?;
            if self.c.eof() || self.c.at_marker() || self.c.col() < col {
                break;
            }
            if self.c.col() > col {
                return self.c.no("sequence indentation");
            }
            if !(self.c.peek() == b'-' && self.c.blank_at(1)) {
                if indentless {
                    break;
                }
                return self.c.no("non-item in a sequence");
            }
        }
        let at = self.c.pos();
        self.emit(Event::End, at, at)
    }

    /// One sequence item after its dash (at column `dash`).
    fn item(&mut self, dash: usize) -> Option<()> {
        self.c.skip_spaces();
        if self.c.eol() || self.c.peek() == b'#' {
            self.c.skip_comment();
            let at = self.c.pos();
            self.c.settle();
            if !self.c.eof() && !self.c.at_marker() && self.c.col() > dash {
                return self.line_node(dash as isize);
            }
            return self.empty(0, at);
        }
        self.node(dash as isize, Ctx::Item)
    }
}
