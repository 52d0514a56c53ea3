//! The entry point of the analysis core: one file's bytes in, its report out. No I/O here:
//! files that `extends` or an override names are asked of a [`Resolver`].

use crate::config::Config;
use crate::inventory::compose::{self, ComposeInput, Evidence};
use crate::inventory::kubernetes::{EXEMPT_ANNOTATION, EXEMPT_EXPIRES_ANNOTATION};
use crate::inventory::{Inventory, kubernetes};
use crate::model::{FileReport, Finding, Format, ReadOnly, Suppression, SuppressionKind};
use crate::patch::Planner;
use crate::patch::edit::{Editor, Style};
use crate::rules::{self, Draft, RuleId};
use crate::suppress::{self, Verdict};
use crate::template;
use crate::yaml::refusal::{self, Refusal, Tool};
use crate::yaml::{Limits, Source, Stream};

/// Files larger than this are not parsed.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// `skipped_reason` of a file that is neither Compose nor Kubernetes.
pub const NOT_RECOGNISED: &str = "not a Compose file or Kubernetes manifest";

/// Supplies other files a Compose file refers to (`extends: {file: …}`, override files).
///
/// Paths are relative to the root the caller analyses, with forward slashes, already joined
/// and normalised by the core (`a/b/../c.yml` becomes `a/c.yml`).
pub trait Resolver: Sync {
    /// The bytes of `path`, or `None` when it does not exist or cannot be read.
    fn read(&self, path: &str) -> Option<Vec<u8>>;

    /// Whether a file exists at `path` (a chart's `Chart.yaml`); by default, whether it reads.
    fn exists(&self, path: &str) -> bool {
        self.read(path).is_some()
    }
}

/// A resolver that knows no other file.
pub struct NoFiles;

impl Resolver for NoFiles {
    fn read(&self, _path: &str) -> Option<Vec<u8>> {
        None
    }
}

/// Whether a file is a candidate by name and extension (content decides the rest).
pub fn is_candidate(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
}

/// Whether the file name says Compose (`compose*.y[a]ml`, `docker-compose*.y[a]ml`).
pub fn is_compose_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    (name.starts_with("compose") || name.starts_with("docker-compose"))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

/// Whether text that could not be read as YAML still looks like a Compose file or a
/// Kubernetes manifest, so that its failure is worth a finding.
fn looks_like_ours(text: &str) -> bool {
    (text.contains("apiVersion") && text.contains("kind")) || text.contains("services")
}

/// Analyses one file. `path` is relative to the analysed root, with forward slashes.
pub fn analyze(path: &str, bytes: &[u8], config: &Config, resolver: &dyn Resolver) -> FileReport {
    let mut report = FileReport {
        path: path.to_string(),
        format: Format::Skipped,
        skipped_reason: None,
        units: Vec::new(),
        findings: Vec::new(),
        rendered: None,
    };
    let Some(Text { text, bad_utf8 }) = read_text(path, bytes, config, &mut report) else {
        return report;
    };
    let stream = Stream::parse(&text, Limits::default());
    // Asked only when it matters: in a review, each lookup may be a fetch.
    let chart = std::cell::OnceCell::new();
    let chart = || chart.get_or_init(|| chart_of(path, resolver)).as_deref();
    if let Some(reason) = template_reason(path, &text, &stream, chart) {
        report.skipped_reason = Some(reason);
        return report;
    }
    let Found {
        mut inv,
        format,
        file_problems,
    } = inventory_of(path, &stream, resolver, chart);
    if text.contains("{{") {
        for u in &mut inv.units {
            template::mark_unit(&stream, u);
        }
    }
    let problems = Problems {
        refused: refusals(&text, &stream, format, path),
        file_problems,
        bad_utf8,
    };
    let broken = problems.broken(&stream);
    let Some(format) = classify(path, &text, format, broken) else {
        report.skipped_reason = Some(NOT_RECOGNISED.into());
        return report;
    };
    report.format = format;
    if format == Format::Skipped {
        report.skipped_reason = Some("not valid YAML".into());
    }
    let src = Source::new(&text);
    let drafts = check_rules(&stream, &src, &inv, broken);
    // The rules read merged values too: if that ran out of work, their verdicts are partial.
    let broken = broken || stream.merge_exhausted();
    report.units = units(&inv, broken);
    for d in drafts.iter().filter(|_| !broken) {
        report
            .findings
            .push(finding(&stream, &src, config, &inv, d));
    }
    report
        .findings
        .extend(file_findings(config, &stream, &src, problems));
    mark_suppressed_units(&mut report, &inv);
    report.units.sort_by_key(|u| u.line);
    report
        .findings
        .sort_by(|a, b| (a.line, a.column, &a.rule).cmp(&(b.line, b.column, &b.rule)));
    report
}

