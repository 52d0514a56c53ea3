//! A byte cursor that knows its line and column.
//!
//! The fast scanner only accepts text without tabs or other control bytes, and CR only in
//! CRLF, so byte 0 can stand for the end of input and a CR always starts a line break. All
//! syntax is ASCII: only `Pos::col` has to count characters, and only in non-ASCII texts.

use crate::yaml::Pos;

/// Whether every CR in `b` starts a CRLF.
pub(super) fn crlf_only(b: &[u8]) -> bool {
    b.iter()
        .enumerate()
        .all(|(i, &x)| x != b'\r' || b.get(i + 1) == Some(&b'\n'))
}

/// Whether `b` is a line break (CR only ever comes before LF) or the end (`None`).
pub(super) fn is_break(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b'\n' | b'\r'))
}

/// Position in the text, with the line bookkeeping `Pos` needs.
#[derive(Clone, Copy)]
pub(super) struct Cursor<'a> {
    text: &'a str,
    pub(super) b: &'a [u8],
    /// Whether the text is ASCII (columns are then byte counts).
    ascii: bool,
    pub(super) i: usize,
    line: usize,
    line_start: usize,
    /// Why the scanner declined, set where it gives up (the scanner never backtracks, so the
    /// first reason set is the one that stopped it).
    pub(super) why: &'static str,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub(super) fn new(text: &'a str, ascii: bool) -> Cursor<'a> {
        Cursor {
            text,
            b: text.as_bytes(),
            ascii,
            i: 0,
            line: 1,
            line_start: 0,
            why: "",
        }
    }

    /// Declines with a reason.
    pub(super) fn no<T>(&mut self, why: &'static str) -> Option<T> {
        if self.why.is_empty() {
            self.why = why;
        }
        None
    }

    /// The number of spaces from the cursor on.
    pub(super) fn spaces(&self) -> usize {
        self.b[self.i..].iter().take_while(|&&x| x == b' ').count()
    }

    /// The byte at the cursor, 0 at the end.
    pub(super) fn peek(&self) -> u8 {
        self.at(0)
    }

    /// The byte `k` ahead of the cursor, 0 past the end.
    pub(super) fn at(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    /// Whether the byte `k` ahead is a space, a line break or the end.
    pub(super) fn blank_at(&self, k: usize) -> bool {
        matches!(self.at(k), b' ' | b'\n' | b'\r' | 0)
    }

    /// The text between two byte offsets (`None` off a character boundary, which ASCII
    /// input never has).
    pub(super) fn slice(&self, from: usize, to: usize) -> Option<&'a str> {
        self.text.get(from..to)
    }

    /// Where the cursor is.
    pub(super) fn pos(&self) -> Pos {
        let col = if self.ascii {
            self.i - self.line_start
        } else {
            // Characters, as the parser counts: every byte but UTF-8 continuation bytes.
            self.b[self.line_start..self.i]
                .iter()
                .filter(|&&x| (x & 0xC0) != 0x80)
                .count()
        };
        Pos {
            byte: self.i,
            line: self.line,
            col,
        }
    }

    /// The column of the cursor in bytes: indentation and the indicators before a node are
    /// ASCII, so where structure is compared this is also the column in characters.
    pub(super) fn col(&self) -> usize {
        self.i - self.line_start
    }

    /// Whether the cursor is at the end of the text.
    pub(super) fn eof(&self) -> bool {
        self.i >= self.b.len()
    }

    /// Whether the cursor is at a line break or the end.
    pub(super) fn eol(&self) -> bool {
        matches!(self.peek(), b'\n' | b'\r' | 0)
    }

    /// Moves `n` bytes along the current line.
    pub(super) fn bump(&mut self, n: usize) {
        self.i = (self.i + n).min(self.b.len());
    }

    /// Steps over the line break (LF or CRLF) at the cursor.
    pub(super) fn newline(&mut self) {
        self.i += if self.peek() == b'\r' { 2 } else { 1 };
        self.line += 1;
        self.line_start = self.i;
    }

    /// Skips spaces on the current line.
    pub(super) fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.i += 1;
        }
    }

    /// Skips a comment (the cursor is at `#`) up to the line break.
    pub(super) fn skip_comment(&mut self) {
        if self.peek() == b'#' {
            while !self.eol() {
                self.i += 1;
            }
        }
    }

    /// Skips spaces and a trailing comment; true when the line has nothing else.
    pub(super) fn rest_blank(&mut self) -> bool {
        let before = self.i;
        self.skip_spaces();
        if self.peek() == b'#' {
            // A comment needs white space before it, or it is part of a scalar.
            if self.i == before && self.col() != 0 {
                return false;
            }
            self.skip_comment();
        }
        self.eol()
    }

    /// From anywhere on a line, moves to the first character of the next line that holds
    /// content (not blank, not only a comment), or to the end.
    pub(super) fn settle(&mut self) {
        loop {
            self.skip_spaces();
            if self.peek() == b'#' {
                self.skip_comment();
            }
            if !self.eof() && self.eol() {
                self.newline();
                continue;
            }
            return;
        }
    }

    /// Whether the cursor is at a `---` or `...` line (column 0, then blank).
    pub(super) fn at_marker(&self) -> bool {
        self.col() == 0
            && matches!(
                (self.at(0), self.at(1), self.at(2)),
                (b'-', b'-', b'-') | (b'.', b'.', b'.')
            )
            && self.blank_at(3)
    }
}
