//! Scalars the fast scanner reads: plain and quoted (on one line or folded over several), and
//! literal or folded blocks.
//!
//! Each returns `None` (decline) on any form whose value or position it is not sure to compute
//! exactly as the full parser does. Line folding follows the YAML spec as the parser applies
//! it: one line break folds to a space, each further (empty) line gives a newline, white space
//! around a break is dropped.

use super::cursor::{Cursor, is_break};
use crate::yaml::{Pos, Text};

/// Implicit keys longer than this are errors to the full parser; leave them to it.
pub(super) const MAX_KEY: usize = 1000;

/// A plain scalar on one line in block context. The cursor ends after its last non-space
/// character; returns the text and whether a `: ` key indicator follows directly.
pub(super) fn plain_block<'a>(c: &mut Cursor<'a>) -> Option<(&'a str, bool)> {
    let start = c.i;
    let (last, stop) = plain_line(c.b, start);
    let key = stop == Stop::Key;
    // `key :` (space before the colon) is rare; its positions are not worth modelling.
    if key && last != stop_at(c.b, start) {
        return c.no("space before a key's colon");
    }
    if last == start {
        return c.no("odd plain scalar");
    }
    if key && last - start > MAX_KEY {
        return c.no("long key");
    }
    c.i = last;
    let text = c.slice(start, last)?;
    Some((text, key))
}

/// Why a plain line ends.
#[derive(PartialEq, Eq)]
enum Stop {
    /// At a line break or the end.
    Break,
    /// At ` #`.
    Comment,
    /// At `: ` or a colon before the break.
    Key,
}

/// Scans a plain scalar's line from `start`: the end of its last non-space character, and
/// why the line's text ends.
fn plain_line(b: &[u8], start: usize) -> (usize, Stop) {
    let mut j = start;
    let mut last = start;
    while j < b.len() {
        match b[j] {
            b'\n' | b'\r' => break,
            b':' if matches!(b.get(j + 1), None | Some(b' ' | b'\n' | b'\r')) => {
                return (last, Stop::Key);
            }
            b'#' if j > start && b[j - 1] == b' ' => return (last, Stop::Comment),
            b' ' => {}
            _ => last = j + 1,
        }
        j += 1;
    }
    (last, Stop::Break)
}

/// Where the colon of a key line is (only called when there is one).
fn stop_at(b: &[u8], start: usize) -> usize {
    let mut j = start;
    while !(b[j] == b':' && matches!(b.get(j + 1), None | Some(b' ' | b'\n' | b'\r'))) {
        j += 1;
    }
    j
}

/// After a one-line plain scalar in block context (the cursor after its last character), the
/// lines that continue it: those indented more than `parent`. Returns the folded value and
/// moves the cursor after the last continuation's last character, or `None` with the cursor
/// unmoved when no line continues it (the outer `None` declines).
pub(super) fn plain_more(c: &mut Cursor<'_>, parent: isize, first: &str) -> Option<Option<Text>> {
    let b = c.b;
    let mut probe = *c;
    probe.skip_spaces();
    if !probe.eol() || probe.eof() {
        return Some(None);
    }
    let mut out: Option<String> = None;
    let mut breaks = 0usize;
    while !probe.eof() {
        probe.newline();
        let sp = probe.spaces();
        let at = probe.i + sp;
        if at >= b.len() {
            break;
        }
        if is_break(b.get(at)) {
            probe.bump(sp);
            breaks += 1;
            continue;
        }
        if sp as isize <= parent || b[at] == b'#' {
            break;
        }
        if parent < 0 {
            // At the top level, column 0 continues the scalar too, unless it is a marker.
            return c.no("multi-line plain scalar at the top level");
        }
        let (last, stop) = plain_line(b, at);
        if stop == Stop::Key {
            return c.no("multi-line implicit key");
        }
        let text = c.slice(at, last)?;
        let s = out.get_or_insert_with(|| first.to_string());
        if breaks == 0 {
            s.push(' ');
        } else {
            s.extend(std::iter::repeat_n('\n', breaks));
        }
        s.push_str(text);
        breaks = 0;
        probe.i = last;
        *c = probe;
        if stop == Stop::Comment {
            break;
        }
        probe.skip_spaces();
    }
    Some(out.map(Text::from))
}

