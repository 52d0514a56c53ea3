//! CODEOWNERS path patterns: gitignore's rules, as GitHub and GitLab document them.
//!
//! `/x` is anchored at the root, and so is any pattern with a `/` inside it; `dir/` matches
//! folders only; `*` and `?` stop at `/`; `**/` is any number of folders and a trailing `/**`
//! everything inside; `\` escapes the next character (`\#`, `\ `). A pattern that names a
//! folder owns what is inside it, unless its last segment has a wildcard: GitHub documents
//! that `docs/*` owns `docs/a.md` but not `docs/build/b.md`.

use std::fmt;

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// Nothing to match.
    #[error("the pattern is empty")]
    Empty,
    /// GitHub has no `!` patterns.
    #[error("`!` (negation) is not supported in GitHub's CODEOWNERS")]
    Negation,
    /// GitHub has no `[...]` classes.
    #[error("character ranges (`[...]`) are not supported in GitHub's CODEOWNERS")]
    Range,
    /// A `[` without its `]`.
    #[error("`[` is not closed by `]`")]
    UnclosedClass,
    /// A `\` with nothing after it.
    #[error("the pattern ends with a lone `\\`")]
    TrailingEscape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `*`: any characters but `/`.
    Star,
    /// `?`: one character but `/`.
    One,
    /// `[...]`: one character in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**/`: zero or more whole folders.
    Folders,
    /// A trailing `/**`'s `**`: anything.
    Rest,
}

/// One compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    tokens: Vec<Token>,
    /// `dir/`: matches folders (and so what is in them), never a file of that name.
    folders_only: bool,
    /// Whether a folder the pattern matches owns what is inside it.
    owns_contents: bool,
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Pattern {
    /// Compiles `text` (escapes still in it); `classes` allows `[...]` (GitLab's fnmatch).
    pub fn parse(text: &str, classes: bool) -> Result<Pattern, PatternError> {
        let folders_only = text.ends_with('/') && !text.ends_with("\\/");
        let body = text.trim_end_matches('/');
        let body = if folders_only { body } else { text };
        let (anchored, body) = match body.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (has_separator(body), body),
        };
        if body.is_empty() {
            return Err(PatternError::Empty);
        }
        let segments = split_segments(body);
        let last = segments.len() - 1;
        let mut tokens = Vec::new();
        if !anchored {
            tokens.push(Token::Folders);
        }
        let mut owns_contents = folders_only;
        for (i, segment) in segments.iter().enumerate() {
            if *segment == "**" {
                tokens.push(if i == last {
                    Token::Rest
                } else {
                    Token::Folders
                });
                continue;
            }
            let before = tokens.len();
            segment_tokens(segment, classes, &mut tokens)?;
            if i == last && !folders_only {
                owns_contents = tokens[before..].iter().all(|t| matches!(t, Token::Char(_)));
            }
            if i != last {
                tokens.push(Token::Char('/'));
            }
        }
        Ok(Pattern {
            text: text.to_string(),
            tokens,
            folders_only,
            owns_contents,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern covers the file at `path` (relative to the root, no leading `/`).
    pub fn matches(&self, path: &str) -> bool {
        let path: Vec<char> = path.trim_start_matches('/').chars().collect();
        if !self.folders_only && full_match(&self.tokens, &path) {
            return true;
        }
        if !self.owns_contents {
            return false;
        }
        // A folder the pattern names owns everything below it.
        path.iter()
            .enumerate()
            .filter(|(_, c)| **c == '/')
            .any(|(i, _)| full_match(&self.tokens, &path[..i]))
    }
}

/// Whether an unescaped `/` is inside `body` (a trailing one is already removed).
fn has_separator(body: &str) -> bool {
    let mut escaped = false;
    for c in body.chars() {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            (false, '/') => return true,
            _ => escaped = false,
        }
    }
    false
}

/// Splits on unescaped `/`, keeping escapes in the segments.
fn split_segments(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            (false, '/') => {
                out.push(&body[start..i]);
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    out.push(&body[start..]);
    out
}

fn segment_tokens(segment: &str, classes: bool, out: &mut Vec<Token>) -> Result<(), PatternError> {
    let mut chars = segment.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(Token::Char(
                chars.next().ok_or(PatternError::TrailingEscape)?,
            )),
            '*' => {
                // `a**b` is two stars, which is one.
                if out.last() != Some(&Token::Star) {
                    out.push(Token::Star);
                }
            }
            '?' => out.push(Token::One),
            '[' if !classes => return Err(PatternError::Range),
            '[' => out.push(class(&mut chars)?),
            c => out.push(Token::Char(c)),
        }
    }
    Ok(())
}

fn class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Token, PatternError> {
    let negated = chars.next_if(|c| *c == '!' || *c == '^').is_some();
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = match chars.next() {
            None => return Err(PatternError::UnclosedClass),
            Some(']') if !first => return Ok(Token::Class { negated, ranges }),
            Some('\\') => chars.next().ok_or(PatternError::TrailingEscape)?,
            Some(c) => c,
        };
        first = false;
        if chars.peek() == Some(&'-') {
            let mut ahead = chars.clone();
            ahead.next();
            if let Some(end) = ahead.next().filter(|e| *e != ']') {
                chars.next();
                chars.next();
                ranges.push((c, end));
                continue;
            }
        }
        ranges.push((c, c));
    }
}

