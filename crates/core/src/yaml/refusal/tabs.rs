//! TABs where libyaml's scanner wants spaces.
//!
//! YAML 1.2 lets a TAB separate tokens on a line, and our parser follows it. libyaml (and so
//! yaml.v2, yaml.v3 and yaml v4) skips a TAB between tokens only in flow context or where no
//! key may start: in block context, at the start of a line and right after a `:`, `-` or `?`
//! indicator, a TAB stops the scanner (`found character that cannot start any token`). Inside
//! scalars and flow collections TABs are text or allowed white space, so those spans are
//! left alone; comments too.

use super::{Refusal, Tool};
use crate::yaml::source::Source;
use crate::yaml::tree::{Kind, Stream, Style};

/// Where a refused TAB sits.
enum Place {
    /// In the indentation of a line.
    Indent,
    /// After a `key:`; holds the key as written.
    AfterKey(String),
    /// After the `-` of a sequence item or a `?`.
    AfterDash(char),
}

/// The first TAB `tool` refuses, with the number of other lines that have one.
pub(super) fn refusal(text: &str, s: &Stream, tool: Tool) -> Option<Refusal> {
    if !text.contains('\t') {
        return None;
    }
    let src = &Source::new(text);
    let spans = Spans::of(s);
    let mut first: Option<(usize, usize, Place)> = None;
    let mut more = 0;
    for line in 1..=src.line_count() {
        if let Some((col, place)) = refused_on_line(text, src, line, &spans) {
            if first.is_none() {
                first = Some((line, col, place));
            } else {
                more += 1;
            }
        }
    }
    let (line, column, place) = first?;
    let what = match place {
        Place::Indent => "A TAB indents this line".to_string(),
        Place::AfterKey(k) => format!("A TAB follows `{k}:`"),
        Place::AfterDash(c) => format!("A TAB follows the `{c}` of this item"),
    };
    let others = match more {
        0 => String::new(),
        1 => " (1 more line has one)".to_string(),
        n => format!(" ({n} more lines have one)"),
    };
    Some(Refusal {
        line,
        column,
        message: format!(
            "{what}{others}: {} (in block style YAML indentation and the space after `:` or `-` must be spaces; `found character that cannot start any token`); {}",
            tool.readers(),
            tool.units()
        ),
    })
}

/// Byte spans of scalars, aliases and flow collections (merged), and of block scalars.
struct Spans {
    covered: Vec<(usize, usize)>,
    block: Vec<(usize, usize)>,
}

impl Spans {
    fn of(s: &Stream) -> Spans {
        let mut all = Vec::new();
        let mut block = Vec::new();
        for n in &s.nodes {
            let span = (n.start.byte, n.end.byte);
            if span.1 <= span.0 {
                continue;
            }
            match &n.kind {
                Kind::Scalar { style, .. } => {
                    all.push(span);
                    if *style == Style::Block {
                        block.push(span);
                    }
                }
                Kind::Alias(_) => all.push(span),
                Kind::Seq { flow: true, .. } | Kind::Map { flow: true, .. } => all.push(span),
                _ => {}
            }
        }
        all.sort_unstable();
        let mut covered: Vec<(usize, usize)> = Vec::with_capacity(all.len());
        for (a, b) in all {
            match covered.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => covered.push((a, b)),
            }
        }
        block.sort_unstable();
        Spans { covered, block }
    }

    /// The end of the covered span holding byte `at`, if one does.
    fn covering(&self, at: usize) -> Option<usize> {
        let i = self.covered.partition_point(|&(a, _)| a <= at);
        let (_, b) = *self.covered.get(i.checked_sub(1)?)?;
        (at < b).then_some(b)
    }

    fn in_block_scalar(&self, at: usize) -> bool {
        let i = self.block.partition_point(|&(a, _)| a <= at);
        i > 0 && at < self.block[i - 1].1
    }
}

