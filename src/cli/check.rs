//! `immutabot check`: walk, analyse in parallel, optionally patch, render, pick the exit code.

use crate::analyze::{NOT_RECOGNISED, analyze};
use crate::cli::config_file;
use crate::cli::fix::{self, split_bom};
use crate::cli::render::{self, Rendering};
use crate::cli::resolver::FsResolver;
use crate::cli::strict::unsuppress;
use crate::cli::walk::{self, Target};
use crate::cli::{CheckArgs, ColorChoice};
use crate::config::Config;
use crate::expiry;
use crate::model::{FileReport, Severity};
use crate::output::diff::Change;
use crate::output::stream::Streamer;
use crate::output::{self, OutputFormat};
use rayon::prelude::*;
use std::io::{IsTerminal, Write};

/// Exit code: no failing finding.
pub const EXIT_OK: u8 = 0;
/// Exit code: an unsuppressed finding at or above the failing severity.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage, I/O or configuration error.
pub const EXIT_ERROR: u8 = 2;

/// What became of one file.
struct Outcome {
    explicit: bool,
    report: Option<FileReport>,
    /// The analysed text after any BOM, for renderers that show patches.
    text: Option<String>,
    change: Option<Change>,
    applied: usize,
    error: Option<String>,
}

impl Outcome {
    /// A report to write as it is.
    fn of(report: FileReport) -> Outcome {
        Outcome {
            explicit: true,
            report: Some(report),
            text: None,
            change: None,
            applied: 0,
            error: None,
        }
    }

    /// A file that produced no report, only an error of the run.
    fn failed(t: &Target, error: String) -> Outcome {
        Outcome {
            explicit: t.explicit,
            report: None,
            text: None,
            change: None,
            applied: 0,
            error: Some(error),
        }
    }
}

