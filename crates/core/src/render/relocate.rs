//! Carrying a rendered stream's report back to the files a person edits: each unit and
//! finding moves to the template or resource line that produced it, and a patch of the
//! rendered text becomes a patch of the template where the lines it touches are literal.

use crate::model::{FileReport, Fix, Format, Rendered};
use similar::{DiffOp, TextDiff};
use std::collections::BTreeMap;

/// Where a rendered line came from: a file (index into the caller's file table) and line.
pub type LineOrigin = (u32, usize);

/// Splits `report` (of a rendered stream) into one report per source file. `origin` maps a
/// 1-based rendered line to its source; `files` names the sources. Fixes of the rendered
/// text are dropped: they patch nothing a person edits (see [`template_fix`]).
pub fn relocate(
    report: &FileReport,
    files: &[String],
    origin: impl Fn(usize) -> LineOrigin,
    rendered: &Rendered,
) -> Vec<FileReport> {
    let mut by_file: BTreeMap<u32, FileReport> = BTreeMap::new();
    let entry = |by_file: &mut BTreeMap<u32, FileReport>, file: u32| {
        by_file.entry(file).or_insert_with(|| FileReport {
            path: files.get(file as usize).cloned().unwrap_or_default(),
            format: Format::Kubernetes,
            skipped_reason: None,
            units: Vec::new(),
            findings: Vec::new(),
            rendered: Some(rendered.clone()),
        });
    };
    for u in &report.units {
        let (file, line) = origin(u.line);
        let mut u = u.clone();
        u.line = line;
        entry(&mut by_file, file);
        by_file.get_mut(&file).expect("just made").units.push(u);
    }
    for f in &report.findings {
        let (file, line) = origin(f.line);
        let (end_file, end_line) = origin(f.end_line);
        let mut f = f.clone();
        f.line = line;
        f.end_line = if end_file == file && end_line >= line {
            end_line
        } else {
            line
        };
        f.fix = None;
        entry(&mut by_file, file);
        by_file.get_mut(&file).expect("just made").findings.push(f);
    }
    by_file.into_values().collect()
}

/// Merges the reports of several renders of one chart (default values first): a unit or
/// finding that more than one render shows (same file, line and container) is kept once,
/// from the first; `values` lists every render that showed something in the file.
pub fn merge(reports: Vec<FileReport>) -> Vec<FileReport> {
    let mut by_path: BTreeMap<String, FileReport> = BTreeMap::new();
    for r in reports {
        let Some(into) = by_path.get_mut(&r.path) else {
            by_path.insert(r.path.clone(), r);
            continue;
        };
        for u in r.units {
            // Another render may name the workload differently (a values file sets
            // `fullnameOverride`): the same template line and container is the same unit.
            let same = |v: &&crate::model::Unit| {
                (&v.container, v.role, v.line) == (&u.container, u.role, u.line)
            };
            if !into.units.iter().any(|v| same(&v)) {
                into.units.push(u);
            }
        }
        for f in r.findings {
            let same = |g: &crate::model::Finding| {
                (&g.rule, g.line, &g.container) == (&f.rule, f.line, &f.container)
            };
            if !into.findings.iter().any(same) {
                into.findings.push(f);
            }
        }
        if let (Some(a), Some(b)) = (into.rendered.as_mut(), r.rendered) {
            for v in b.values {
                if !a.values.contains(&v) {
                    a.values.push(v);
                }
            }
        }
    }
    by_path.into_values().collect()
}

