//! Making user-controlled text safe to put into Markdown.
//!
//! Paths, workload, container and image names come from the repository under review. Put
//! raw into a comment they could open an HTML comment that hides the rest (our marker
//! included), mention a team, or break a table. Names are shown as code spans, which
//! Markdown renders literally; rule messages, which already quote names in code spans, only
//! get the HTML-significant characters outside their spans escaped.

/// `s` as an inline code span that shows it literally, on one line.
pub fn code(s: &str) -> String {
    let s = one_line(s);
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let ticks = "`".repeat(longest + 1);
    // A span's content may not start or end with its own delimiter; Markdown strips one
    // space of padding on each side, so padding keeps the text exact.
    if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        format!("{ticks} {s} {ticks}")
    } else {
        format!("{ticks}{s}{ticks}")
    }
}

/// Markdown written by the rules, made safe: `<`, `>` and `&` outside code spans become
/// entities, `@` gets an invisible word joiner so that it mentions nobody, and line breaks
/// become spaces; code spans are kept as they are.
///
/// The rules quote names in code spans, but a name holding a backtick ends its span early,
/// so the text after it must be safe outside a span too.
pub fn message(s: &str) -> String {
    let s = one_line(s);
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(open) = rest.find('`') {
        out.push_str(&entities(&rest[..open]));
        rest = &rest[open..];
        let n = rest.bytes().take_while(|&b| b == b'`').count();
        match closing(&rest[n..], n) {
            Some(end) => {
                let span = n + end + n;
                out.push_str(&rest[..span]);
                rest = &rest[span..];
            }
            // An unmatched run is literal text in Markdown.
            None => {
                out.push_str(&rest[..n]);
                rest = &rest[n..];
            }
        }
    }
    out.push_str(&entities(rest));
    out
}

/// Escapes `|` so that text can sit in a table cell (GitHub honours `\|` inside code spans).
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Where a run of exactly `n` backticks starts in `s`, if one does.
fn closing(s: &str, n: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let len = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if len == n {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

fn entities(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('@', "@\u{2060}")
}

fn one_line(s: &str) -> String {
    s.replace("\r\n", " ").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_code_spans_that_hold_anything() {
        assert_eq!(code("web"), "`web`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("<!-- @team\nx"), "`<!-- @team x`");
        assert_eq!(code(""), "`  `");
    }

    #[test]
    fn messages_keep_their_code_spans_and_lose_their_html() {
        assert_eq!(
            message("Service `<web>` has <!-- a & b -->"),
            "Service `<web>` has &lt;!-- a &amp; b --&gt;"
        );
        assert_eq!(message("one ` tick <b>"), "one ` tick &lt;b&gt;");
        assert_eq!(message("``a`b`` <"), "``a`b`` &lt;");
        assert_eq!(message("line\r\nbreak"), "line break");
        assert_eq!(message("`a@b` @team"), "`a@b` @\u{2060}team");
    }

    #[test]
    fn cells_escape_pipes() {
        assert_eq!(cell("`a|b`"), "`a\\|b`");
    }
}
