//! Which template line produced each line of `helm template` output.
//!
//! Helm reports no positions for what it renders, but findings must point at the line a person
//! edits. So before a render the caller puts a copy of the chart through [`annotate`], which
//! ends each template line where that is provably harmless with a YAML comment ` #@ib:F:L`
//! (`F` = a file number the caller chose, `L` = the 1-based line). After the render,
//! [`split_rendered`] and [`strip`] read the markers back and remove them, leaving exactly the
//! bytes an unannotated render prints.
//!
//! The caller annotates only files Helm renders on their own: under `templates/`, not starting
//! with `_` (partials hold `define`s only, whose output is used inline), and not named by another
//! template through `.Template.BasePath` (see [`included_files`]: a `sha256sum` of such a file
//! would change with its markers).

/// What every marker starts with. The space is part of it: YAML needs blank before a `#` for it
/// to be a comment, and stripping must give that space back.
const MARK: &str = " #@ib:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `if`, `with`, `range` (true for `range`: its `end` jumps back).
    Open(bool),
    /// `define` and `block`: their bodies are named templates, used inline by others.
    Define,
    Else,
    End,
    /// Prints nothing: comments, assignments, `break`, `continue`.
    Silent,
    /// Prints; `true` when it starts with a newline (`nindent`).
    Output(bool),
}

#[derive(Debug, Clone)]
struct Action {
    start: usize,
    end: usize,
    ltrim: bool,
    rtrim: bool,
    kind: Kind,
    /// For an opener or `else`: the next `else`/`end` of the same level. For an `end`: its opener.
    link: Option<usize>,
    /// How many `define`s enclose the text after this action.
    defines_after: u32,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Finds every `{{ … }}` with Go's trim rules (`{{- ` and ` -}}` need the blank) and string
/// literals, so a `}}` inside quotes does not end an action.
fn scan_actions(t: &str) -> Vec<Action> {
    let b = t.as_bytes();
    let mut out: Vec<Action> = Vec::new();
    let mut i = 0;
    while let Some(off) = t.get(i..).and_then(|s| s.find("{{")) {
        let start = i + off;
        let mut j = start + 2;
        let ltrim = b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(|&c| is_ws(c));
        if ltrim {
            j += 2;
        }
        while j < b.len() && is_ws(b[j]) {
            j += 1;
        }
        let inner_start = j;
        let close = if b[j..].starts_with(b"/*") {
            t[j..]
                .find("*/")
                .and_then(|k| t[j + k..].find("}}").map(|m| j + k + m))
        } else {
            let mut k = j;
            let mut found = None;
            while k < b.len() {
                match b[k] {
                    b'"' | b'\'' => {
                        let q = b[k];
                        k += 1;
                        while k < b.len() && b[k] != q {
                            k += if b[k] == b'\\' { 2 } else { 1 };
                        }
                    }
                    b'`' => {
                        k += 1;
                        while k < b.len() && b[k] != b'`' {
                            k += 1;
                        }
                    }
                    b'}' if b.get(k + 1) == Some(&b'}') => {
                        found = Some(k);
                        break;
                    }
                    _ => {}
                }
                k += 1;
            }
            found
        };
        let (end, rtrim, inner) = match close {
            Some(c) => {
                let rtrim = c >= 2 && b[c - 1] == b'-' && is_ws(b[c - 2]);
                let inner_end = if rtrim { c - 1 } else { c }.max(inner_start);
                (c + 2, rtrim, &t[inner_start..inner_end])
            }
            None => (b.len(), false, &t[inner_start..]),
        };
        out.push(Action {
            start,
            end,
            ltrim,
            rtrim,
            kind: classify(inner.trim()),
            link: None,
            defines_after: 0,
        });
        i = end;
    }
    link_actions(&mut out);
    out
}

fn classify(inner: &str) -> Kind {
    if inner.starts_with("/*") {
        return Kind::Silent;
    }
    let word = inner
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    match word {
        "if" | "with" => Kind::Open(false),
        "range" => Kind::Open(true),
        "define" | "block" => Kind::Define,
        "else" => Kind::Else,
        "end" => Kind::End,
        "break" | "continue" => Kind::Silent,
        _ if is_assignment(inner) => Kind::Silent,
        _ => Kind::Output(inner.contains("nindent")),
    }
}

/// `$x := …` and `$x = …` print nothing; `$x` alone prints.
fn is_assignment(inner: &str) -> bool {
    let Some(rest) = inner.strip_prefix('$') else {
        return false;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
    let rest = rest.trim_start();
    rest.starts_with(":=") || (rest.starts_with('=') && !rest.starts_with("=="))
}

/// Pairs openers with their `else`s and `end`s, and counts enclosing `define`s.
fn link_actions(acts: &mut [Action]) {
    // (opener, last branch) per open level.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut defines = 0u32;
    for i in 0..acts.len() {
        match acts[i].kind {
            Kind::Open(_) | Kind::Define => {
                if acts[i].kind == Kind::Define {
                    defines += 1;
                }
                stack.push((i, i));
            }
            Kind::Else => {
                if let Some(top) = stack.last_mut() {
                    acts[top.1].link = Some(i);
                    top.1 = i;
                }
            }
            Kind::End => {
                if let Some((opener, last)) = stack.pop() {
                    acts[last].link = Some(i);
                    acts[i].link = Some(opener);
                    if acts[opener].kind == Kind::Define {
                        defines -= 1;
                    }
                }
            }
            _ => {}
        }
        acts[i].defines_after = defines;
    }
}

struct Chart<'a> {
    text: &'a str,
    acts: Vec<Action>,
}

impl Chart<'_> {
    fn action_at(&self, pos: usize) -> Option<usize> {
        self.acts.binary_search_by_key(&pos, |a| a.start).ok()
    }