/// A file's text, and where it stopped being UTF-8 (line, column) if it did.
struct Text<'a> {
    text: std::borrow::Cow<'a, str>,
    bad_utf8: Option<(usize, usize)>,
}

/// The text to analyse, or `None` when the file is not analysed (too large, binary); the
/// report then says why.
fn read_text<'a>(
    path: &str,
    bytes: &'a [u8],
    config: &Config,
    report: &mut FileReport,
) -> Option<Text<'a>> {
    if bytes.len() > MAX_FILE_BYTES {
        // A big lock file or data dump is not ours: only say so when it looks like a manifest.
        let head = String::from_utf8_lossy(&bytes[..64 * 1024]);
        if !is_compose_name(path) && !looks_like_ours(&head) {
            report.skipped_reason = Some(NOT_RECOGNISED.into());
            return None;
        }
        let reason = format!(
            "the file is {} bytes, over the {} MiB limit; not analysed",
            bytes.len(),
            MAX_FILE_BYTES >> 20
        );
        report
            .findings
            .push(file_finding(config, 1, 1, reason.clone()));
        report.skipped_reason = Some(reason);
        return None;
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        report.skipped_reason = Some("binary file (contains NUL bytes)".into());
        return None;
    }
    Some(match std::str::from_utf8(bytes) {
        Ok(t) => Text {
            text: std::borrow::Cow::Borrowed(t),
            bad_utf8: None,
        },
        Err(e) => {
            let upto = e.valid_up_to();
            let line = bytes[..upto].iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = bytes[..upto]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            Text {
                text: String::from_utf8_lossy(bytes),
                bad_utf8: Some((line, upto - line_start + 1)),
            }
        }
    })
}

/// Why the file is a template and not YAML yet, if it is one.
fn template_reason<'c>(
    path: &str,
    text: &str,
    stream: &Stream,
    chart: impl Fn() -> Option<&'c str>,
) -> Option<String> {
    let in_templates = path.contains("templates/")
        && chart().is_some_and(|c| path[c.len()..].starts_with("templates/"));
    let line = template::line(text, stream).or(in_templates.then_some(1))?;
    Some(format!(
        "template: `{{{{` at line {line} is not YAML until rendered (Helm or Go template); check the rendered output, e.g. `helm template . | immutabot check -`"
    ))
}

/// The units of every document, the format of the first that has any, and problems a
/// version-1 Compose file has.
struct Found {
    inv: Inventory,
    format: Option<Format>,
    file_problems: Vec<(usize, usize, String)>,
}

fn inventory_of<'c>(
    path: &str,
    stream: &Stream,
    resolver: &dyn Resolver,
    chart: impl Fn() -> Option<&'c str>,
) -> Found {
    let mut found = Found {
        inv: Inventory::default(),
        format: None,
        file_problems: Vec::new(),
    };
    // Inside a chart, only a file named Compose is Compose: values, schemas and chart tests
    // have the shape of version-1 services.
    let evidence = if is_compose_name(path) {
        Evidence::Named
    } else {
        Evidence::Content
    };
    for root in stream.docs.iter().flatten().copied() {
        if kubernetes::is_manifest(stream, root) {
            kubernetes::inventory(stream, root, &mut found.inv);
            found.format.get_or_insert(Format::Kubernetes);
        } else if let Some(layout) = compose::layout(stream, root, evidence)
            && (evidence == Evidence::Named || chart().is_none())
        {
            // Without `services:`, a GitLab CI file (jobs with `image:`) looks like a
            // version-1 Compose file; its job keys give it away, and Compose rejects them.
            if matches!(layout, compose::Layout::Legacy(_)) && compose::looks_like_ci(stream, root)
            {
                continue;
            }
            if let Some(problem) = compose::legacy_problem(stream, root, layout) {
                found.file_problems.push(problem);
            }
            let part = compose::inventory(&ComposeInput {
                stream,
                root,
                layout,
                path,
                resolver,
            });
            found.inv.units.extend(part.units);
            found.format.get_or_insert(Format::Compose);
        }
    }
    found
}

/// What makes a file's verdicts untrustworthy, besides its parse error.
struct Problems {
    refused: Vec<Refusal>,
    file_problems: Vec<(usize, usize, String)>,
    bad_utf8: Option<(usize, usize)>,
}

impl Problems {
    /// Whether the units' verdicts cannot be trusted: they are reported unknown then.
    fn broken(&self, stream: &Stream) -> bool {
        stream.error.is_some()
            || self.bad_utf8.is_some()
            || !self.file_problems.is_empty()
            || !self.refused.is_empty()
            || stream.merge_exhausted()
    }
}

