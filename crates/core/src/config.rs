//! `.immutabot.yml`: the repository's own settings for the check.
//!
//! Unknown keys are errors with their line: a typo in a security tool's config must not
//! silently switch a check off.

use crate::date::Date;
use crate::model::Severity;
use crate::rules::RuleId;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The file name looked for at the root of a repository.
pub const FILE_NAME: &str = ".immutabot.yml";

/// How review comments are filtered against a pull request's diff (used by the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterMode {
    /// Only findings on added or changed lines.
    #[default]
    Added,
    /// Findings anywhere inside the diff's hunks.
    DiffContext,
    /// Findings anywhere in a changed file.
    File,
    /// Every finding, wherever it is.
    Nofilter,
}

/// One exemption: units whose container name or image matches, for some or all rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// Glob over the Kubernetes container name or the Compose service name.
    #[serde(default)]
    pub container: Option<String>,
    /// Glob over the image reference as written.
    #[serde(default)]
    pub image: Option<String>,
    /// Rules exempted; all when empty.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Why; shown in reports.
    pub reason: String,
    /// The last day the exemption holds (`YYYY-MM-DD`); checked when the file is parsed.
    #[serde(default)]
    pub expires: Option<String>,
}

impl Exemption {
    /// The parsed `expires` date (a config with a bad one never parses).
    pub fn expires_on(&self) -> Option<Date> {
        self.expires.as_deref().and_then(|d| Date::parse(d).ok())
    }

    /// Where the exemption is written, as the report and a lapsed finding name it.
    pub fn origin(&self) -> String {
        let mut what = Vec::new();
        if let Some(c) = &self.container {
            what.push(format!("container `{c}`"));
        }
        if let Some(i) = &self.image {
            what.push(format!("image `{i}`"));
        }
        format!("the `{FILE_NAME}` exemption for {}", what.join(" and "))
    }
}

/// Which findings fail a pull request's check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Every finding that is part of the changes, as the filter mode decides.
    #[default]
    Any,
    /// Only findings the pull request introduces: ones the base branch's files do not have.
    New,
}

/// Review settings (the GitHub App reads these from the base branch).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// Which findings become inline comments.
    #[serde(default)]
    pub filter: FilterMode,
    /// Which findings fail the check: `any` (the default) or only `new` ones.
    #[serde(default)]
    pub fail_on: Gate,
}

/// The parsed `.immutabot.yml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Globs of paths (relative to the repository root) that are never checked.
    #[serde(default)]
    pub ignore_paths: Vec<String>,
    /// Units exempted by container name or image.
    #[serde(default)]
    pub exempt: Vec<Exemption>,
    /// Severity per rule id, overriding the defaults.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Findings at or above this severity fail the check.
    #[serde(default = "default_fail_on")]
    pub fail_on: Severity,
    /// Pull-request review settings.
    #[serde(default)]
    pub review: Review,
    /// Opts the repository in to the fix-all pull request (the service reads it).
    #[serde(default)]
    pub fix_pull_request: bool,
    #[serde(skip)]
    ignore_set: Option<GlobSet>,
    #[serde(skip)]
    exempt_globs: Vec<(Option<globset::GlobMatcher>, Option<globset::GlobMatcher>)>,
}

fn default_fail_on() -> Severity {
    Severity::Error
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ignore_paths: Vec::new(),
            exempt: Vec::new(),
            severity: BTreeMap::new(),
            fail_on: default_fail_on(),
            review: Review::default(),
            fix_pull_request: false,
            ignore_set: None,
            exempt_globs: Vec::new(),
        }
    }
}