/// Runs `immutabot check` and returns the process exit code.
pub fn run(args: &CheckArgs) -> u8 {
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the working directory: {e}");
            return EXIT_ERROR;
        }
    };
    let loaded = match config_file::load(args.config.as_deref(), &cwd) {
        Ok(l) => l,
        Err(msg) => {
            eprintln!("error: {msg}");
            return EXIT_ERROR;
        }
    };
    let config = &loaded.config;
    // A usage error is found before any work, so it is all the run prints.
    if args.fix && args.paths.iter().any(|p| p.as_os_str() == walk::STDIN) {
        eprintln!("error: standard input cannot be fixed in place: use --diff");
        return EXIT_ERROR;
    }
    let walked = walk::collect(
        &args.paths,
        config,
        walk::Options {
            hidden: args.hidden,
            cwd: &cwd,
            config_base: &loaded.base,
        },
    );
    let mut failed = false;
    for e in &walked.errors {
        eprintln!("error: {e}");
        failed = true;
    }
    // Nothing left to check: a report of zero files would only hide the error.
    if failed && walked.targets.is_empty() {
        return EXIT_ERROR;
    }

    let rendering = if args.no_render {
        Rendering::default()
    } else {
        render::render_all(&walked.targets, args, config, &cwd)
    };
    let all = walked.targets;
    let targets: Vec<Target> = all
        .iter()
        .filter(|t| !rendering.claims(t))
        .cloned()
        .collect();
    let resolver = FsResolver::new(&cwd);
    let analyse = |path: &str, bytes: &[u8]| {
        let mut r = analyze(path, bytes, config, &resolver);
        settle(&mut r, args);
        r
    };
    let mut out = match &args.output {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => PipeGuard::new(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                eprintln!("error: cannot write the report to {}: {e}", p.display());
                return EXIT_ERROR;
            }
        },
        None => PipeGuard::new(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
    };
    let mut sink = Streamer::new(args.format, text_options(args));
    let (mut applied, mut fixed_files) = (0, 0);
    let begun = if args.diff {
        Ok(())
    } else {
        sink.begin(&mut out)
    };
    // Writes one batch's results in order; runs on this thread only.
    let mut write_batch = |outcomes: Vec<Outcome>, out: &mut dyn Write| -> std::io::Result<()> {
        for o in outcomes {
            if let Some(e) = &o.error {
                eprintln!("error: {e}");
                failed = true;
            }
            if o.applied > 0 {
                applied += o.applied;
                fixed_files += 1;
            }
            if o.report.is_none()
                && let Some(c) = &o.change
            {
                out.write_all(output::diff::render(std::slice::from_ref(c)).as_bytes())?;
            }
            let Some(report) = &o.report else { continue };
            // A directory holds all kinds of YAML (CI workflows, Helm values): only files
            // that are Compose or Kubernetes, or were named explicitly, are reported.
            if !o.explicit && report.skipped_reason.as_deref() == Some(NOT_RECOGNISED) {
                continue;
            }
            if args.diff {
                // The exit code still follows the findings, as without `--diff`.
                sink.tally(report);
                if let Some(c) = &o.change {
                    out.write_all(output::diff::render(std::slice::from_ref(c)).as_bytes())?;
                }
            } else {
                sink.file(out, report, o.text.as_deref())?;
            }
        }
        Ok(())
    };
    // With more than one worker, this thread writes one batch while the pool analyses the
    // next: writing the report is serial work. With one worker it stays strictly one after
    // the other, so a one-thread run uses one core.
    let overlap = rayon::current_num_threads() > 1;
    let analyse_batch = |batch: &[Target]| -> Vec<Outcome> {
        batch
            .par_iter()
            .map(|t| process(t, args, &analyse))
            .collect()
    };
    let batches = begun.and_then(|()| {
        // Batches keep every core busy while at most two batches of results are held.
        let mut pending: Vec<Outcome> = Vec::new();
        for batch in targets.chunks(BATCH) {
            let done = std::mem::take(&mut pending);
            pending = if overlap {
                std::thread::scope(|s| {
                    let analysis = s.spawn(|| analyse_batch(batch));
                    let wrote = write_batch(done, &mut out);
                    let outcomes = analysis
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p));
                    wrote.map(|()| outcomes)
                })?
            } else {
                write_batch(done, &mut out)?;
                analyse_batch(batch)
            };
        }
        write_batch(pending, &mut out)?;
        let rendered = rendered_outcomes(&rendering, &all, args, config, &cwd);
        write_batch(rendered, &mut out)
    });
    let written = batches.and_then(|()| {
        if !args.diff {
            sink.end(&mut out)?;
        }
        out.flush()
    });
    // Text says it in the report; the other formats (and `--diff`) have no place for it.
    if args.diff || args.format != OutputFormat::Text {
        eprint!("{}", sink.skipped_report());
    }
    if args.fix {
        eprintln!("applied {applied} fixes to {fixed_files} files");
    }
    if let Err(e) = written {
        eprintln!("error: cannot write the report: {e}");
        return EXIT_ERROR;
    }
    if failed {
        return EXIT_ERROR;
    }
    match sink.worst {
        Some(worst) if worst >= fail_on(args, config) => EXIT_FINDINGS,
        _ => EXIT_OK,
    }
}

/// The report's writer. A reader that stops early (`check | head -1`) closes the pipe: the
/// rest of the report is dropped in silence while the run goes on, so `--fix` still fixes
/// every file and the exit code is still the findings', as with `rg`.
struct PipeGuard {
    inner: Box<dyn Write>,
    closed: bool,
}

impl PipeGuard {
    fn new(inner: Box<dyn Write>) -> PipeGuard {
        PipeGuard {
            inner,
            closed: false,
        }
    }

    fn guard(&mut self, r: std::io::Result<usize>, len: usize) -> std::io::Result<usize> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(len)
            }
            r => r,
        }
    }
}

impl Write for PipeGuard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.guard(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.inner.flush().map(|()| 0);
        self.guard(r, 0).map(|_| ())
    }
}

/// The renders' reports as outcomes. With `--diff`, their patches of templates, values files
/// and kustomizations as changes; with `--fix`, those patches written and the charts and
/// kustomizations rendered again, to report what remains.
fn rendered_outcomes(
    rendering: &Rendering,
    all: &[Target],
    args: &CheckArgs,
    config: &Config,
    cwd: &std::path::Path,
) -> Vec<Outcome> {
    let strict = |mut reports: Vec<FileReport>| {
        reports.iter_mut().for_each(|r| settle(r, args));
        reports
    };
    let reports = strict(rendering.reports.clone());
    // A patch is shown against the file it patches: a template, a values file, a kustomization.
    let with_text = |r: FileReport| {
        let text = std::fs::read(cwd.join(&r.path))
            .ok()
            .and_then(|b| keep_text(args, &r, &b));
        Outcome {
            text,
            ..Outcome::of(r)
        }
    };
    if !args.fix && !args.diff {
        return reports.into_iter().map(with_text).collect();
    }
    let patched = render::patch_sources(&reports, cwd, args.fix);
    let mut outcomes: Vec<Outcome> = patched
        .into_iter()
        .map(|p| Outcome {
            explicit: true,
            report: None,
            text: None,
            applied: if args.fix { p.applied } else { 0 },
            change: p.change,
            error: p.error,
        })
        .collect();
    let after = if args.fix {
        strict(render::render_all(all, args, config, cwd).reports)
    } else {
        reports
    };
    outcomes.extend(after.into_iter().map(with_text));
    outcomes
}

