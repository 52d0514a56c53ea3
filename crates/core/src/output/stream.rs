//! Writes a report file by file, so a run holds a batch or two of results at a time and
//! memory follows the largest file rather than the size of the tree.
//!
//! The whole-report renderers (`json::render`, …) are this writer over a finished report, so
//! the streamed output and the tested output are the same bytes.

use crate::model::{FileReport, Format, Severity, Summary};
use crate::output::{OutputFormat, gitlab, rdjson, sarif, text};
use std::io::{self, Write};

/// A report being written.
pub struct Streamer {
    format: OutputFormat,
    text: text::Options,
    /// Nothing written inside the format's list yet (JSON, GitLab, SARIF, rdjson need the commas).
    first: bool,
    /// Counts over the files written so far.
    pub summary: Summary,
    /// The worst unsuppressed severity seen so far.
    pub worst: Option<Severity>,
    /// One item's JSON, reused from item to item.
    buf: Vec<u8>,
    /// Why files were skipped, one line each, as many as will be listed.
    skipped: Vec<String>,
}

impl Streamer {
    /// A writer for `format`; `text` only matters for the text format.
    pub fn new(format: OutputFormat, text: text::Options) -> Streamer {
        Streamer {
            format,
            text,
            first: true,
            summary: Summary::default(),
            worst: None,
            buf: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Counts one file without writing it (what `--diff` does, whose output is the diff).
    pub fn tally(&mut self, file: &FileReport) {
        self.summary.add(file);
        self.worst = self.worst.max(file.worst());
        let text = self.format == OutputFormat::Text;
        if file.format != Format::Skipped || (text && self.text.verbose) {
            return;
        }
        // Text lists every skipped file with `-v`, in place; the other formats have no
        // place for it in their document, so `-v` lists them all beside it.
        let cap = if self.text.verbose && !text {
            usize::MAX
        } else {
            text::SKIPPED_LISTED
        };
        if self.skipped.len() < cap {
            self.skipped
                .push(text::skipped_line(file, text && self.text.color));
        }
    }

    /// Why files were skipped: a line each, or one note when there are too many to list.
    /// Empty when text output with `-v` already said it at each file.
    pub fn skipped_report(&self) -> String {
        if self.format == OutputFormat::Text && self.text.verbose {
            String::new()
        } else if self.summary.skipped > self.skipped.len() {
            text::skipped_note(self.summary.skipped)
        } else {
            self.skipped.concat()
        }
    }

    /// Writes what comes before the first file.
    pub fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        match self.format {
            OutputFormat::Json => out.write_all(b"{\n  \"version\": 1,\n  \"files\": ["),
            OutputFormat::Gitlab => out.write_all(b"["),
            OutputFormat::Sarif => out.write_all(sarif_frame().0.as_bytes()),
            OutputFormat::Rdjson => {
                let source =
                    serde_json::to_string_pretty(&rdjson::source()).map_err(io::Error::other)?;
                write!(
                    out,
                    "{{\n  \"source\": {},\n  \"diagnostics\": [",
                    indent(&source, 2)
                )
            }
            OutputFormat::Text | OutputFormat::Github => Ok(()),
        }
    }

    /// Writes one file's part; `source` is its text where the format shows patches.
    pub fn file(
        &mut self,
        out: &mut dyn Write,
        file: &FileReport,
        source: Option<&str>,
    ) -> io::Result<()> {
        self.tally(file);
        match self.format {
            OutputFormat::Text => {
                let mut s = String::new();
                text::render_file(&mut s, file, source, self.text);
                out.write_all(s.as_bytes())
            }
            OutputFormat::Github => out.write_all(crate::output::github::file(file).as_bytes()),
            OutputFormat::Json => self.item(out, file, 4),
            OutputFormat::Gitlab => {
                for issue in gitlab::issues(file) {
                    self.item(out, &issue, 2)?;
                }
                Ok(())
            }
            OutputFormat::Sarif => {
                for result in sarif::file_results(file, source) {
                    self.item(out, &result, 8)?;
                }
                Ok(())
            }
            OutputFormat::Rdjson => {
                for d in rdjson::diagnostics(file, source) {
                    self.item(out, &d, 4)?;
                }
                Ok(())
            }
        }
    }

    /// Writes what comes after the last file.
    pub fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let close = |first: bool, indent: usize| {
            if first {
                "]".to_string()
            } else {
                format!("\n{}]", " ".repeat(indent))
            }
        };
        match self.format {
            OutputFormat::Text => {
                out.write_all(self.skipped_report().as_bytes())?;
                out.write_all(text::summary_line(&self.summary).as_bytes())
            }
            OutputFormat::Github => Ok(()),
            OutputFormat::Json => {
                let summary =
                    serde_json::to_string_pretty(&self.summary).map_err(io::Error::other)?;
                write!(
                    out,
                    "{},\n  \"summary\": {}\n}}\n",
                    close(self.first, 2),
                    indent(&summary, 2)
                )
            }
            OutputFormat::Gitlab => writeln!(out, "{}", close(self.first, 0)),
            OutputFormat::Sarif => write!(out, "{}{}", close(self.first, 6), sarif_frame().1),
            // The overall severity is the worst one written, known only now; none without findings.
            OutputFormat::Rdjson => match self.worst {
                Some(worst) => write!(
                    out,
                    "{},\n  \"severity\": \"{}\"\n}}\n",
                    close(self.first, 2),
                    rdjson::severity(worst)
                ),
                None => write!(out, "{}\n}}\n", close(self.first, 2)),
            },
        }
    }