/// A plain scalar in flow context, on one line; the cursor ends after its last non-space
/// character. A colon inside (`a:b`) declines: flow and block read it differently.
pub(super) fn plain_flow<'a>(c: &mut Cursor<'a>) -> Option<&'a str> {
    let b = c.b;
    let start = c.i;
    let mut j = start;
    let mut last = start;
    while j < b.len() {
        match b[j] {
            b'\n' | b'\r' | b',' | b'[' | b']' | b'{' | b'}' => break,
            // After a plain key the parser wants a space; `a:{` and `a:b` are for it to judge.
            b':' if matches!(b.get(j + 1), None | Some(b' ' | b'\n' | b'\r')) => break,
            b':' => return c.no("colon in a flow scalar"),
            b'#' if j > start && b[j - 1] == b' ' => break,
            b' ' => {}
            _ => last = j + 1,
        }
        j += 1;
    }
    if last == start {
        return c.no("odd flow scalar");
    }
    c.i = last;
    c.slice(start, last)
}

/// A single- or double-quoted scalar; the cursor ends after the closing quote. Lines it
/// continues on must be indented more than `parent`. Returns the value and whether it spans
/// lines (such a scalar cannot be a key).
pub(super) fn quoted(c: &mut Cursor<'_>, parent: isize) -> Option<(Text, bool)> {
    let b = c.b;
    let q = c.peek();
    let mut out = String::new();
    let mut multi = false;
    c.bump(1);
    let mut run = c.i;
    loop {
        let j = c.i;
        let Some(&ch) = b.get(j) else {
            return c.no("unclosed quoted scalar");
        };
        match ch {
            b'\n' | b'\r' => {
                // White space before a break is dropped; a break folds to a space.
                let kept = run
                    + b[run..j]
                        .iter()
                        .rposition(|&x| x != b' ')
                        .map_or(0, |k| k + 1);
                out.push_str(c.slice(run, kept)?);
                let extra = quoted_break(c, parent)?;
                if extra == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', extra));
                }
                multi = true;
                run = c.i;
                continue;
            }
            b'\'' if q == b'\'' => {
                out.push_str(c.slice(run, j)?);
                if b.get(j + 1) == Some(&b'\'') {
                    out.push('\'');
                    c.i = j + 2;
                    run = c.i;
                    continue;
                }
                c.i = j + 1;
                break;
            }
            b'"' if q == b'"' => {
                out.push_str(c.slice(run, j)?);
                c.i = j + 1;
                break;
            }
            b'\\' if q == b'"' => {
                out.push_str(c.slice(run, j)?);
                if is_break(b.get(j + 1)) && j + 1 < b.len() {
                    // An escaped line break: nothing, and the white space after it goes.
                    c.i = j + 1;
                    let extra = quoted_break(c, parent)?;
                    out.extend(std::iter::repeat_n('\n', extra));
                    multi = true;
                } else {
                    c.i = j + 1 + escape(b, j + 1, &mut out).or_else(|| c.no("odd escape"))?;
                }
                run = c.i;
                continue;
            }
            _ => {}
        }
        c.i += 1;
    }
    Some((Text::from(out), multi))
}

/// At a line break inside a quoted scalar: steps over it, the empty lines after it and the
/// next line's indentation. Returns the number of empty lines.
fn quoted_break(c: &mut Cursor<'_>, parent: isize) -> Option<usize> {
    let mut extra = 0;
    c.newline();
    loop {
        c.skip_spaces();
        if c.eof() {
            return c.no("unclosed quoted scalar");
        }
        if !c.eol() {
            break;
        }
        extra += 1;
        c.newline();
    }
    if c.col() as isize <= parent || (c.col() == 0 && c.at_marker()) {
        return c.no("quoted scalar continued at a low indentation");
    }
    Some(extra)
}

/// Decodes the escape after a backslash at `b[at..]`; returns the bytes it used.
fn escape(b: &[u8], at: usize, out: &mut String) -> Option<usize> {
    let simple = match *b.get(at)? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return hex(b, at + 1, 2, out),
        b'u' => return hex(b, at + 1, 4, out),
        b'U' => return hex(b, at + 1, 8, out),
        _ => return None,
    };
    out.push(simple);
    Some(1)
}