/// The patch of a template that has the effect of `fix` on its rendered text, when every
/// line the fix changes is literal in the template (written as it renders) and every line
/// it adds follows a template line whose output it completes. `None` otherwise: then only
/// a chart author can say where the field belongs.
pub fn template_fix(
    rendered: &str,
    fix: &Fix,
    origin: impl Fn(usize) -> LineOrigin,
    file: u32,
    template: &str,
) -> Option<Fix> {
    let out: Vec<&str> = rendered.lines().collect();
    let tpl: Vec<&str> = template.lines().collect();
    let old: Vec<&str> = out.get(fix.start_line - 1..fix.end_line)?.to_vec();
    let new: Vec<&str> = fix.replacement.lines().collect();
    let diff = TextDiff::from_slices(&old, &new);
    // Template line (1-based) → lines that replace it.
    let mut edits: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for op in diff.ops() {
        match *op {
            DiffOp::Equal { .. } => {}
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => {
                let anchor = fix.start_line + old_index - 1;
                let t = completed_line(anchor, out.len(), &origin, file)?;
                let e = edits
                    .entry(t)
                    .or_insert_with(|| vec![tpl.get(t - 1).copied().unwrap_or("").to_string()]);
                e.extend(
                    new[new_index..new_index + new_len]
                        .iter()
                        .map(|s| s.to_string()),
                );
            }
            DiffOp::Delete { .. } | DiffOp::Replace { .. } => {
                let (old_index, old_len, new_index, new_len) = match *op {
                    DiffOp::Delete {
                        old_index,
                        old_len,
                        new_index,
                        ..
                    } => (old_index, old_len, new_index, 0),
                    DiffOp::Replace {
                        old_index,
                        old_len,
                        new_index,
                        new_len,
                    } => (old_index, old_len, new_index, new_len),
                    _ => unreachable!(),
                };
                let lines = literal_lines(
                    fix.start_line + old_index,
                    old_len,
                    &out,
                    &tpl,
                    &origin,
                    file,
                )?;
                let mut replacement: Vec<String> = new[new_index..new_index + new_len]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                for (i, t) in lines.iter().enumerate() {
                    let e = edits.entry(*t).or_default();
                    if i + 1 == lines.len() {
                        e.append(&mut replacement);
                    }
                }
            }
        }
    }
    build(edits, &tpl, template)
}

/// The template line whose output ends at rendered line `anchor` (so that lines added after
/// it render right after that output).
fn completed_line(
    anchor: usize,
    total: usize,
    origin: &impl Fn(usize) -> LineOrigin,
    file: u32,
) -> Option<usize> {
    if anchor == 0 {
        return None;
    }
    let (f, t) = origin(anchor);
    if f != file {
        return None;
    }
    if anchor < total && origin(anchor + 1) == (f, t) {
        return None;
    }
    Some(t)
}

/// The template lines of rendered lines `first..first+len`, when each is written literally
/// and they are consecutive in the template.
fn literal_lines(
    first: usize,
    len: usize,
    out: &[&str],
    tpl: &[&str],
    origin: &impl Fn(usize) -> LineOrigin,
    file: u32,
) -> Option<Vec<usize>> {
    let mut lines = Vec::with_capacity(len);
    for r in first..first + len {
        let (f, t) = origin(r);
        if f != file || tpl.get(t - 1)? != out.get(r - 1)? {
            return None;
        }
        if lines.last().is_some_and(|&p| p + 1 != t) {
            return None;
        }
        lines.push(t);
    }
    Some(lines)
}

/// One whole-line fix from the first edited template line to the last.
fn build(edits: BTreeMap<usize, Vec<String>>, tpl: &[&str], template: &str) -> Option<Fix> {
    let (&start, _) = edits.first_key_value()?;
    let (&end, _) = edits.last_key_value()?;
    let eol = if template.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut replacement = String::new();
    for t in start..=end {
        let lines: Vec<String> = match edits.get(&t) {
            Some(lines) => lines.clone(),
            None => vec![tpl.get(t - 1)?.to_string()],
        };
        for l in lines {
            replacement.push_str(&l);
            replacement.push_str(eol);
        }
    }
    let ends_without_eol = end == tpl.len() && !template.ends_with('\n');
    if ends_without_eol {
        replacement.truncate(replacement.len() - eol.len());
    }
    Some(Fix {
        description: String::new(),
        start_line: start,
        end_line: end,
        replacement,
    })
}

