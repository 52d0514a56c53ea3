//! What the base branch already had: the findings and exemptions of the reviewed files as
//! they are before the pull request. With `review.fail_on: new` only findings the base does
//! not have fail the check; exemptions the base does not have are listed in the summary.
//!
//! Findings are matched by unit and rule (path in the head, workload, container, rule id),
//! never by line: a pull request that moves a unit did not introduce it.

use crate::date::Date;
use crate::model::{FileReport, Finding, SuppressionKind};
use std::collections::HashSet;

/// A finding's identity across the base and the head.
type Key = (String, Option<String>, Option<String>, String);

/// An exemption's identity: where, which rule, and what it says.
type ExemptKey = (Key, SuppressionKind, String, Option<Date>);

/// The base branch's findings and exemptions, keyed by head path.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    findings: HashSet<Key>,
    exemptions: HashSet<ExemptKey>,
}

/// An exemption the pull request adds (or changes), for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedExemption {
    /// Path in the head.
    pub path: String,
    /// 1-based line of the finding it covers.
    pub line: usize,
    /// The unit: workload, and container when there is one.
    pub unit: Option<String>,
    /// Rule ids it covers here.
    pub rules: Vec<String>,
    /// How it is written.
    pub kind: SuppressionKind,
    /// The reason given.
    pub reason: String,
    /// Its last day, if any.
    pub expires: Option<Date>,
}

fn key(path: &str, f: &Finding) -> Key {
    (
        path.to_string(),
        f.workload.clone(),
        f.container.clone(),
        f.rule.clone(),
    )
}

impl Baseline {
    /// The baseline of the base's reports, each under the path the file has in the head.
    pub fn of(base: &[FileReport]) -> Baseline {
        let mut b = Baseline::default();
        for r in base {
            for f in &r.findings {
                match &f.suppressed {
                    None => {
                        b.findings.insert(key(&r.path, f));
                    }
                    Some(s) => {
                        b.exemptions
                            .insert((key(&r.path, f), s.kind, s.reason.clone(), s.expires));
                    }
                }
            }
        }
        b
    }

    /// Whether the base already has this finding of the head file `path`, unsuppressed.
    pub fn had(&self, path: &str, f: &Finding) -> bool {
        self.findings.contains(&key(path, f))
    }

    /// The head's exemptions the base does not have, one entry per unit and exemption.
    pub fn added_exemptions(&self, head: &[&FileReport]) -> Vec<AddedExemption> {
        let mut out: Vec<AddedExemption> = Vec::new();
        for r in head {
            for f in &r.findings {
                let Some(s) = &f.suppressed else { continue };
                let k = (key(&r.path, f), s.kind, s.reason.clone(), s.expires);
                if self.exemptions.contains(&k) {
                    continue;
                }
                let unit = f.workload.as_ref().map(|w| match &f.container {
                    Some(c) => format!("{w}, {c}"),
                    None => w.clone(),
                });
                let same = |a: &AddedExemption| {
                    a.path == r.path
                        && a.unit == unit
                        && a.kind == s.kind
                        && a.reason == s.reason
                        && a.expires == s.expires
                };
                match out.iter_mut().find(|a| same(a)) {
                    Some(a) => a.rules.push(f.rule.clone()),
                    None => out.push(AddedExemption {
                        path: r.path.clone(),
                        line: f.line,
                        unit,
                        rules: vec![f.rule.clone()],
                        kind: s.kind,
                        reason: s.reason.clone(),
                        expires: s.expires,
                    }),
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{NoFiles, analyze};
    use crate::config::Config;

    fn report(text: &str) -> FileReport {
        analyze("compose.yml", text.as_bytes(), &Config::default(), &NoFiles)
    }

    #[test]
    fn exempt_base_findings_and_exemptions_are_told_apart_from_the_heads() {
        let base = report("services:\n  web:\n    image: nginx\n");
        let head = report(
            "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n  # immutabot:ignore all expires=2027-01-31 vendor image, SEC-9\n  cache:\n    image: redis\n",
        );
        let b = Baseline::of(&[base]);
        let web = head
            .findings
            .iter()
            .find(|f| f.workload.as_deref() == Some("web"))
            .unwrap();
        assert!(b.had("compose.yml", web), "moved, not introduced");
        assert!(!b.had("other.yml", web));
        let added = b.added_exemptions(&[&head]);
        assert_eq!(added.len(), 1, "{added:?}");
        assert_eq!(added[0].unit.as_deref(), Some("cache"));
        assert_eq!(added[0].reason, "vendor image, SEC-9");
        assert_eq!(added[0].expires, Date::parse("2027-01-31").ok());
        // The same exemption on the base is not added by the pull request.
        let again = Baseline::of(std::slice::from_ref(&head));
        assert!(again.added_exemptions(&[&head]).is_empty());
    }
}
