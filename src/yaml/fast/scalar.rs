//! Scalars the fast scanner reads: plain and quoted on one line, and literal or folded blocks.
//!
//! Each returns `None` (decline) on any form whose value or position it is not sure to compute
//! exactly as the full parser does.

use super::cursor::{Cursor, is_break};
use crate::yaml::{Pos, Text};

/// Implicit keys longer than this are errors to the full parser; leave them to it.
pub(super) const MAX_KEY: usize = 1000;

/// A plain scalar on one line in block context. The cursor ends after its last non-space
/// character; returns the text and whether a `: ` key indicator follows directly.
pub(super) fn plain_block<'a>(c: &mut Cursor<'a>) -> Option<(&'a str, bool)> {
    let b = c.b;
    let start = c.i;
    let mut j = start;
    let mut last = start;
    let mut key = false;
    while j < b.len() {
        match b[j] {
            b'\n' | b'\r' => break,
            b':' if matches!(b.get(j + 1), None | Some(b' ' | b'\n' | b'\r')) => {
                key = true;
                break;
            }
            b'#' if j > start && b[j - 1] == b' ' => break,
            b' ' => {}
            _ => last = j + 1,
        }
        j += 1;
    }
    // `key :` (space before the colon) is rare; its positions are not worth modelling.
    if key && last != j {
        return None;
    }
    if last == start || (key && last - start > MAX_KEY) {
        return None;
    }
    c.i = last;
    let text = c.slice(start, last)?;
    Some((text, key))
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
            b':' => return None,
            b'#' if j > start && b[j - 1] == b' ' => break,
            b' ' => {}
            _ => last = j + 1,
        }
        j += 1;
    }
    if last == start {
        return None;
    }
    c.i = last;
    c.slice(start, last)
}

/// A single- or double-quoted scalar closed on the same line; the cursor ends after the
/// closing quote.
pub(super) fn quoted(c: &mut Cursor<'_>) -> Option<Text> {
    let b = c.b;
    let q = c.peek();
    let mut out = String::new();
    let mut j = c.i + 1;
    let mut run = j;
    loop {
        let ch = *b.get(j)?;
        match ch {
            b'\n' | b'\r' => return None,
            b'\'' if q == b'\'' => {
                out.push_str(c.slice(run, j)?);
                if b.get(j + 1) == Some(&b'\'') {
                    out.push('\'');
                    j += 2;
                    run = j;
                    continue;
                }
                j += 1;
                break;
            }
            b'"' if q == b'"' => {
                out.push_str(c.slice(run, j)?);
                j += 1;
                break;
            }
            b'\\' if q == b'"' => {
                out.push_str(c.slice(run, j)?);
                j += 1 + escape(b, j + 1, &mut out)?;
                run = j;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    c.i = j;
    Some(Text::from(out))
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

/// A literal (`|`) or folded (`>`) block scalar; the cursor is at the indicator and `parent`
/// is the indentation its content must exceed. Returns the value and its span; the cursor
/// ends where the full parser's scanner stops: the first non-space character of the line
/// that ends the block.
pub(super) fn block(c: &mut Cursor<'_>, parent: isize) -> Option<(Text, Pos, Pos)> {
    let folded = c.peek() == b'>';
    c.bump(1);
    let chomp = match c.peek() {
        b'-' => Some(false),
        b'+' => Some(true),
        _ => None,
    };
    if chomp.is_some() {
        c.bump(1);
    }
    if !c.blank_at(0) || !c.rest_blank() || c.eof() {
        return None;
    }
    c.newline();
    let b = c.b;
    // Content indentation: the first line's; leading empty lines are left to the parser.
    let indent = b[c.i..].iter().take_while(|&&x| x == b' ').count();
    if (indent as isize) <= parent || is_break(b.get(c.i + indent)) {
        return None;
    }
    c.bump(indent);
    let start = c.pos();
    // Line ranges; the empty range stands for an empty line.
    let mut lines: Vec<(usize, usize)> = Vec::new();
    loop {
        // The cursor is at `indent` on a content line.
        let from = c.i;
        while !c.eol() {
            c.i += 1;
        }
        lines.push((from, c.i));
        if c.eof() {
            // Without a final line break the parser's value is not worth modelling.
            return None;
        }
        c.newline();
        let spaces = b[c.i..].iter().take_while(|&&x| x == b' ').count();
        match b.get(c.i + spaces) {
            Some(b'\n' | b'\r') if spaces == 0 => {
                lines.push((0, 0));
                c.newline();
                // Then any further empty lines.
                loop {
                    let sp = b[c.i..].iter().take_while(|&&x| x == b' ').count();
                    match b.get(c.i + sp) {
                        Some(b'\n' | b'\r') if sp == 0 => {
                            lines.push((0, 0));
                            c.newline();
                        }
                        Some(b'\n' | b'\r') => return None,
                        _ => break,
                    }
                }
                let sp = b[c.i..].iter().take_while(|&&x| x == b' ').count();
                if sp > 0 && c.i + sp == b.len() {
                    return None;
                }
                if sp >= indent && c.i + sp < b.len() {
                    c.bump(indent);
                    continue;
                }
                c.bump(sp);
                break;
            }
            // White space alone on a line: its meaning depends on the indentation.
            Some(b'\n' | b'\r') => return None,
            None if spaces == 0 => break,
            None => return None,
            Some(_) if spaces >= indent => c.bump(indent),
            Some(_) => {
                c.bump(spaces);
                break;
            }
        }
    }
    let end = c.pos();
    let trailing = lines.iter().rev().take_while(|l| l.0 == l.1).count();
    let body = &lines[..lines.len() - trailing];
    let mut out = String::new();
    let mut empties = 0usize;
    for (n, &(from, to)) in body.iter().enumerate() {
        let line = c.slice(from, to)?;
        if folded && line.starts_with(' ') {
            return None;
        }
        if line.is_empty() {
            empties += 1;
            if !folded {
                out.push('\n');
            }
            continue;
        }
        if n > 0 {
            if !folded {
                out.push('\n');
            } else if empties == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', empties));
            }
        }
        empties = 0;
        out.push_str(line);
    }
    match chomp {
        Some(false) => {}
        None => out.push('\n'),
        Some(true) => out.extend(std::iter::repeat_n('\n', trailing + 1)),
    }
    Some((Text::from(out), start, end))
}