/// The 1-based column and place of the first refused TAB on `line`.
fn refused_on_line(
    text: &str,
    src: &Source<'_>,
    line: usize,
    spans: &Spans,
) -> Option<(usize, Place)> {
    let range = src.line_range(line);
    let body = &text[range.clone()];
    if !body.contains('\t') || body.starts_with('%') {
        return None;
    }
    // The last character outside spans: (byte, char, whether a blank or the line start
    // came before it).
    let mut last: Option<(usize, char, bool)> = None;
    let mut content = false;
    let mut prev_blank = true;
    let mut i = range.start;
    while i < range.end {
        if let Some(end) = spans.covering(i) {
            content = true;
            last = None;
            prev_blank = false;
            i = end.min(range.end).max(i + 1);
            continue;
        }
        let c = text[i..].chars().next()?;
        match c {
            '#' if prev_blank => return None,
            ' ' | '\r' | '\n' => prev_blank = true,
            '\t' => {
                let col = text[range.start..i].chars().count() + 1;
                if !content {
                    if body.trim().is_empty() && after_block_scalar(text, range.start, spans) {
                        return None;
                    }
                    return Some((col, Place::Indent));
                }
                match last {
                    Some((at, ':', _)) => {
                        return Some((col, Place::AfterKey(key_before(text, range.start, at))));
                    }
                    Some((_, c @ ('-' | '?'), true)) => return Some((col, Place::AfterDash(c))),
                    _ => {}
                }
                prev_blank = true;
            }
            _ => {
                last = Some((i, c, prev_blank));
                content = true;
                prev_blank = false;
            }
        }
        i += c.len_utf8();
    }
    None
}

/// Whether a blank line at `start` trails a block scalar: libyaml reads white space at or past
/// the scalar's indentation there as the scalar's text.
fn after_block_scalar(text: &str, start: usize, spans: &Spans) -> bool {
    let before = text[..start].trim_end_matches([' ', '\t', '\r', '\n']);
    !before.is_empty() && spans.in_block_scalar(before.len() - 1)
}

/// The key written before the `:` at byte `colon`, as the user wrote it.
fn key_before(text: &str, line_start: usize, colon: usize) -> String {
    let mut k = text[line_start..colon].trim();
    while let Some(rest) = k.strip_prefix("- ") {
        k = rest.trim_start();
    }
    k.trim_matches(['"', '\'']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Limits;

    fn tab(text: &str) -> Option<String> {
        let s = Stream::parse(text, Limits::default());
        if s.error.is_some() {
            return Some(format!("parse error {:?}", s.error));
        }
        refusal(text, &s, Tool::Kubectl).map(|r| format!("{}:{} {}", r.line, r.column, r.message))
    }

    #[test]
    fn tab_after_a_key_is_refused() {
        let got = tab("spec:\n  containers:\n  - name: web\n    image:\tnginx\n").unwrap();
        assert_eq!(
            got,
            "4:11 A TAB follows `image:`: kubectl and kustomize refuse the file (in block style YAML indentation and the space after `:` or `-` must be spaces; `found character that cannot start any token`); its containers are reported as unknown"
        );
        let got = tab("a:\t\n  b: 1\nc: \t2\n").unwrap();
        assert!(
            got.starts_with("1:3 A TAB follows `a:` (1 more line has one)"),
            "{got}"
        );
        let got = tab("items:\n-\tone\n").unwrap();
        assert!(
            got.starts_with("2:2 A TAB follows the `-` of this item"),
            "{got}"
        );
    }

    #[test]
    fn tabs_libyaml_accepts_are_not_refused() {
        for ok in [
            "a: 1\t# comment\n",
            "a: \"x\"\t\n",
            "a: [1,\t2]\n",
            "a: {b:\t1}\n",
            "a: 'x\ty'\n",
            "a: x\ty\n",
            "key\t: v\n",
            "a: &x\t1\nb: *x\t\n",
            "a: !!str\t1\n",
            "# a\tcomment: \tx\n",
            "a: |\n  line\twith tab\nz: 1\n",
            "a: |\n    text\n    \t\nb: 1\n",
            "---\t\na: 1\n",
            "a: 1 # note:\tx\n",
        ] {
            let got = tab(ok);
            assert!(
                got.is_none() || got.as_deref().is_some_and(|g| g.starts_with("parse error")),
                "{ok:?}: {got:?}"
            );
        }
    }
}