    fn skip_ws(&self, mut p: usize) -> usize {
        let b = self.text.as_bytes();
        while p < b.len() && is_ws(b[p]) {
            p += 1;
        }
        p
    }

    /// Where text resumes after action `i`, its right trim applied.
    fn after(&self, i: usize) -> usize {
        let a = &self.acts[i];
        if a.rtrim { self.skip_ws(a.end) } else { a.end }
    }

    /// Whether, from byte `p` (where a marker would end), every way the template can run prints
    /// a line break before anything else. If not, what prints next would land inside the comment.
    fn newline_follows(&self, mut p: usize, depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        loop {
            let q = self.skip_ws(p);
            let next = self.action_at(q);
            let eaten = next.is_some_and(|i| self.acts[i].ltrim);
            if !eaten && self.text[p..q].contains('\n') || q >= self.text.len() {
                return true;
            }
            let Some(i) = next else { return false };
            match self.acts[i].kind {
                Kind::Output(nindent) => return nindent,
                Kind::Silent => {}
                Kind::Open(_) => {
                    // The branch not taken: each `else` body, and what follows the `end`.
                    let mut k = self.acts[i].link;
                    while let Some(b) = k {
                        if !self.newline_follows(self.after(b), depth + 1) {
                            return false;
                        }
                        k = if self.acts[b].kind == Kind::Else {
                            self.acts[b].link
                        } else {
                            None
                        };
                    }
                }
                Kind::Else | Kind::Define => {
                    // A branch that ran jumps to its `end`; a `define` prints nothing here.
                    let mut k = i;
                    while let Some(n) = self.acts[k].link {
                        k = n;
                        if self.acts[k].kind == Kind::End {
                            break;
                        }
                    }
                    if self.acts[k].kind != Kind::End {
                        return false;
                    }
                    p = self.after(k);
                    continue;
                }
                Kind::End => {
                    // A `range` goes round again.
                    if let Some(o) = self.acts[i].link
                        && self.acts[o].kind == Kind::Open(true)
                        && !self.newline_follows(self.after(o), depth + 1)
                    {
                        return false;
                    }
                }
            }
            p = self.after(i);
        }
    }
}

/// The YAML a template line holds, as far as the literal text shows it.
#[derive(Default)]
struct YamlState {
    /// Inside a block scalar, or a plain scalar that goes on over lines, whose lines are
    /// indented more than this.
    block: Option<usize>,
    /// Inside a quoted scalar that started on an earlier line.
    quote: Option<u8>,
}