fn hex(b: &[u8], at: usize, n: usize, out: &mut String) -> Option<usize> {
    let digits = std::str::from_utf8(b.get(at..at + n)?).ok()?;
    if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
        return None;
    }
    out.push(char::from_u32(u32::from_str_radix(digits, 16).ok()?)?);
    Some(1 + n)
}

/// A block scalar's header after `|` or `>`: chomping (`Some(false)` strip, `Some(true)`
/// keep) and the indentation indicator (0: none), in either order.
fn header(c: &mut Cursor<'_>) -> Option<(Option<bool>, usize)> {
    let mut chomp = None;
    let mut inc = 0;
    for _ in 0..2 {
        match c.peek() {
            b'-' if chomp.is_none() => chomp = Some(false),
            b'+' if chomp.is_none() => chomp = Some(true),
            d @ b'1'..=b'9' if inc == 0 => inc = usize::from(d - b'0'),
            _ => break,
        }
        c.bump(1);
    }
    if !c.blank_at(0) || !c.rest_blank() || c.eof() {
        return c.no("odd block scalar header");
    }
    Some((chomp, inc))
}

/// A literal (`|`) or folded (`>`) block scalar; the cursor is at the indicator and `parent`
/// is the indentation its content must exceed. Returns the value and its span; the cursor
/// ends where the full parser's scanner stops: the first non-space character of the line
/// that ends the block. This follows the parser's own scanning step by step.
pub(super) fn block(c: &mut Cursor<'_>, parent: isize) -> Option<(Text, Pos, Pos)> {
    let folded = c.peek() == b'>';
    c.bump(1);
    let (chomp, inc) = header(c)?;
    if parent < 0 {
        return c.no("block scalar at the top level");
    }
    c.newline();
    let mut breaks = 0usize;
    let indent = if inc > 0 {
        let indent = parent as usize + inc;
        skip_indent(c, indent, &mut breaks);
        indent
    } else {
        // The first content line sets the indentation, but no less than any empty line before.
        let mut max = 0;
        loop {
            c.skip_spaces();
            max = max.max(c.col());
            if c.eof() || !c.eol() {
                break;
            }
            c.newline();
            breaks += 1;
        }
        max.max(parent as usize + 1)
    };
    if c.eof() {
        return c.no("block scalar at the end of the text");
    }
    if c.col() < indent && c.col() as isize > parent {
        return c.no("block scalar indentation");
    }
    let start = c.pos();
    let mut out = String::new();
    let (mut leading_break, mut leading_blank) = (false, false);
    while c.col() == indent && !c.eof() {
        let trailing_blank = c.peek() == b' ';
        if folded && leading_break && !leading_blank && !trailing_blank {
            out.extend(std::iter::repeat_n('\n', breaks));
            if breaks == 0 {
                out.push(' ');
            }
        } else {
            if leading_break {
                out.push('\n');
            }
            out.extend(std::iter::repeat_n('\n', breaks));
        }
        breaks = 0;
        leading_blank = trailing_blank;
        let from = c.i;
        while !c.eol() {
            c.i += 1;
        }
        out.push_str(c.slice(from, c.i)?);
        if c.eof() {
            // Without a final line break the parser's value is not worth modelling.
            return c.no("block scalar without a final line break");
        }
        c.newline();
        leading_break = true;
        skip_indent(c, indent, &mut breaks);
    }
    if c.eof() && c.col() > 0 {
        return c.no("white space at the end of a block scalar");
    }
    if chomp != Some(false) && leading_break {
        out.push('\n');
    }
    if chomp == Some(true) {
        out.extend(std::iter::repeat_n('\n', breaks));
    }
    Some((Text::from(out), start, c.pos()))
}

/// Steps over up to `indent` spaces on each line, and over lines that are then empty,
/// counting them.
fn skip_indent(c: &mut Cursor<'_>, indent: usize, breaks: &mut usize) {
    loop {
        while c.col() < indent && c.peek() == b' ' {
            c.i += 1;
        }
        if c.eof() || !c.eol() {
            return;
        }
        c.newline();
        *breaks += 1;
    }
}
