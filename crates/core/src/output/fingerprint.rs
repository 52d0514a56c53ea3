//! Stable finding identities shared by the SARIF and GitLab outputs.
//!
//! A fingerprint must survive unrelated edits that shift lines, so it is made from the rule,
//! the path and the workload identity only, never from line numbers.

use crate::model::{FileReport, Finding};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The fingerprint of one finding: hex SHA-256 of rule, path, workload and container.
pub fn of(path: &str, finding: &Finding) -> String {
    identity_hash(path, finding, 0)
}

/// Fingerprints of every finding in `file`, in order.
///
/// Two findings with the same identity in one file (say, a rule reported twice for one
/// workload) would collapse into one alert downstream, so repeats get an occurrence number
/// mixed in; the first occurrence keeps the plain fingerprint.
pub fn all(file: &FileReport) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    file.findings
        .iter()
        .map(|f| {
            let base = identity_hash(&file.path, f, 0);
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                identity_hash(&file.path, f, *n - 1)
            }
        })
        .collect()
}

fn identity_hash(path: &str, finding: &Finding, occurrence: usize) -> String {
    let mut h = Sha256::new();
    // NUL separators keep ("a", "bc") and ("ab", "c") apart.
    for part in [
        "immutabot/v1",
        finding.rule.as_str(),
        path,
        finding.workload.as_deref().unwrap_or(""),
        finding.container.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    if occurrence > 0 {
        h.update(occurrence.to_string().as_bytes());
    }
    hex::encode(h.finalize())
}
