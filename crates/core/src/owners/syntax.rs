//! Reading CODEOWNERS lines: words split on unescaped blanks, a `#` word starts a comment,
//! GitLab's section headers, and owner names checked so that a typo is reported.

use super::pattern::{Pattern, PatternError};
use super::{CodeOwners, Entry, LineError, Section, Syntax};

/// Parses the whole file: every line is an entry, a header, a comment or an error.
pub(super) fn parse(text: &str, syntax: Syntax) -> CodeOwners {
    let mut out = CodeOwners {
        sections: vec![Section::default()],
        errors: Vec::new(),
    };
    // GitLab sections of one name (compared without case) are one section.
    let mut current = 0;
    let mut defaults: Vec<Vec<String>> = vec![Vec::new()];
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fail = |reason: String| LineError {
            line: i + 1,
            text: trimmed.to_string(),
            reason,
        };
        if syntax == Syntax::GitLab && (trimmed.starts_with('[') || trimmed.starts_with("^[")) {
            match header(trimmed) {
                Ok((name, owners)) => {
                    let found = out
                        .sections
                        .iter()
                        .position(|s| !s.name.is_empty() && s.name.eq_ignore_ascii_case(&name));
                    current = found.unwrap_or_else(|| {
                        out.sections.push(Section {
                            name,
                            entries: Vec::new(),
                        });
                        defaults.push(Vec::new());
                        out.sections.len() - 1
                    });
                    defaults[current] = owners;
                }
                Err(reason) => out.errors.push(fail(reason)),
            }
            continue;
        }
        match entry(trimmed, syntax, &defaults[current]) {
            Ok(e) => out.sections[current].entries.push(e),
            Err(reason) => out.errors.push(fail(reason)),
        }
    }
    out
}

/// A `pattern owner…` line.
fn entry(line: &str, syntax: Syntax, defaults: &[String]) -> Result<Entry, String> {
    let words = words(line)?;
    let (first, rest) = words.split_first().ok_or("no pattern")?;
    let (exclude, text) = match (syntax, first.strip_prefix('!')) {
        (Syntax::GitLab, Some(rest)) => (true, rest),
        (Syntax::GitHub, Some(_)) => return Err(PatternError::Negation.to_string()),
        (_, None) => (false, first.as_str()),
    };
    let pattern = Pattern::parse(text, syntax == Syntax::GitLab).map_err(|e| e.to_string())?;
    let mut owners = Vec::with_capacity(rest.len());
    for w in rest {
        if !is_owner(w, syntax) {
            return Err(format!("`{w}` is not an owner ({})", owner_forms(syntax)));
        }
        owners.push(w.clone());
    }
    if exclude && !owners.is_empty() {
        return Err("an exclusion (`!pattern`) takes no owners".into());
    }
    if owners.is_empty() && !exclude {
        owners = defaults.to_vec();
    }
    Ok(Entry {
        pattern,
        owners,
        exclude,
    })
}

/// A GitLab header: `[Name]`, `^[Name]`, `[Name][2]`, each with optional default owners.
fn header(line: &str) -> Result<(String, Vec<String>), String> {
    let rest = line.strip_prefix('^').unwrap_or(line);
    let rest = rest
        .strip_prefix('[')
        .ok_or("a section header starts with `[`")?;
    let end = rest
        .find(']')
        .ok_or("the section name is not closed by `]`")?;
    let name = rest[..end].trim();
    if name.is_empty() {
        return Err("the section has no name".into());
    }
    let mut after = &rest[end + 1..];
    if let Some(count) = after.strip_prefix('[') {
        let close = count
            .find(']')
            .ok_or("the approval count is not closed by `]`")?;
        if count[..close].trim().parse::<u32>().is_err() {
            return Err(format!(
                "`{}` is not a number of approvals",
                &count[..close]
            ));
        }
        after = &count[close + 1..];
    }
    let mut owners = Vec::new();
    for w in words(after)? {
        if !is_owner(&w, Syntax::GitLab) {
            return Err(format!(
                "`{w}` is not an owner ({})",
                owner_forms(Syntax::GitLab)
            ));
        }
        owners.push(w);
    }
    Ok((name.to_string(), owners))
}

/// Words split on blanks that are not escaped, up to a word starting with `#`; escapes
/// stay in the words (the pattern reads them).
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                word.push('\\');
                word.push(
                    chars
                        .next()
                        .ok_or(PatternError::TrailingEscape.to_string())?,
                );
            }
            '#' if word.is_empty() => break,
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    Ok(out)
}

fn owner_forms(syntax: Syntax) -> &'static str {
    match syntax {
        Syntax::GitHub => "@user, @org/team or an email address",
        Syntax::GitLab => "@user, @group, @group/subgroup, @@role or an email address",
    }
}

/// `@user`, `@org/team` (GitLab: any depth, and `@@role`) or an email address.
fn is_owner(word: &str, syntax: Syntax) -> bool {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if let Some(name) = word.strip_prefix('@') {
        let name = match (syntax, name.strip_prefix('@')) {
            (Syntax::GitLab, Some(role)) => return name_ok(role),
            _ => name,
        };
        let parts: Vec<&str> = name.split('/').collect();
        let depth_ok = match syntax {
            Syntax::GitHub => parts.len() <= 2,
            Syntax::GitLab => true,
        };
        return depth_ok && parts.iter().all(|p| name_ok(p));
    }
    match word.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !word.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}
