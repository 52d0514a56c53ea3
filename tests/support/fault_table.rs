//! One row of the fault table in RELIABILITY.md: what was sent, what the forge should show,
//! what it shows. Each fault test prints its row, and appends it to the file `$FAULTS_TABLE`
//! names, where `scripts/faults` collects them. `$FAULTS_SCALE` multiplies the load (1, the
//! default, keeps the tests fast inside the normal suite).

use std::io::Write;
use std::time::Duration;

/// How much load a fault test puts on: `base` deliveries times `$FAULTS_SCALE`.
pub fn scaled(base: usize) -> usize {
    let scale = std::env::var("FAULTS_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&s| s >= 1)
        .unwrap_or(1);
    base * scale
}

/// A number from the environment, else `default`.
pub fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// One fault's figures.
#[derive(Debug, Clone)]
pub struct Row {
    /// The fault, in a few words.
    pub fault: String,
    /// `GitHub` or `GitLab`.
    pub forge: &'static str,
    /// Deliveries sent (redeliveries the service asked for not included).
    pub sent: usize,
    /// Reviews the forge should show: one per pull request.
    pub expected: usize,
    /// Pull requests with a review.
    pub posted: usize,
    /// Reviews, check runs or discussions beyond the one expected.
    pub duplicates: usize,
    /// Pull requests without their review.
    pub lost: usize,
    /// First delivery sent to the last job finished.
    pub drain: Duration,
    /// What else was seen (faults given, 503s, answer times).
    pub note: String,
}

impl Row {
    /// The row as a Markdown table line.
    pub fn line(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} s | {} |",
            self.fault,
            self.forge,
            self.sent,
            self.expected,
            self.posted,
            self.duplicates,
            self.lost,
            self.drain.as_secs_f64(),
            self.note
        )
    }

    /// Prints the row (and appends it to `$FAULTS_TABLE`), then holds it to its promise:
    /// nothing repeated, nothing lost.
    pub fn report(&self) {
        let line = self.line();
        println!("{line}");
        if let Ok(path) = std::env::var("FAULTS_TABLE") {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            writeln!(file, "{line}").unwrap();
        }
        assert_eq!(self.duplicates, 0, "duplicates: {line}");
        assert_eq!(self.lost, 0, "lost: {line}");
        assert_eq!(self.posted, self.expected, "{line}");
    }
}

/// Duplicates and misses among per-pull-request counts that should each be `expected`.
pub fn tally(counts: impl IntoIterator<Item = usize>, expected: usize) -> (usize, usize, usize) {
    let (mut posted, mut duplicates, mut lost) = (0, 0, 0);
    for n in counts {
        if n >= expected && n > 0 {
            posted += 1;
        } else {
            lost += 1;
        }
        duplicates += n.saturating_sub(expected);
    }
    (posted, duplicates, lost)
}
