//! `immutabot report OWNER[/REPO]`: the compliance report from the database, no server.

use crate::report::queries::{self, ReportError, View, WebRoots};
use crate::report::{csv, html};
use crate::settings;
use anyhow::Context;
use chrono::Utc;
use secrecy::ExposeSecret;
use std::io::Write;

/// Output of `immutabot report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// The page `/report/OWNER` serves.
    Html,
    /// The shape `/api/report/OWNER` serves (docs/report.md).
    Json,
    /// One line per repository (owner reports only).
    Csv,
}

/// Arguments of `immutabot report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Organisation, user or GitLab group (case-insensitive; `group/subgroup` for a nested
    /// one), or OWNER/REPO for one repository's units.
    pub target: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Postgres URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// GitHub's web root, for links to files.
    #[arg(long, env = "GITHUB_WEB_URL", default_value = "https://github.com")]
    pub github_web_url: String,
    /// GitLab's web root, for links to files of GitLab projects.
    #[arg(long, env = "GITLAB_URL", default_value = settings::GITLAB_DEFAULT_URL)]
    pub gitlab_url: String,
    /// Only the units this CODEOWNERS owner has (`@org/team`, a user, or `(no owner)`).
    #[arg(long)]
    pub team: Option<String>,
    /// Days a unit may stay writable before it is listed as overdue.
    #[arg(long, env = "IMMUTABOT_FIX_TARGET_DAYS", default_value = "30",
          value_parser = |s: &str| settings::fix_target_days(s))]
    pub fix_target_days: u32,
    /// List every overdue unit, not only the longest writable (the page and the API list
    /// the first 200; all are counted).
    #[arg(long)]
    pub all_overdue: bool,
}

/// Prints the report; 0 when printed, 1 when the owner is unknown or the database failed.
pub fn run(args: &ReportArgs) -> u8 {
    let url = match settings::database_url(args.database_url.as_deref()) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("immutabot report: {e}");
            return 2;
        }
    };
    let rt = match super::serve::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(render(args, url.expose_secret())) {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    eprintln!("immutabot report: {e}");
                    1
                }
            }
        }
        Err(e) => {
            eprintln!("immutabot report: {e:#}");
            1
        }
    }
}

async fn render(args: &ReportArgs, url: &str) -> anyhow::Result<String> {
    let pool = crate::db::pool(url, 4)?;
    let named = |e: ReportError| match e {
        ReportError::NotFound => anyhow::anyhow!("no repositories of `{}` are known", args.target),
        e => anyhow::Error::new(e).context("could not read the report"),
    };
    // `a/b` is a repository of `a`, or a GitLab subgroup: whichever the history knows.
    let repository = match args.target.split_once('/') {
        Some((owner, repo)) => {
            let web = WebRoots {
                github: &args.github_web_url,
                gitlab: Some(&args.gitlab_url),
            };
            match queries::repository_report(&pool, owner, repo, web).await {
                Err(ReportError::NotFound) => None,
                r => Some(r.map_err(named)?),
            }
        }
        None => None,
    };
    let text = match repository {
        Some(r) => match args.format {
            // A file has nowhere to post the fix-all pull request button to.
            ReportFormat::Html => html::repository_page(&r, false),
            ReportFormat::Json => to_json(&r)?,
            ReportFormat::Csv => anyhow::bail!("--format csv is for owner reports only"),
        },
        None => {
            let view = View {
                team: args.team.as_deref(),
                fix_target_days: args.fix_target_days,
                overdue_listed: if args.all_overdue {
                    usize::MAX
                } else {
                    queries::OVERDUE_LISTED
                },
            };
            let r = queries::owner_report_with(&pool, &args.target, Utc::now(), view)
                .await
                .map_err(named)?;
            match args.format {
                ReportFormat::Html => html::owner_page(&r),
                ReportFormat::Json => to_json(&r)?,
                ReportFormat::Csv => csv::repositories(&r),
            }
        }
    };
    pool.close().await;
    Ok(text)
}

fn to_json(value: &impl serde::Serialize) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value).context("could not write JSON")?;
    text.push('\n');
    Ok(text)
}