/// A config file that cannot be used, with the line to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ConfigError {
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Config {
    /// Parses and validates `.immutabot.yml` text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            return Config::default().compiled();
        }
        let mut config: Config = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line() as usize, l.column() as usize))
                .unwrap_or((0, 0));
            ConfigError {
                line,
                column,
                message: bare(&first_line(&e.to_string())).to_string(),
            }
        })?;
        let at = |key: &str| locate(text, key);
        for rule in config.severity.keys() {
            if RuleId::parse(rule).is_none() {
                let (line, column) = at(rule);
                return Err(ConfigError {
                    line,
                    column,
                    message: format!("unknown rule `{rule}` under `severity`"),
                });
            }
        }
        for ex in &config.exempt {
            if ex.container.is_none() && ex.image.is_none() {
                let (line, column) = at("reason");
                return Err(ConfigError {
                    line,
                    column,
                    message: "an `exempt` entry needs `container` or `image`".into(),
                });
            }
            if let Some(text) = &ex.expires
                && let Err(e) = Date::parse(text)
            {
                let (line, column) = at(text);
                return Err(ConfigError {
                    line,
                    column,
                    message: format!("`expires` in an `exempt` entry: {e}"),
                });
            }
            for rule in &ex.rules {
                if RuleId::parse(rule).is_none() {
                    let (line, column) = at(rule);
                    return Err(ConfigError {
                        line,
                        column,
                        message: format!("unknown rule `{rule}` in an `exempt` entry"),
                    });
                }
            }
        }
        config = config.compiled()?;
        Ok(config)
    }

    fn compiled(mut self) -> Result<Config, ConfigError> {
        let mut b = GlobSetBuilder::new();
        for p in &self.ignore_paths {
            b.add(glob(p)?);
        }
        self.ignore_set = Some(b.build().map_err(|e| ConfigError {
            line: 0,
            column: 0,
            message: e.to_string(),
        })?);
        self.exempt_globs = self
            .exempt
            .iter()
            .map(|e| {
                Ok((
                    e.container
                        .as_deref()
                        .map(glob)
                        .transpose()?
                        .map(|g| g.compile_matcher()),
                    e.image
                        .as_deref()
                        .map(glob)
                        .transpose()?
                        .map(|g| g.compile_matcher()),
                ))
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(self)
    }

    /// Whether `path` (relative, forward slashes) is listed under `ignore_paths`.
    pub fn is_ignored(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./");
        match &self.ignore_set {
            Some(set) => set.is_match(path),
            None => false,
        }
    }

    /// The exemption that covers a unit for `rule`, if any.
    pub fn exemption(
        &self,
        rule: RuleId,
        name: Option<&str>,
        image: Option<&str>,
    ) -> Option<&Exemption> {
        self.exempt
            .iter()
            .zip(&self.exempt_globs)
            .find(|(ex, (c, i))| {
                let rule_ok = ex.rules.is_empty() || ex.rules.iter().any(|r| r == rule.as_str());
                let c_ok = match c {
                    Some(g) => name.is_some_and(|n| g.is_match(n)),
                    None => true,
                };
                let i_ok = match i {
                    Some(g) => image.is_some_and(|n| g.is_match(n)),
                    None => true,
                };
                rule_ok && c_ok && i_ok
            })
            .map(|(ex, _)| ex)
    }

    /// The effective severity of a rule.
    pub fn severity_of(&self, rule: RuleId) -> Severity {
        self.severity
            .get(rule.as_str())
            .copied()
            .unwrap_or(rule.default_severity())
    }
}

fn glob(p: &str) -> Result<Glob, ConfigError> {
    Glob::new(p).map_err(|e| ConfigError {
        line: 0,
        column: 0,
        message: format!("bad glob `{p}`: {e}"),
    })
}

/// The parser's message without its own `error: line L column C:` prefix, which would
/// repeat the line and column the error already carries.
fn bare(message: &str) -> &str {
    let m = message.strip_prefix("error: ").unwrap_or(message);
    match m
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((pos, rest)) if pos.contains(" column ") => rest,
        _ => m,
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// Line and column of the first occurrence of `needle` in the text, for error messages.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = line.find(needle) {
            return (i + 1, c + 1);
        }
    }
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let err = Config::parse("fail_on: warning\nignore_path:\n  - x\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(
            err.message.starts_with("unknown field `ignore_path`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_rule_is_an_error() {
        let err = Config::parse("severity:\n  no-such-rule: info\n").unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn exempt_entries_take_an_expiry_date_and_refuse_a_bad_one() {
        let c = Config::parse(
            "exempt:\n  - container: web\n    reason: migrating\n    expires: 2026-12-31\nreview:\n  fail_on: new\n",
        )
        .unwrap();
        assert_eq!(c.exempt[0].expires_on(), Date::parse("2026-12-31").ok());
        assert_eq!(
            c.exempt[0].origin(),
            "the `.immutabot.yml` exemption for container `web`"
        );
        assert_eq!(c.review.fail_on, Gate::New);
        assert_eq!(Config::default().review.fail_on, Gate::Any);
        let err = Config::parse(
            "exempt:\n  - container: web\n    reason: migrating\n    expires: 31/12/2026\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "4:14: `expires` in an `exempt` entry: `31/12/2026` is not a date: write it as YYYY-MM-DD (e.g. 2027-01-31)"
        );
        let err =
            Config::parse("exempt:\n  - container: web\n    expires: 2026-12-31\n").unwrap_err();
        assert!(err.message.contains("reason"), "{err}");
    }

    #[test]
    fn globs_and_severities() {
        let c = Config::parse(
            "ignore_paths: ['charts/**']\nexempt:\n  - container: 'istio-*'\n    reason: sidecar\nseverity:\n  missing-scratch-mount: info\nfail_on: warning\n",
        )
        .unwrap();
        assert!(c.is_ignored("charts/a/b.yaml"));
        assert!(!c.is_ignored("k8s/a.yaml"));
        assert!(
            c.exemption(RuleId::WritableRootFilesystem, Some("istio-init"), None)
                .is_some()
        );
        assert_eq!(c.severity_of(RuleId::MissingScratchMount), Severity::Info);
        assert_eq!(c.fail_on, Severity::Warning);
    }
}