/// Scans one line (actions blanked to 0) for quotes and a comment: returns the quote still open
/// at its end and where its YAML content ends.
fn scan_yaml(view: &[u8], mut quote: Option<u8>) -> (Option<u8>, usize) {
    let mut prev: Option<u8> = None;
    let mut i = 0;
    while i < view.len() {
        let c = view[i];
        if let Some(q) = quote {
            if q == b'"' && c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                if q == b'\'' && view.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                quote = None;
                prev = Some(c);
            }
            i += 1;
            continue;
        }
        let blank_before = i == 0 || matches!(view[i - 1], b' ' | b'\t');
        match c {
            b'#' if blank_before => return (None, i),
            b'"' | b'\''
                if (blank_before || matches!(view[i - 1], b'[' | b'{' | b','))
                    && matches!(prev, None | Some(b':' | b'-' | b'[' | b'{' | b',' | b'?')) =>
            {
                quote = Some(c)
            }
            _ => {}
        }
        if !matches!(c, b' ' | b'\t') {
            prev = Some(c);
        }
        i += 1;
    }
    (quote, view.len())
}

/// If the line opens a block scalar (`key: |`, `- >-`, `key: |2 # x`), the indentation its
/// content must exceed.
fn block_opener(view: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(view).ok()?.trim_end();
    let (prefix, token) = s.rsplit_once([' ', '\t'])?;
    let mut ind = token.bytes();
    if !matches!(ind.next(), Some(b'|' | b'>'))
        || !ind.all(|c| matches!(c, b'-' | b'+' | b'1'..=b'9'))
    {
        return None;
    }
    let prefix = prefix.trim_end();
    if !(prefix.ends_with(':') || prefix.trim_start() == "-" || prefix.ends_with(" -")) {
        return None;
    }
    let mut col = view.iter().take_while(|&&c| c == b' ').count();
    let mut dash = None;
    while view.get(col) == Some(&b'-') && view.get(col + 1).is_some_and(|&c| c == b' ') {
        dash = Some(col);
        col += 1;
        while view.get(col) == Some(&b' ') {
            col += 1;
        }
    }
    Some(if prefix.ends_with(':') {
        col
    } else {
        dash.unwrap_or(col)
    })
}

/// If the line ends in a plain scalar (`key: value`, `- value`), the column of its key or dash:
/// lines indented more than that continue the scalar.
fn plain_scalar_column(view: &[u8]) -> Option<usize> {
    let mut col = view.iter().take_while(|&&c| c == b' ').count();
    let mut dash = None;
    while view.get(col) == Some(&b'-') && view.get(col + 1).is_some_and(|&c| c == b' ') {
        dash = Some(col);
        col += 1;
        while view.get(col) == Some(&b' ') {
            col += 1;
        }
    }
    let rest = &view[col..];
    let (value, at) = match rest.windows(2).position(|w| w == b": ") {
        Some(p) => (&rest[p + 2..], col),
        // `- key:` opens a mapping, it holds no scalar.
        None if rest.trim_ascii_end().ends_with(b":") => return None,
        None => (rest, dash?),
    };
    let value = value.trim_ascii();
    match value.first() {
        None | Some(b'"' | b'\'' | b'|' | b'>' | b'{' | b'[' | b'&' | b'!' | b'*') => None,
        Some(_) => Some(at),
    }
}

