//! Flow collections: `[a, b]`, `{a: b}` and JSON, on one line or several.

use super::Scanner;
use super::scalar;
use crate::yaml::build::Event;
use crate::yaml::{Style, Text};

impl Scanner<'_> {
    /// A flow collection at the cursor (`[` or `{`); lines it continues on must be indented
    /// more than `parent`. The cursor ends after the closing bracket.
    pub(super) fn flow(&mut self, parent: isize, anchor: usize) -> Option<()> {
        let is_map = self.c.peek() == b'{';
        let close = if is_map { b'}' } else { b']' };
        let start = self.c.pos();
        self.c.bump(1);
        let event = if is_map {
            Event::MapStart(true, anchor, false)
        } else {
            Event::SeqStart(true, anchor, false)
        };
        self.open(event, start, self.c.pos())?;
        self.flow_space(parent)?;
        if self.c.peek() != close {
            loop {
                if is_map {
                    self.flow_key()?;
                    self.flow_space(parent)?;
                    if self.c.peek() != b':' {
                        return self.c.no("flow key without a value");
                    }
                    self.c.bump(1);
                    self.flow_space(parent)?;
                    if matches!(self.c.peek(), b',' | b'}') {
                        return self.c.no("empty flow value");
                    }
                }
                self.flow_item(parent)?;
                self.flow_space(parent)?;
                match self.c.peek() {
                    b',' => {
                        self.c.bump(1);
                        self.flow_space(parent)?;
                        // A trailing comma is valid YAML; not worth modelling.
                        if self.c.peek() == close {
                            return self.c.no("trailing comma in flow");
                        }
                    }
                    c if c == close => break,
                    _ => return self.c.no("odd flow collection"),
                }
            }
        }
        let at = self.c.pos();
        self.c.bump(1);
        let end = self.c.pos();
        self.emit(Event::End, at, end)
    }

    /// A key in a flow mapping: a quoted or plain scalar, not too long for the parser.
    fn flow_key(&mut self) -> Option<()> {
        let from = self.c.i;
        match self.c.peek() {
            b'[' | b'{' => return self.c.no("collection as a flow key"),
            b'"' | b'\'' => {
                let start = self.c.pos();
                let (value, multi) = scalar::quoted(&mut self.c, -1)?;
                if multi {
                    return self.c.no("multi-line flow key");
                }
                let end = self.c.pos();
                self.scalar(value, Style::Quoted, 0, start, end)?;
            }
            _ => self.flow_item(-1)?,
        }
        if self.c.i - from > scalar::MAX_KEY {
            return self.c.no("long key");
        }
        Some(())
    }

    /// A value in a flow collection.
    fn flow_item(&mut self, parent: isize) -> Option<()> {
        let start = self.c.pos();
        match self.c.peek() {
            b'[' | b'{' => self.flow(parent, 0),
            b'"' | b'\'' => {
                let (value, _) = scalar::quoted(&mut self.c, parent)?;
                let end = self.c.pos();
                self.scalar(value, Style::Quoted, 0, start, end)
            }
            // A plain scalar may start with `-` only before a character that is safe in flow
            // context: `-,` or `-]` is an error for the parser to report.
            b'-' if !matches!(self.c.b.get(self.c.i + 1),
                Some(c) if !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b',' | b'[' | b']' | b'{' | b'}')) =>
            {
                self.c.no("dash in flow")
            }
            b'?' | b':' | b'!' | b'&' | b'*' | b'|' | b'>' | b'%' | b'@' | b'`' | b'#' | b','
            | b']' | b'}' | b'\n' | b'\r' | 0 => self.c.no("indicator in flow"),
            _ => {
                let text = scalar::plain_flow(&mut self.c)?;
                let end = self.c.pos();
                self.scalar(Text::from(text), Style::Plain, 0, start, end)
            }
        }
    }

    /// Skips spaces, line breaks and comments inside a flow collection. Continuation lines
    /// must be indented more than `parent` and must not be document markers.
    fn flow_space(&mut self, parent: isize) -> Option<()> {
        let mut new_line = false;
        loop {
            match self.c.peek() {
                b' ' => self.c.bump(1),
                b'\n' | b'\r' => {
                    self.c.newline();
                    new_line = true;
                    if self.c.at_marker() {
                        return self.c.no("document marker in flow");
                    }
                }
                b'#' => {
                    let prev = self.c.i.checked_sub(1).and_then(|p| self.c.b.get(p));
                    if !matches!(prev, Some(b' ' | b'\n')) {
                        return self.c.no("comment not separated");
                    }
                    self.c.skip_comment();
                }
                0 => return self.c.no("unclosed flow collection"),
                _ => {
                    if new_line && self.c.col() as isize <= parent {
                        return self.c.no("flow continued at a low indentation");
                    }
                    return Some(());
                }
            }
        }
    }
}
