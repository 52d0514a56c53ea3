//! The `immutabot` command line: argument definitions and dispatch.

pub mod check;
pub mod config_file;
pub mod fix;
#[cfg(feature = "service")]
pub mod fix_pr;
pub mod generate;
pub mod probe;
pub mod render;
#[cfg(feature = "service")]
pub mod report;
pub mod resolver;
#[cfg(feature = "service")]
pub mod scan;
#[cfg(feature = "service")]
pub mod serve;
pub mod strict;
#[cfg(feature = "service")]
pub mod token;
pub mod walk;

use crate::model::Severity;
use crate::output::OutputFormat;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Finds containers whose root file system is writable, and suggests patches.
#[derive(Debug, Parser)]
#[command(name = "immutabot", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check Compose, Swarm and Kubernetes files for writable root file systems.
    Check(CheckArgs),
    #[cfg(feature = "service")]
    /// Run the GitHub App: webhook endpoint, workers, reconciler (settings: flags or env).
    Serve(Box<crate::settings::ServeArgs>),
    #[cfg(feature = "service")]
    /// Apply the database migrations and exit.
    Migrate(MigrateArgs),
    #[cfg(feature = "service")]
    /// Queue full-repository scans of OWNER's known repositories (or OWNER/REPO) for the service.
    Scan(scan::ScanArgs),
    #[cfg(feature = "service")]
    /// Queue the fix-all pull request of OWNER/REPO for the service.
    FixPr(fix_pr::FixPrArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(generate::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --out-dir.
    Man(generate::ManArgs),
    /// GET a plain-http URL and exit 0 on 2xx: a health check for images without curl.
    Probe(probe::ProbeArgs),
    #[cfg(feature = "service")]
    /// Print an owner's compliance report (HTML, JSON or CSV) from the database.
    Report(report::ReportArgs),
    #[cfg(feature = "service")]
    /// Create bearer tokens for the report (stored hashed).
    Token(token::TokenArgs),
}

#[cfg(feature = "service")]
/// Arguments of `immutabot migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Postgres URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When writing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Arguments of `immutabot check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files and directories to check; directories are walked honouring .gitignore.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Settings file; default: .immutabot.yml here or in a parent up to the repository root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when an unsuppressed finding has at least this severity (overrides `fail_on`).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Ignore every suppression (comments, annotations and config exemptions).
    #[arg(long)]
    pub strict: bool,

    /// Apply every suggested patch in place, then report what remains.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,

    /// Print every suggested patch as one unified diff instead of the report; change nothing.
    #[arg(long)]
    pub diff: bool,

    /// Also walk hidden files and directories.
    #[arg(long)]
    pub hidden: bool,

    /// Show suppressed findings in text output.
    #[arg(long)]
    pub show_suppressed: bool,

    /// List skipped files in text output.
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// When to colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Check Helm charts and kustomizations as files, without rendering them.
    #[arg(long)]
    pub no_render: bool,

    /// The helm binary (default: $IMMUTABOT_HELM, else `helm` on PATH).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,

    /// The kubectl binary for kustomizations (default: $IMMUTABOT_KUBECTL, else `kubectl` on PATH).
    #[arg(long, value_name = "PATH")]
    pub kubectl: Option<PathBuf>,

    /// Render every chart once more with this values file on top of its defaults (repeatable).
    #[arg(long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,

    /// Seconds one render may take before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub render_timeout: u64,

    /// The day exemptions' `expires` dates are compared with (tests; default: today, UTC).
    #[arg(long, hide = true, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub today: Option<crate::date::Date>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_date(s: &str) -> Result<crate::date::Date, String> {
    crate::date::Date::parse(s).map_err(|e| e.to_string())
}

/// Parses the command line and runs it; the process exit code is the result.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => ExitCode::from(check::run(&args)),
        #[cfg(feature = "service")]
        Command::Serve(args) => ExitCode::from(serve::serve(&args)),
        #[cfg(feature = "service")]
        Command::Migrate(args) => ExitCode::from(serve::migrate(&args)),
        #[cfg(feature = "service")]
        Command::Scan(args) => ExitCode::from(scan::run(&args)),
        #[cfg(feature = "service")]
        Command::FixPr(args) => ExitCode::from(fix_pr::run(&args)),
        Command::Completions(args) => ExitCode::from(generate::completions(&args)),
        Command::Man(args) => ExitCode::from(generate::man(&args)),
        Command::Probe(args) => ExitCode::from(probe::run(&args)),
        #[cfg(feature = "service")]
        Command::Report(args) => ExitCode::from(report::run(&args)),
        #[cfg(feature = "service")]
        Command::Token(args) => ExitCode::from(token::run(&args)),
    }
}