/// Appends the marker ` #@ib:<file>:<line>` to each line of `template` where a comment cannot
/// change what Helm renders, and returns the new text (line endings, CRLF included, kept).
///
/// A line is left alone when it is blank, a `---`/`...` line, prints nothing (control actions,
/// assignments, comments only), lies in a `define`/`block`, ends inside a multi-line action, a
/// block scalar or a multi-line quoted scalar, ends with a ` -}}` trim (it would eat the
/// marker's space) or a `\`, or when what the template prints next, on any branch, is not a
/// line break (a following `{{- .x }}` would join its text onto the comment). Call it only for
/// files Helm renders by themselves (see the module documentation).
pub fn annotate(template: &str, file: u32) -> String {
    let chart = Chart {
        text: template,
        acts: scan_actions(template),
    };
    let acts = &chart.acts;
    let mut out = String::with_capacity(template.len() + template.len() / 4);
    let mut yaml = YamlState::default();
    let mut ai = 0; // first action that ends after the current line's start
    let mut line_start = 0;
    // For each line, the indentation of the next line holding YAML text, to see a plain scalar
    // go on over lines (`description: a long\n  text`): a comment would end it mid-way.
    let lines: Vec<&str> = template.split_inclusive('\n').collect();
    let mut next_indent = vec![None; lines.len()];
    for n in (0..lines.len().saturating_sub(1)).rev() {
        let t = lines[n + 1].trim();
        let structural = !t.is_empty() && !t.starts_with('#') && !t.starts_with("{{");
        next_indent[n] = if structural {
            Some(lines[n + 1].len() - lines[n + 1].trim_start().len())
        } else {
            next_indent[n + 1]
        };
    }
    for (n, raw) in lines.iter().enumerate() {
        let body = raw.trim_end_matches('\n').trim_end_matches('\r');
        let (ls, le) = (line_start, line_start + body.len());
        line_start += raw.len();
        while ai < acts.len() && acts[ai].end <= ls {
            ai += 1;
        }
        // The last action begun before this line says how many `define`s are open.
        let before = if ai < acts.len() && acts[ai].start < ls {
            Some(ai)
        } else {
            ai.checked_sub(1)
        };
        let mut in_define = before.is_some_and(|k| acts[k].defines_after > 0);
        // Actions touching this line, and the line with them blanked out.
        let mut view = body.as_bytes().to_vec();
        let mut prints = false;
        let mut ends_in_action = false;
        let mut starts_in_action = false;
        let mut last_rtrim = false;
        let mut k = ai;
        while k < acts.len() && acts[k].start < le {
            let a = &acts[k];
            starts_in_action |= a.start < ls;
            ends_in_action |= a.end > le;
            in_define |= a.kind == Kind::Define || a.defines_after > 0;
            prints |= matches!(a.kind, Kind::Output(_));
            view[a.start.max(ls) - ls..a.end.min(le) - ls].fill(0);
            last_rtrim = a.rtrim && template[a.end.min(le)..le].trim().is_empty();
            k += 1;
        }
        let text_prints = view.iter().any(|&c| c != 0 && !c.is_ascii_whitespace());
        let action_only = !text_prints;
        out.push_str(body);
        if in_define {
            yaml = YamlState::default();
            out.push_str(&raw[body.len()..]);
            continue;
        }
        let indent = view.iter().take_while(|&&c| c == b' ').count();
        let mut ok = true;
        if let Some(parent) = yaml.block {
            if action_only || starts_in_action || indent > parent {
                ok = false;
            } else {
                yaml.block = None;
            }
        }
        if ok {
            let (quote, content_end) = scan_yaml(&view, yaml.quote);
            yaml.quote = quote;
            if quote.is_some() {
                ok = false;
            } else {
                yaml.block = block_opener(&view[..content_end]);
                if yaml.block.is_none()
                    && let Some(col) = plain_scalar_column(&view[..content_end])
                    && next_indent[n].is_some_and(|i| i > col)
                {
                    yaml.block = Some(col);
                    ok = false;
                }
            }
        }
        let trimmed = body.trim();
        let ok = ok
            && !starts_in_action
            && !ends_in_action
            && (text_prints || prints)
            && !last_rtrim
            && !trimmed.ends_with('\\')
            && !trimmed.starts_with("---")
            && !trimmed.starts_with("...")
            && chart.newline_follows(le, 0);
        if trimmed.starts_with("---") {
            yaml = YamlState::default();
        }
        if ok {
            out.push_str(MARK);
            out.push_str(&format!("{file}:{}", n + 1));
        }
        out.push_str(&raw[body.len()..]);
    }
    out
}

/// The files under `templates/` that `template` renders by path
/// (`include (print $.Template.BasePath "/config.yaml") .`, usually for a checksum), relative to
/// `templates/`. Annotating those would change what the include returns, so the caller leaves
/// them as they are.
pub fn included_files(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in template.match_indices(".Template.BasePath") {
        let rest = template[i + ".Template.BasePath".len()..].trim_start();
        if let Some(lit) = rest.strip_prefix('"')
            && let Some(end) = lit.find('"')
        {
            out.push(lit[..end].trim_start_matches('/').to_string());
        }
    }
    out
}

