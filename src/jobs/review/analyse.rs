//! Step 2, analyse: the core over the fetched files, off the async runtime. Files the core
//! asks for (`extends`, override files) are fetched once and the analysis runs again.

use super::fetch::Inputs;
use super::prefetched::Prefetched;
use crate::analyze::Resolver;
use crate::analyze::{self, NOT_RECOGNISED};
use crate::config::Config;
use crate::forge::FileRefused;
use crate::forge::review::ChangeRequest;
use crate::ids::CommitSha;
use crate::jobs::budget;
use crate::model::{FileReport, Format};
use crate::review::FileDiff;
use crate::review::plan::ReviewFile;
use crate::review::summary::Note;
use std::collections::HashMap;
use std::sync::Arc;

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
    /// Lets exemptions past their last day lapse: after the analysis, as the scan does.
    pub fn expire(&mut self, today: crate::date::Date) {
        self.reports
            .iter_mut()
            .for_each(|r| crate::expiry::apply(r, today));
    }

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
            if !input.budget.has_room() || !input.budget.admit(&path, None) {
                fetched.insert_absent(path);
                continue;
            }
            match forge.file_at(&path, head).await {
                Ok(Some(bytes)) => {
                    input.budget.hold(bytes.len());
                    fetched.insert(path, bytes)
                }
                Ok(None) => fetched.insert_absent(path),
                // A file another one refers to that the forge will not hand over is read
                // as absent (the core then says it could not be read), not a failed review.
                Err(e) if FileRefused::is_cause_of(&e) => {
                    input
                        .notes
                        .push(Note::Text(format!("`{path}` was not read: {e:#}.")));
                    fetched.insert_absent(path)
                }
                Err(e) => return Err(e),
            }
        }
    };
    input.notes.extend(input.budget.note().map(Note::Text));
    let sources = reports
        .iter()
        .map(|r| String::from_utf8_lossy(fetched.get(&r.path).unwrap_or_default()).into_owned())
        .collect();
    input.fetched = fetched;
    Ok(Analysed { reports, sources })
}

/// The core over `paths` of `fetched`, within the default budget.
pub(super) async fn run_core(
    paths: Vec<String>,
    fetched: Prefetched,
    config: Config,
) -> anyhow::Result<(Vec<FileReport>, Prefetched)> {
    analyse_each(
        paths,
        fetched,
        config,
        budget::Budget::default(),
        Arc::new(analyze::analyze),
    )
    .await
}

/// The analysis of one file, as the core does it (a seam for the budget's test).
type Analysis = dyn Fn(&str, &[u8], &Config, &dyn Resolver) -> FileReport + Send + Sync;

/// Each file within `budget`: a file that takes longer is reported as not analysed and the
/// review goes on.
async fn analyse_each(
    paths: Vec<String>,
    fetched: Prefetched,
    config: Config,
    budget: budget::Budget,
    analysis: Arc<Analysis>,
) -> anyhow::Result<(Vec<FileReport>, Prefetched)> {
    let shared = Arc::new((fetched, config));
    let one = Arc::new(
        move |(fetched, config): &(Prefetched, Config), path: &str| {
            let bytes = fetched.get(path)?;
            Some(analysis(path, bytes, config, fetched))
        },
    );
    let mut reports = Vec::new();
    for (path, ran) in budget::each(&shared, paths, budget, one).await? {
        let report = match ran {
            Ok(Some(report)) => report,
            Ok(None) => continue,
            Err(why) => budget::out_of_time(&path, why),
        };
        // YAML that is neither Compose nor Kubernetes (CI files, lock files) is not ours.
        let foreign = report.format == Format::Skipped
            && report.skipped_reason.as_deref() == Some(NOT_RECOGNISED);
        if !foreign {
            reports.push(report);
        }
    }
    // A file still being analysed holds its share: then the review goes on with a copy.
    Ok((reports, Arc::unwrap_or_clone(shared).0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_over_its_budget_is_reported_not_analysed_and_the_rest_go_on() {
        let mut fetched = Prefetched::default();
        for p in ["a.yaml", "slow.yaml", "b.yaml"] {
            fetched.insert(p.into(), b"services:\n  web:\n    image: nginx\n".to_vec());
        }
        let (release, wait) = mpsc::channel::<()>();
        let wait = Mutex::new(wait);
        let analysis: Arc<Analysis> = Arc::new(move |path, bytes, config, resolver| {
            if path == "slow.yaml" {
                // Stands for a file the core spends minutes on: blocks until released.
                let _ = wait.lock().unwrap().recv();
            }
            analyze::analyze(path, bytes, config, resolver)
        });
        let paths = vec!["a.yaml".into(), "slow.yaml".into(), "b.yaml".into()];
        let (reports, back) = analyse_each(
            paths,
            fetched,
            Config::default(),
            budget::Budget {
                file: Duration::from_secs(2),
                job: Duration::from_secs(600),
            },
            analysis.clone(),
        )
        .await
        .unwrap();
        let _ = release.send(());
        let shown: Vec<(&str, Option<&str>)> = reports
            .iter()
            .map(|r| (r.path.as_str(), r.skipped_reason.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("a.yaml", None),
                ("slow.yaml", Some("not analysed: took longer than 2 s")),
                ("b.yaml", None),
            ]
        );
        assert!(
            back.get("b.yaml").is_some(),
            "the files are kept for the next steps"
        );

        // Once the job's budget is spent, the files after are not started.
        let paths = vec!["slow.yaml".into(), "a.yaml".into()];
        let job = budget::Budget {
            file: Duration::from_secs(600),
            job: Duration::from_secs(2),
        };
        let (reports, _) = analyse_each(paths, back, Config::default(), job, analysis)
            .await
            .unwrap();
        let _ = release.send(());
        let shown: Vec<Option<&str>> = reports
            .iter()
            .map(|r| r.skipped_reason.as_deref())
            .collect();
        let spent = "not analysed: this job's files took longer than 2 s together";
        assert_eq!(shown, [Some(spent), Some(spent)]);
    }
}
