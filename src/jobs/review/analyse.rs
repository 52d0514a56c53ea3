//! Step 2, analyse: the core over the fetched files, off the async runtime. Files the core
//! asks for (`extends`, override files) are fetched once and the analysis runs again.

use super::fetch::Inputs;
use super::prefetched::Prefetched;
use crate::analyze::{self, NOT_RECOGNISED};
use crate::config::Config;
use crate::forge::review::ChangeRequest;
use crate::ids::CommitSha;
use crate::model::{FileReport, Format};
use crate::review::FileDiff;
use crate::review::plan::ReviewFile;
use anyhow::Context;
use std::collections::HashMap;

/// Files named by `extends` or override lookups that one review may fetch.
const MAX_EXTRA_FILES: usize = 20;

/// The core's reports, with the text each was made from.
pub struct Analysed {
    /// One report per file the core recognised.
    pub reports: Vec<FileReport>,
    /// The analysed text of each report, in the same order.
    pub sources: Vec<String>,
}

impl Analysed {
    /// The files as the planner takes them.
    pub fn review_files<'a>(&'a self, diffs: &'a HashMap<String, FileDiff>) -> Vec<ReviewFile<'a>> {
        self.reports
            .iter()
            .zip(&self.sources)
            .map(|(report, source)| ReviewFile {
                report,
                source,
                patch: diffs.get(report.path.as_str()),
            })
            .collect()
    }
}

/// Analyses every reviewed file, fetching what the core asks for at `head`.
pub async fn run<F: ChangeRequest>(
    forge: &F,
    head: &CommitSha,
    input: &mut Inputs,
) -> anyhow::Result<Analysed> {
    let paths: Vec<String> = input.reviewed.iter().map(|f| f.path.clone()).collect();
    let mut fetched = std::mem::take(&mut input.fetched);
    let mut round = 0;
    let reports = loop {
        let (reports, back) = run_core(paths.clone(), fetched, input.config.clone()).await?;
        fetched = back;
        let missing = fetched.take_missing();
        round += 1;
        if round == 2 || missing.is_empty() {
            break reports;
        }
        for path in missing.into_iter().take(MAX_EXTRA_FILES) {
            match forge.file_at(&path, head).await? {
                Some(bytes) => fetched.insert(path, bytes),
                None => fetched.insert_absent(path),
            }
        }
    };
    let sources = reports
        .iter()
        .map(|r| String::from_utf8_lossy(fetched.get(&r.path).unwrap_or_default()).into_owned())
        .collect();
    input.fetched = fetched;
    Ok(Analysed { reports, sources })
}

async fn run_core(
    paths: Vec<String>,
    fetched: Prefetched,
    config: Config,
) -> anyhow::Result<(Vec<FileReport>, Prefetched)> {
    tokio::task::spawn_blocking(move || {
        let reports = paths
            .iter()
            .filter_map(|path| {
                let bytes = fetched.get(path)?;
                let report = analyze::analyze(path, bytes, &config, &fetched);
                // YAML that is neither Compose nor Kubernetes (CI files, lock files) is not ours.
                let foreign = report.format == Format::Skipped
                    && report.skipped_reason.as_deref() == Some(NOT_RECOGNISED);
                (!foreign).then_some(report)
            })
            .collect();
        (reports, fetched)
    })
    .await
    .context("the analysis panicked")
}
