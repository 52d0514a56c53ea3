//! `--format text`: diagnostics for people, like a compiler's or ripgrep's.
//!
//! `path:line:col: severity[rule] message`, then a small diff of each suggested patch, then
//! one summary line. Colour is decided by the caller, so this stays a pure function.

use crate::model::{FileReport, Finding, Fix, Format, Report, Severity, Summary};
use crate::output::{OutputFormat, Sources, stream};
use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;

/// What the text output shows besides unsuppressed findings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Emit ANSI colours.
    pub color: bool,
    /// Show suppressed findings (dimmed) with their reason.
    pub show_suppressed: bool,
    /// Say which files were skipped and why.
    pub verbose: bool,
}

struct Styles {
    error: Style,
    warning: Style,
    info: Style,
    path: Style,
    dim: Style,
    removed: Style,
    added: Style,
}

impl Styles {
    fn new(color: bool) -> Styles {
        if !color {
            let p = Style::new();
            return Styles {
                error: p,
                warning: p,
                info: p,
                path: p,
                dim: p,
                removed: p,
                added: p,
            };
        }
        Styles {
            error: AnsiColor::Red.on_default().bold(),
            warning: AnsiColor::Yellow.on_default().bold(),
            info: AnsiColor::Cyan.on_default().bold(),
            path: Style::new().bold(),
            dim: Style::new().dimmed(),
            removed: AnsiColor::Red.on_default(),
            added: AnsiColor::Green.on_default(),
        }
    }

    fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.error,
            Severity::Warning => self.warning,
            Severity::Info => self.info,
        }
    }
}

/// The whole text report.
pub fn render(report: &Report, sources: &Sources, opts: Options) -> String {
    stream::render_all(
        OutputFormat::Text,
        opts,
        report
            .files
            .iter()
            .map(|f| (f, sources.get(&f.path).map(String::as_str))),
    )
}

/// The closing line: what was checked and what was found; skipped files are counted in
/// it, since a run that checked nothing must not read like a clean pass.
pub fn summary_line(s: &Summary) -> String {
    let skipped = if s.skipped > 0 {
        format!(" ({} skipped)", s.skipped)
    } else {
        String::new()
    };
    format!(
        "{}{skipped}, {}, {} read-only, {} suppressed, {}\n",
        count(s.files, "file"),
        count(s.units, "unit"),
        s.read_only,
        s.suppressed,
        count(s.findings, "finding")
    )
}

/// The most skipped files listed one line each without `-v`; past it, one line points at `-v`.
pub const SKIPPED_LISTED: usize = 10;

/// `path: skipped: reason`, the line that says why a file was not checked.
pub fn skipped_line(file: &FileReport, color: bool) -> String {
    let st = Styles::new(color);
    let reason = file
        .skipped_reason
        .as_deref()
        .unwrap_or("not a Compose or Kubernetes file");
    format!(
        "{}{}{:#}: {}skipped: {reason}{:#}\n",
        st.path, file.path, st.path, st.dim, st.dim
    )
}

/// The line that stands for more skipped files than are listed.
pub fn skipped_note(skipped: usize) -> String {
    format!("note: {skipped} files were skipped and not checked; run with -v to see each and why\n")
}

/// One file's findings (and, with `verbose`, why it was skipped).
pub fn render_file(out: &mut String, file: &FileReport, text: Option<&str>, opts: Options) {
    let st = &Styles::new(opts.color);
    if opts.verbose && file.format == Format::Skipped {
        out.push_str(&skipped_line(file, opts.color));
    }
    let src = crate::output::patch_index(file, text);
    for u in file.units.iter().filter(|u| u.partial) {
        let _ = writeln!(
            out,
            "{}{}:{}: note: service `{}` is partial (no image or build of its own: an override fragment or an `extends` base); it is judged on what this file says{:#}",
            st.dim, file.path, u.line, u.workload, st.dim
        );
    }
    for f in &file.findings {
        match &f.suppressed {
            None => render_finding(out, file, f, src.as_ref(), st),
            Some(s) if opts.show_suppressed => {
                let reason = if s.reason.is_empty() {
                    "no reason given"
                } else {
                    &s.reason
                };
                let _ = writeln!(
                    out,
                    "{}{}:{}:{}: {}[{}] {} (suppressed: {reason}){:#}",
                    st.dim,
                    file.path,
                    f.line,
                    f.column,
                    f.severity,
                    f.rule,
                    one_entry(&f.message),
                    st.dim
                );
            }
            Some(_) => {}
        }
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A message on one line of its own: later lines are indented under the diagnostic so that
/// every `path:line:col:` still starts a line.
fn one_entry(message: &str) -> String {
    message.trim_end().replace('\n', "\n    ")
}

fn render_finding(
    out: &mut String,
    file: &FileReport,
    f: &Finding,
    src: Option<&crate::yaml::Source<'_>>,
    st: &Styles,
) {
    let sev = st.severity(f.severity);
    let _ = writeln!(
        out,
        "{}{}:{}:{}{:#}: {sev}{}[{}]{sev:#} {}",
        st.path,
        file.path,
        f.line,
        f.column,
        st.path,
        f.severity,
        f.rule,
        one_entry(&f.message)
    );
    if let Some(fix) = &f.fix {
        let _ = writeln!(out, "  {}fix:{:#} {}", st.dim, st.dim, fix.description);
        if let Some(src) = src {
            render_fix(out, fix, src, st);
        }
    }
}

/// The replaced lines against their replacement; kept and removed lines carry their number.
fn render_fix(out: &mut String, fix: &Fix, src: &crate::yaml::Source<'_>, st: &Styles) {
    let text = src.text();
    if fix.start_line == 0 || fix.end_line < fix.start_line || fix.end_line > src.line_count() {
        return;
    }
    let old = &text[src.line_start(fix.start_line)..src.line_range(fix.end_line).end];
    let diff = TextDiff::from_lines(old, fix.replacement.as_str());
    let width = (fix.start_line
        + fix
            .replacement
            .lines()
            .count()
            .max(fix.end_line - fix.start_line + 1))
    .to_string()
    .len();
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end_matches('\n').trim_end_matches('\r');
        match change.tag() {
            ChangeTag::Equal => {
                let n = fix.start_line + change.old_index().unwrap_or(0);
                let _ = writeln!(out, "  {}{n:>width$} |{:#}  {line}", st.dim, st.dim);
            }
            ChangeTag::Delete => {
                let n = fix.start_line + change.old_index().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "  {}{n:>width$} |{:#} {}-{line}{:#}",
                    st.dim, st.dim, st.removed, st.removed
                );
            }
            ChangeTag::Insert => {
                // New lines have no number in the file yet.
                let _ = writeln!(
                    out,
                    "  {}{:>width$} |{:#} {}+{line}{:#}",
                    st.dim, "", st.dim, st.added, st.added
                );
            }
        }
    }
}