/// Whether `tokens` match all of `text`: dynamic programming over the tokens from the end,
/// so a pattern with many stars costs `tokens × text`, never exponential time.
fn full_match(tokens: &[Token], text: &[char]) -> bool {
    let m = text.len();
    let mut next = vec![false; m + 1];
    next[m] = true;
    for token in tokens.iter().rev() {
        let mut cur = vec![false; m + 1];
        // For `Folders`: some k > j with text[k-1] == '/' and next[k].
        let mut up_to_slash = false;
        for j in (0..=m).rev() {
            let here = text.get(j).copied();
            cur[j] = match token {
                Token::Char(c) => here == Some(*c) && next[j + 1],
                Token::One => here.is_some_and(|h| h != '/') && next[j + 1],
                Token::Class { negated, ranges } => {
                    here.is_some_and(|h| {
                        h != '/' && ranges.iter().any(|(a, b)| (*a..=*b).contains(&h)) != *negated
                    }) && next[j + 1]
                }
                Token::Star => next[j] || here.is_some_and(|h| h != '/') && cur[j + 1],
                Token::Rest => next[j] || here.is_some() && cur[j + 1],
                Token::Folders => {
                    if here == Some('/') && next[j + 1] {
                        up_to_slash = true;
                    }
                    next[j] || up_to_slash
                }
            };
        }
        next = cur;
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Pattern::parse(pattern, true).unwrap().matches(path)
    }

    #[test]
    fn github_documented_examples() {
        // Every file.
        assert!(m("*", "a.yaml") && m("*", "deep/down/a.yaml"));
        // Any `.js` file, at any depth.
        assert!(m("*.js", "app.js") && m("*.js", "src/app.js") && !m("*.js", "app.jsx"));
        // `docs/*`: files directly in `docs`, not nested ones.
        assert!(m("docs/*", "docs/getting-started.md"));
        assert!(!m("docs/*", "docs/build-app/troubleshooting.md"));
        assert!(
            !m("docs/*", "src/docs/a.md"),
            "a `/` inside anchors the pattern"
        );
        // `apps/`: an `apps` folder anywhere.
        assert!(m("apps/", "apps/a.yaml") && m("apps/", "x/apps/y/a.yaml"));
        assert!(!m("apps/", "apps"), "a file named apps is not the folder");
        // `/docs/`: the root `docs` folder and everything below it.
        assert!(m("/docs/", "docs/a/b.md") && !m("/docs/", "src/docs/b.md"));
        // `**/logs`: any `logs` folder.
        assert!(
            m("**/logs", "logs/a") && m("**/logs", "build/logs/a") && m("**/logs", "a/b/logs/c")
        );
        // `/build/logs/`: only that one.
        assert!(m("/build/logs/", "build/logs/x.log") && !m("/build/logs/", "a/build/logs/x"));
        // A plain name matches a file or a folder of that name anywhere.
        assert!(m("deploy", "deploy") && m("deploy", "x/deploy/a.yaml"));
    }

    #[test]
    fn double_stars_and_escapes() {
        assert!(m("a/**/b", "a/b") && m("a/**/b", "a/x/y/b") && !m("a/**/b", "ab"));
        assert!(m("a/**", "a/x") && m("a/**", "a/x/y") && !m("a/**", "b/a/x"));
        assert!(m("\\#hash", "#hash"));
        assert!(m("with\\ space.yaml", "with space.yaml"));
        assert!(m("k8s/*.yaml", "k8s/web.yaml") && !m("k8s/*.yaml", "k8s/prod/web.yaml"));
        assert!(m("v?.yaml", "v1.yaml") && !m("v?.yaml", "v10.yaml"));
        assert!(m("[ab].yaml", "a.yaml") && !m("[ab].yaml", "c.yaml"));
        assert!(m("[!ab].yaml", "c.yaml") && m("[a-c]x", "bx"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert_eq!(Pattern::parse("/", true), Err(PatternError::Empty));
        assert_eq!(
            Pattern::parse("a[b", true),
            Err(PatternError::UnclosedClass)
        );
        assert_eq!(
            Pattern::parse("a\\", true),
            Err(PatternError::TrailingEscape)
        );
        assert_eq!(Pattern::parse("[ab].yaml", false), Err(PatternError::Range));
    }

    proptest::proptest! {
        #[test]
        fn a_literal_path_matches_itself_and_what_is_below_it(
            segments in proptest::collection::vec("[a-z0-9._-]{1,8}", 1..5),
        ) {
            let path = segments.join("/");
            let p = Pattern::parse(&format!("/{path}"), true).unwrap();
            proptest::prop_assert!(p.matches(&path));
            let below = format!("{path}/x.yaml");
            proptest::prop_assert!(p.matches(&below));
            let beside = format!("{path}x");
            proptest::prop_assert!(!p.matches(&beside));
        }

        #[test]
        fn matching_never_panics(pattern in "[a-z/*?\\[\\]!\\\\]{0,12}", path in "[a-z/]{0,12}") {
            if let Ok(p) = Pattern::parse(&pattern, true) {
                let _ = p.matches(&path);
            }
        }
    }
}