/// One document of `helm template` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDoc {
    /// The path after `# Source: ` (e.g. `hello-world/templates/deployment.yaml`), or "" when none.
    pub source: String,
    /// The document's text with every marker removed, `# Source:` line kept, ending with a newline.
    pub text: String,
    /// For each line of `text` (index 0 = line 1): the (file, line) it came from, or None.
    pub origins: Vec<Option<(u32, usize)>>,
}

/// Removes every marker from `line`, returning the first one's (file, line).
fn take_markers(line: &mut String) -> Option<(u32, usize)> {
    let mut first = None;
    let mut from = 0;
    while let Some(off) = line[from..].find(MARK) {
        let at = from + off;
        let rest = &line[at + MARK.len()..];
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let f = digits(rest);
        let l = rest
            .get(f..)
            .and_then(|r| r.strip_prefix(':'))
            .map_or(0, digits);
        if f == 0 || l == 0 {
            from = at + 1;
            continue;
        }
        let (fnum, lnum) = (&rest[..f], &rest[f + 1..f + 1 + l]);
        if first.is_none() {
            first = fnum.parse().ok().zip(lnum.parse().ok());
        }
        line.replace_range(at..at + MARK.len() + f + 1 + l, "");
        from = at;
    }
    first
}

/// One document as (separator line, doc): the separator is kept apart so `strip` can put it back.
fn split_docs(output: &str) -> Vec<(&str, RenderedDoc)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in output.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            groups.push((line, Vec::new()));
        } else if let Some(g) = groups.last_mut() {
            g.1.push(line);
        } else {
            groups.push(("", vec![line]));
        }
    }
    let mut docs = Vec::new();
    for (sep, lines) in groups {
        let (head, body) = match lines.first() {
            Some(l) if l.starts_with("# Source: ") => (Some(*l), &lines[1..]),
            _ => (None, &lines[..]),
        };
        let source = head.map_or("", |l| {
            l["# Source: ".len()..].trim_end_matches(['\n', '\r'])
        });
        let mut text: Vec<String> = Vec::new();
        let mut marks: Vec<Option<(u32, usize)>> = Vec::new();
        let mut any = false;
        for (i, l) in body.iter().enumerate() {
            let mut s = l.to_string();
            // Helm trims each document, which takes the space off a marker that starts one.
            if i == 0 && s.starts_with(&MARK[1..]) {
                s.insert(0, ' ');
            }
            let m = take_markers(&mut s);
            any |= m.is_some();
            text.push(s);
            marks.push(m);
        }
        // Origins first, so lines the trim below drops still lend theirs to the lines above.
        let mut origins = marks.clone();
        for i in (0..origins.len().saturating_sub(1)).rev() {
            if origins[i].is_none() {
                origins[i] = origins[i + 1];
            }
        }
        if any {
            // Helm trims each document: markers may have kept blanks at its ends from that.
            while text.first().is_some_and(|s| s.trim().is_empty()) {
                text.remove(0);
                origins.remove(0);
            }
            while text.last().is_some_and(|s| s.trim().is_empty()) {
                text.pop();
                origins.pop();
            }
            if text.is_empty() {
                // Helm drops a file that renders nothing but blanks.
                continue;
            }
            let first = text[0].trim_start().to_string();
            text[0] = first;
            let last = text.len() - 1;
            text[last] = format!("{}\n", text[last].trim_end());
        }
        let mut all = String::new();
        let mut all_origins = Vec::new();
        if let Some(h) = head {
            all.push_str(h);
            all_origins.push(None);
        }
        all.extend(text);
        all_origins.extend(origins);
        if !all.is_empty() && !all.ends_with('\n') {
            all.push('\n');
        }
        docs.push((
            sep,
            RenderedDoc {
                source: source.to_string(),
                text: all,
                origins: all_origins,
            },
        ));
    }
    docs
}