/// What comes after the analysis: exemptions past their date lapse, `--strict` drops the rest.
fn settle(report: &mut FileReport, args: &CheckArgs) {
    expiry::apply(report, args.today.unwrap_or_else(crate::today::today));
    if args.strict {
        unsuppress(report);
    }
}

/// Files analysed in parallel before their results are written and dropped.
const BATCH: usize = 512;

/// Reads, analyses and (with `--fix`/`--diff`) patches one file.
fn process(
    t: &Target,
    args: &CheckArgs,
    analyse: &(impl Fn(&str, &[u8]) -> FileReport + Sync),
) -> Outcome {
    let from_stdin = t.fs_path.as_os_str() == walk::STDIN;
    if from_stdin && args.fix {
        return Outcome::failed(
            t,
            "standard input cannot be fixed in place: use --diff".into(),
        );
    }
    let read = if from_stdin {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut b).map(|_| b)
    } else {
        std::fs::read(&t.fs_path)
    };
    let bytes = match read {
        Ok(b) => b,
        // An unreadable file is an error of the run, not an entry of the report.
        Err(e) => return Outcome::failed(t, format!("{}: {e}", t.path)),
    };
    if !args.fix && !args.diff {
        let report = analyse(&t.path, &bytes);
        let text = keep_text(args, &report, &bytes);
        return Outcome {
            explicit: t.explicit,
            report: Some(report),
            text,
            change: None,
            applied: 0,
            error: None,
        };
    }
    let before = bytes.clone();
    let fixed = fix::fix_bytes(bytes, |b| analyse(&t.path, b));
    let mut error = None;
    if args.fix
        && fixed.applied > 0
        && fixed.bytes != before
        && let Err(e) = std::fs::write(&t.fs_path, &fixed.bytes)
    {
        error = Some(format!("{}: cannot write the fixed file: {e}", t.path));
    }
    let change = match (
        String::from_utf8(before.clone()),
        String::from_utf8(fixed.bytes.clone()),
    ) {
        (Ok(before), Ok(after)) if args.diff && before != after => Some(Change {
            path: t.path.clone(),
            before,
            after,
        }),
        _ => None,
    };
    // `--diff` changes nothing on disk, so the report (and exit code) is about the original.
    let (report, text) = if args.fix {
        let text = keep_text(args, &fixed.report, &fixed.bytes);
        (fixed.report, text)
    } else {
        let text = keep_text(args, &fixed.original, &before);
        (fixed.original, text)
    };
    Outcome {
        explicit: t.explicit,
        report: Some(report),
        text,
        change,
        applied: if args.fix { fixed.applied } else { 0 },
        error,
    }
}

/// The text is kept only where a renderer needs it for a patch (text shows it, SARIF and
/// rdjson measure the last line): holding every file until the end would make memory grow with the size of
/// the tree instead of the largest file.
fn keep_text(args: &CheckArgs, report: &FileReport, bytes: &[u8]) -> Option<String> {
    let has_patch = report.findings.iter().any(|f| f.fix.is_some());
    let needs_text = matches!(
        args.format,
        OutputFormat::Text | OutputFormat::Sarif | OutputFormat::Rdjson
    );
    if args.diff || !needs_text || !has_patch {
        return None;
    }
    body_text(bytes)
}

fn body_text(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    Some(split_bom(text).1.to_string())
}

fn text_options(args: &CheckArgs) -> output::text::Options {
    output::text::Options {
        color: use_color(args),
        show_suppressed: args.show_suppressed,
        verbose: args.verbose,
    }
}

fn use_color(args: &CheckArgs) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// `--fail-on` when given, else the config's `fail_on`.
pub fn fail_on(args: &CheckArgs, config: &Config) -> Severity {
    args.fail_on.unwrap_or(config.fail_on)
}