    /// One element of the format's list: a comma after the previous one, a new line, and
    /// the element's pretty JSON indented to its depth.
    fn item<T: serde::Serialize>(
        &mut self,
        out: &mut dyn Write,
        item: &T,
        depth: usize,
    ) -> io::Result<()> {
        if !self.first {
            out.write_all(b",")?;
        }
        self.first = false;
        // Serialised into a reused buffer (static dispatch for serde_json's many small
        // writes), then copied out a line at a time with the item's indentation.
        self.buf.clear();
        serde_json::to_writer_pretty(&mut self.buf, item).map_err(io::Error::other)?;
        let pad = " ".repeat(depth);
        write!(out, "\n{pad}")?;
        Indented {
            out,
            pad: pad.as_bytes(),
        }
        .write_all(&self.buf)
    }
}

/// A writer that indents every line after the first by `pad` (pretty JSON has no line
/// break inside a string: they are escaped).
struct Indented<'a> {
    out: &'a mut dyn Write,
    pad: &'a [u8],
}

impl Write for Indented<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            self.out.write_all(&rest[..=i])?;
            self.out.write_all(self.pad)?;
            rest = &rest[i + 1..];
        }
        self.out.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Indents every line but the first (which follows its key or comma).
fn indent(json: &str, depth: usize) -> String {
    json.replace('\n', &format!("\n{}", " ".repeat(depth)))
}

/// The SARIF log around its `results` list, split where the results go.
fn sarif_frame() -> (String, String) {
    let empty = serde_json::to_string_pretty(&sarif::log_with_results(Vec::new()))
        .expect("JSON serialises");
    let marker = "\"results\": []";
    let at = empty.find(marker).expect("the log has a results list");
    let open = at + marker.len() - 1;
    (
        empty[..open].to_string(),
        format!("{}\n", &empty[open + 1..]),
    )
}

/// Runs a whole finished report through the streamer: what the pure renderers return.
pub fn render_all<'a>(
    format: OutputFormat,
    text_opts: text::Options,
    files: impl IntoIterator<Item = (&'a FileReport, Option<&'a str>)>,
) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut s = Streamer::new(format, text_opts);
    // Writing into memory cannot fail.
    let _ = s.begin(&mut out);
    for (f, src) in files {
        let _ = s.file(&mut out, f, src);
    }
    let _ = s.end(&mut out);
    String::from_utf8(out).unwrap_or_default()
}