/// The report's format; `None` when the file is not ours at all.
fn classify(path: &str, text: &str, format: Option<Format>, broken: bool) -> Option<Format> {
    match format {
        Some(f) => Some(f),
        None if is_compose_name(path) => Some(Format::Compose),
        // A broken file is reported when it looks like a manifest; a broken Ansible or CI
        // template elsewhere in the tree is not ours to judge.
        None if broken && looks_like_ours(text) => Some(Format::Skipped),
        None => None,
    }
}

/// The rules' drafts; none for a broken file.
fn check_rules(stream: &Stream, src: &Source, inv: &Inventory, broken: bool) -> Vec<Draft> {
    if broken {
        return Vec::new();
    }
    let planner = Planner {
        ed: Editor {
            s: stream,
            src,
            style: Style::learn(stream, src),
        },
    };
    rules::check(inv, &planner)
}

/// The listed units with their verdicts; all unknown in a broken file.
fn units(inv: &Inventory, broken: bool) -> Vec<crate::model::Unit> {
    inv.units
        .iter()
        .filter(|u| u.listed)
        .map(|u| {
            let mut unit = u.unit.clone();
            unit.read_only = if broken {
                ReadOnly::Unknown
            } else {
                rules::status(u)
            };
            unit
        })
        .collect()
}

/// Findings about the file rather than a unit: encoding, refusals, parse errors,
/// duplicate keys, unknown rule ids in suppressions.
fn file_findings(
    config: &Config,
    stream: &Stream,
    src: &Source,
    problems: Problems,
) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut push = |line, column, message| found.push(file_finding(config, line, column, message));
    if let Some((line, column)) = problems.bad_utf8 {
        push(line, column, "The file is not valid UTF-8 (Compose and kubectl refuse it); its services and containers are reported as unknown".into());
    }
    for r in problems.refused {
        push(r.line, r.column, r.message);
    }
    if stream.merge_exhausted() {
        push(1, 1, "Lookups through `<<` merge keys took more work than immutabot allows for a file this size (a merge-key bomb?); its services and containers are reported as unknown".into());
    }
    for (line, column, message) in problems.file_problems {
        push(line, column, message);
    }
    if let Some(e) = &stream.error {
        push(e.line, e.column, rules::parse_error_message(&e.message));
    }
    for d in &stream.duplicates {
        push(
            d.at.line,
            d.at.col + 1,
            format!(
                "`{}` is written twice in the same mapping: Compose and kustomize reject the file, kubectl silently keeps the last value",
                d.key
            ),
        );
    }
    for u in suppress::unknown_rules(src) {
        found.push(invalid_suppression(config, u));
    }
    found
}

/// A unit whose writable finding is suppressed is suppressed, never compliant.
fn mark_suppressed_units(report: &mut FileReport, inv: &Inventory) {
    let listed: Vec<usize> = (0..inv.units.len())
        .filter(|&i| inv.units[i].listed)
        .collect();
    for (unit, &i) in report.units.iter_mut().zip(&listed) {
        let suppressed = report.findings.iter().any(|f| {
            f.suppressed.is_some()
                && (f.rule == RuleId::WritableRootFilesystem.as_str()
                    || f.rule == RuleId::ReadOnlyUnknown.as_str())
                && unit_of(inv, f) == Some(i)
        });
        if suppressed && unit.read_only != ReadOnly::True {
            unit.read_only = ReadOnly::Suppressed;
        }
    }
}

/// What the tool the file is written for refuses (nothing more once our parser failed).
fn refusals(text: &str, stream: &Stream, format: Option<Format>, path: &str) -> Vec<Refusal> {
    let tool = match format {
        Some(Format::Kubernetes) => Tool::Kubectl,
        Some(Format::Compose) => Tool::Compose,
        _ if is_compose_name(path) => Tool::Compose,
        _ => return Vec::new(),
    };
    if stream.error.is_some() {
        return Vec::new();
    }
    refusal::refusals(text, stream, tool)
}

fn unit_of(inv: &Inventory, f: &Finding) -> Option<usize> {
    inv.units.iter().position(|u| {
        Some(&u.unit.workload) == f.workload.as_ref() && u.unit.container == f.container
    })
}

fn file_finding(config: &Config, line: usize, column: usize, message: String) -> Finding {
    Finding {
        rule: RuleId::InvalidFile.as_str().into(),
        severity: config.severity_of(RuleId::InvalidFile),
        line,
        end_line: line,
        column,
        message,
        workload: None,
        container: None,
        fix: None,
        suppressed: None,
        expired: None,
    }
}