/// Several non-overlapping fixes of one text as one: the lines between them are kept. `None`
/// when there are none or two overlap.
pub fn combine(text: &str, fixes: &[Fix]) -> Option<Fix> {
    let mut fixes: Vec<&Fix> = fixes.iter().collect();
    fixes.sort_by_key(|f| f.start_line);
    let first = *fixes.first()?;
    if fixes.len() == 1 {
        return Some(first.clone());
    }
    let src = crate::yaml::Source::new(text);
    let mut replacement = String::new();
    let mut next = first.start_line;
    for f in &fixes {
        if f.start_line < next || f.end_line > src.line_count() {
            return None;
        }
        if f.start_line > next {
            let from = src.line_start(next);
            let to = src.line_start(f.start_line);
            replacement.push_str(&text[from..to]);
        }
        replacement.push_str(&f.replacement);
        next = f.end_line + 1;
    }
    let descriptions: Vec<&str> = fixes.iter().map(|f| f.description.as_str()).collect();
    Some(Fix {
        description: descriptions.join("; "),
        start_line: first.start_line,
        end_line: next - 1,
        replacement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(start: usize, end: usize, replacement: &str) -> Fix {
        Fix {
            description: String::new(),
            start_line: start,
            end_line: end,
            replacement: replacement.into(),
        }
    }

    #[test]
    fn lines_added_after_a_literal_line_go_after_its_template_line() {
        let template = "spec:\n  containers:\n    - name: {{ .Chart.Name }}\n      image: x\n";
        let rendered = "spec:\n  containers:\n    - name: hello\n      image: x\n";
        let f = fix(
            3,
            4,
            "    - name: hello\n      image: x\n      securityContext:\n        readOnlyRootFilesystem: true\n",
        );
        let t = template_fix(rendered, &f, |l| (0, l), 0, template).unwrap();
        assert_eq!((t.start_line, t.end_line), (4, 4));
        assert_eq!(
            t.replacement,
            "      image: x\n      securityContext:\n        readOnlyRootFilesystem: true\n"
        );
    }

    #[test]
    fn combined_fixes_keep_the_lines_between_them() {
        let text = "a: 1\nb: 2\nc: 3\nd: 4\n";
        let fixes = [fix(4, 4, "d: 5\n"), fix(1, 1, "a: 0\n")];
        let one = combine(text, &fixes).unwrap();
        assert_eq!(
            crate::patch::apply(text, &one).unwrap(),
            "a: 0\nb: 2\nc: 3\nd: 5\n"
        );
        assert!(combine(text, &[fix(1, 2, "x\n"), fix(2, 3, "y\n")]).is_none());
    }

    #[test]
    fn a_changed_line_that_is_templated_has_no_template_fix() {
        let template =
            "    - name: {{ .Chart.Name }}\n      readOnlyRootFilesystem: {{ .Values.ro }}\n";
        let rendered = "    - name: hello\n      readOnlyRootFilesystem: false\n";
        let f = fix(2, 2, "      readOnlyRootFilesystem: true\n");
        assert!(template_fix(rendered, &f, |l| (0, l), 0, template).is_none());
    }

    #[test]
    fn lines_added_inside_a_multi_line_include_have_no_template_fix() {
        // Rendered lines 2 and 3 both come from template line 2 (`toYaml … | nindent`).
        let template = "    - name: x\n      {{- toYaml .Values.extra | nindent 6 }}\n";
        let rendered = "    - name: x\n      a: 1\n      b: 2\n";
        let f = fix(2, 2, "      a: 1\n      ro: true\n");
        let origin = |l: usize| (0, if l == 1 { 1 } else { 2 });
        assert!(template_fix(rendered, &f, origin, 0, template).is_none());
    }
}