/// Splits `helm template` output into documents and reads the markers back.
///
/// A line's origin is its first marker (a `{{- if }}` can join a later marker onto it); a line
/// without one (the inner lines of `include … | nindent`, `toYaml`) takes the next marker below
/// it in its document, which is the line holding the action that printed it.
pub fn split_rendered(output: &str) -> Vec<RenderedDoc> {
    split_docs(output).into_iter().map(|(_, d)| d).collect()
}

/// The whole output with markers removed (for analysing it as one stream) plus the origin of
/// each of its lines; the same mapping as split_rendered, concatenated (`---` lines have none).
pub fn strip(output: &str) -> (String, Vec<Option<(u32, usize)>>) {
    let mut text = String::with_capacity(output.len());
    let mut origins = Vec::new();
    for (sep, doc) in split_docs(output) {
        if !sep.is_empty() {
            text.push_str(sep);
            origins.push(None);
        }
        text.push_str(&doc.text);
        origins.extend(doc.origins);
    }
    (text, origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of `annotate`'s output that got a marker, by 1-based number.
    fn marked(template: &str) -> Vec<usize> {
        annotate(template, 7)
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(MARK))
            .map(|(i, _)| i + 1)
            .collect()
    }

    #[test]
    fn plain_lines_get_their_number() {
        let t = "apiVersion: v1\nkind: ConfigMap\n\nmetadata:\n  name: {{ .Release.Name }}\n";
        assert_eq!(
            annotate(t, 3),
            "apiVersion: v1 #@ib:3:1\nkind: ConfigMap #@ib:3:2\n\nmetadata: #@ib:3:4\n  name: {{ .Release.Name }} #@ib:3:5\n"
        );
    }

    #[test]
    fn crlf_is_kept() {
        assert_eq!(
            annotate("a: 1\r\nb: 2\r\n", 1),
            "a: 1 #@ib:1:1\r\nb: 2 #@ib:1:2\r\n"
        );
        // Helm trims the `\r` off a document's end before printing its `\n`.
        let (text, origins) =
            strip("---\r\n# Source: c/t.yaml\r\na: 1 #@ib:1:1\r\nb: 2 #@ib:1:2\n");
        assert_eq!(text, "---\r\n# Source: c/t.yaml\r\na: 1\r\nb: 2\n");
        assert_eq!(origins, [None, None, Some((1, 1)), Some((1, 2))]);
    }

    #[test]
    fn define_blocks_are_left_alone() {
        let t = "{{- define \"x\" -}}\ntrue\n{{- if .a }}\nb: 1\n{{- end }}\n{{- end }}\nc: {{ include \"x\" . }}\n";
        assert_eq!(marked(t), [7]);
        let t = "{{ block \"y\" . }}\nz: 1\n{{ end }}\nw: 2\n";
        assert_eq!(marked(t), [4]);
    }

    #[test]
    fn block_scalars_are_left_alone() {
        let t = "data:\n  run.sh: |\n    echo a\n\n    {{- if .b }}\n    echo b\n{{- end }}\n  other: 1\n  - >-\n    folded\n  x: 2\n";
        assert_eq!(marked(t), [1, 2, 8, 9, 11]);
        // The opener may carry a comment; a later key at the same indentation ends the block.
        let t = "- name: a\n  args: | # script\n    x\n  image: b\n";
        assert_eq!(marked(t), [1, 2, 4]);
    }

    #[test]
    fn multi_line_quotes_and_actions_are_left_alone() {
        let t = "a: \"one\n  two\"\nb: 'it''s\n  x'\nc: it's\nd: {{ dict \"k\"\n  \"v\" | toJson }}\ne: 1\n";
        assert_eq!(marked(t), [2, 4, 5, 8]);
        let t = "{{/* a\n comment: x */}}\nf: 1\ng: \"x\\\n  y\"\n";
        assert_eq!(marked(t), [3, 5]);
    }

    #[test]
    fn trims_that_would_eat_or_join_are_respected() {
        // ` -}}` would eat the marker's blank; a following `{{- .x }}` joins onto the line.
        let t = "a: {{ .a -}}\n  b\nimage: {{ .repo }}\n{{- if .tag }}:{{ .tag }}{{ end }}\nc: {{ .c }}\n{{- .d }}\ne: 1\n";
        // `  b` looks like it goes on `a:`'s scalar: left alone too.
        assert_eq!(marked(t), [4, 6, 7]);
        // `nindent` starts with a line break, so the line before is safe, and so is the action.
        let t = "labels:\n  {{- include \"l\" . | nindent 4 }}\n";
        assert_eq!(marked(t), [1, 2]);
        // A control line that prints nothing passes the question on to what follows it.
        let t = "a: 1\n{{- if .x }}\nb: 2\n{{- end }}\n{{- .y }}\n";
        assert_eq!(marked(t), [5]);
        let t = "a: 1\n{{- if .x }}\nb: 2\n{{- end }}\nc: 3\n";
        assert_eq!(marked(t), [1, 3, 5]);
        // On the branch not taken, what follows the `end` counts too (`b: 2c`, `a: 1c`).
        let t = "a: 1\n{{- if .x }}\nb: 2\n{{- end -}}\nc\n";
        assert_eq!(marked(t), [5]);
    }

    #[test]
    fn plain_scalars_over_lines_are_left_alone() {
        let t = "spec:\n  description: a long\n    text\n\n    goes on\n  type: string\n  - item\n    more\n  - x: 1\n  - y:\n      z: 2\n";
        assert_eq!(marked(t), [1, 6, 9, 10, 11]);
    }

    #[test]
    fn line_continuations_separators_and_blank_lines_are_skipped() {
        let t = "---\na: 1\n   \n...\nb: \"x \\\n";
        assert_eq!(marked(t), [2]);
        assert_eq!(
            marked("{{- $x := 1 }}\n{{ if .a }}\n{{ end }}\n"),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn included_files_are_named() {
        let t = "checksum/config: {{ include (print $.Template.BasePath \"/config.yaml\") . | sha256sum }}";
        assert_eq!(included_files(t), ["config.yaml"]);
    }

    #[test]
    fn first_marker_wins_and_unmarked_lines_take_the_next() {
        let out = "---\n# Source: c/templates/a.yaml\nkind: X #@ib:1:1 #@ib:1:2\nspec:\n  a: 1\n  b: 2 #@ib:1:4\n---\n# Source: c/templates/b.yaml\nkind: Y #@ib:2:1\ntail: 1\n";
        let docs = split_rendered(out);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].source, "c/templates/a.yaml");
        assert_eq!(
            docs[0].text,
            "# Source: c/templates/a.yaml\nkind: X\nspec:\n  a: 1\n  b: 2\n"
        );
        assert_eq!(
            docs[0].origins,
            [None, Some((1, 1)), Some((1, 4)), Some((1, 4)), Some((1, 4))]
        );
        // The next marker is looked for in the same document only.
        assert_eq!(docs[1].origins, [None, Some((2, 1)), None]);
        let (text, origins) = strip(out);
        assert_eq!(
            text,
            out.replace(" #@ib:1:1", "")
                .replace(" #@ib:1:2", "")
                .replace(" #@ib:1:4", "")
                .replace(" #@ib:2:1", "")
        );
        assert_eq!(origins.len(), text.lines().count());
    }

    #[test]
    fn helm_trims_are_undone_at_document_ends() {
        // Helm trims each document: a marker may start one (its blank gone) or hold blanks at
        // its end; a document of nothing but markers is one Helm would not have printed.
        let out = "---\n# Source: c/t.yaml\n#@ib:1:1\n  a: 1 #@ib:1:2\n   #@ib:1:3\n---\n# Source: c/e.yaml\n #@ib:2:1\n";
        let (text, origins) = strip(out);
        assert_eq!(text, "---\n# Source: c/t.yaml\na: 1\n");
        assert_eq!(origins, [None, None, Some((1, 2))]);
        // Without markers the text passes through untouched.
        let plain = "---\n# Source: c/t.yaml\na:  \n";
        assert_eq!(strip(plain).0, plain);
    }

    #[test]
    fn markers_are_stripped_exactly() {
        let mut s = "a: \"x #@ib:\" #@ib:3:9\n".to_string();
        assert_eq!(take_markers(&mut s), Some((3, 9)));
        assert_eq!(s, "a: \"x #@ib:\"\n");
    }
}