fn invalid_suppression(config: &Config, u: suppress::UnknownRule) -> Finding {
    let hint = match u.closest {
        Some(known) => format!("did you mean `{known}`?"),
        None => "the rule ids are listed in docs/rules.md".into(),
    };
    Finding {
        rule: RuleId::InvalidSuppression.as_str().into(),
        severity: config.severity_of(RuleId::InvalidSuppression),
        column: u.column,
        message: format!(
            "`{}` is not a rule id, so this `immutabot:ignore` comment suppresses nothing ({hint})",
            u.id
        ),
        ..file_finding(config, u.line, u.column, String::new())
    }
}

fn finding(s: &Stream, src: &Source<'_>, config: &Config, inv: &Inventory, d: &Draft) -> Finding {
    let node = s.node(d.node);
    let unit = d.unit.map(|i| &inv.units[i]);
    let line = node.start.line;
    let end_line = src.last_content_line(node.end.byte).max(line);
    let mut message = d.message.clone();
    let mut suppressed = None;
    let mut lines = vec![line];
    if let Some(u) = unit {
        lines.insert(0, u.unit.line);
    }
    for l in lines {
        match suppress::comment_for(src, l, d.rule) {
            Verdict::Suppressed {
                reason,
                expires,
                line,
            } => {
                suppressed = Some(Suppression {
                    kind: SuppressionKind::Comment,
                    reason,
                    expires,
                    origin: format!("the `immutabot:ignore` comment on line {line}"),
                });
                break;
            }
            Verdict::MissingReason => {
                message.push_str(" (An `immutabot:ignore` comment names this rule but gives no reason, so it is not honoured.)");
                break;
            }
            Verdict::BadExpiry(e) => {
                message.push_str(&format!(
                    " (An `immutabot:ignore` comment names this rule, but its `expires=` is wrong, so it is not honoured: {e}.)"
                ));
                break;
            }
            Verdict::None => {}
        }
    }
    if let Some(u) = unit {
        if suppressed.is_none()
            && let Some(exempt) = &u.annotation_exempt
            && matches!(
                d.rule,
                RuleId::WritableRootFilesystem
                    | RuleId::ReadOnlyUnknown
                    | RuleId::MissingScratchMount
                    | RuleId::ReadOnlyBypassed
            )
        {
            match &exempt.expires {
                Ok(expires) => {
                    suppressed = Some(Suppression {
                        kind: SuppressionKind::Annotation,
                        reason: exempt.reason.clone(),
                        expires: *expires,
                        origin: format!(
                            "the `{EXEMPT_ANNOTATION}` annotation of {}",
                            u.unit.workload
                        ),
                    })
                }
                Err(e) => message.push_str(&format!(
                    " (The `{EXEMPT_ANNOTATION}` annotation names this container, but `{EXEMPT_EXPIRES_ANNOTATION}` is wrong, so it is not honoured: {e}.)"
                )),
            }
        }
        let name = u.unit.container.as_deref().unwrap_or(&u.unit.workload);
        if suppressed.is_none()
            && let Some(ex) = config.exemption(d.rule, Some(name), u.unit.image.as_deref())
        {
            suppressed = Some(Suppression {
                kind: SuppressionKind::Config,
                reason: ex.reason.clone(),
                expires: ex.expires_on(),
                origin: ex.origin(),
            });
        }
    }
    Finding {
        rule: d.rule.as_str().into(),
        severity: config.severity_of(d.rule),
        line,
        end_line,
        column: node.start.col + 1,
        message,
        workload: unit
            .map(|u| u.unit.workload.clone())
            .or_else(|| pod_workload(inv, d)),
        container: unit.and_then(|u| u.unit.container.clone()),
        fix: d.fix.clone(),
        suppressed,
        expired: None,
    }
}

fn pod_workload(inv: &Inventory, d: &Draft) -> Option<String> {
    inv.pod_level
        .iter()
        .find(|p| p.node == d.node)
        .map(|p| p.workload.clone())
}

/// The folder (with a trailing `/`, empty for the root) of the Helm chart `path` lies in: the
/// nearest folder above it with a `Chart.yaml`.
fn chart_of(path: &str, resolver: &dyn Resolver) -> Option<String> {
    let mut dir = path;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        if parent.is_empty() || parent.ends_with("..") || parent == "." {
            break;
        }
        if resolver.exists(&format!("{parent}/Chart.yaml")) {
            return Some(format!("{parent}/"));
        }
        dir = parent;
    }
    let under_root = !path.starts_with('/') && !path.starts_with("../");
    (under_root && resolver.exists("Chart.yaml")).then(String::new)
}
