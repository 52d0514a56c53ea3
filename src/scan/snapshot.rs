//! A scan's snapshot, pure: the unit rows of a commit's reports, their counts, and what
//! changed against the rows currently valid (kept, closed, inserted), so that storage grows
//! with what changed and not with the size of the organisation.

use crate::model::{FileReport, ReadOnly, Severity, SuppressionKind};
use crate::owners::CodeOwners;
use crate::rules::RuleId;
use std::collections::{BTreeSet, HashMap};

/// Joins the parts of a unit key: ASCII "unit separator" (U+001F), because Postgres text
/// cannot hold NUL, and no sane path or name holds this one.
pub const KEY_SEPARATOR: char = '\u{1f}';

/// One unit as the snapshot stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    /// Identity across scans: path, workload and container joined by [`KEY_SEPARATOR`]
    /// (never a line number).
    pub unit_key: String,
    /// File path.
    pub path: String,
    /// Line of the unit in this commit.
    pub line: i32,
    /// Compose service or Kubernetes `Kind/name`.
    pub workload: String,
    /// Kubernetes container name.
    pub container: Option<String>,
    /// Image as written.
    pub image: Option<String>,
    /// `true`, `false`, `suppressed` or `unknown`.
    pub state: &'static str,
    /// Rule ids of the unit's unsuppressed findings, sorted.
    pub rules: Vec<String>,
    /// The writable-root finding's patch (`model::Fix` as JSON).
    pub fix: Option<serde_json::Value>,
    /// Its file's owners from CODEOWNERS, in the file's order (empty: no owner).
    pub owners: Vec<String>,
    /// The highest severity of its unsuppressed findings (`error`, `warning`, `info`).
    pub severity: Option<&'static str>,
    /// The exemption that covers the unit, or covered it until it expired.
    pub exempt: Option<Exempt>,
}

/// A unit's exemption as stored (`unit_states.exempt_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exempt {
    /// `comment`, `annotation` or `config`.
    pub kind: &'static str,
    /// The reason given.
    pub reason: String,
    /// Its last day, when it has one.
    pub expires: Option<chrono::NaiveDate>,
}

/// A row currently valid (`valid_to is null`), as read back from the database.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CurrentRow {
    /// Row id.
    pub id: i64,
    /// Identity.
    pub unit_key: String,
    /// Line.
    pub line: i32,
    /// Image.
    pub image: Option<String>,
    /// State.
    pub state: String,
    /// Rules.
    pub rules: Vec<String>,
    /// Fix.
    pub fix: Option<serde_json::Value>,
    /// Owners.
    pub owners: Vec<String>,
    /// Severity.
    pub severity: Option<String>,
    /// Exemption kind.
    pub exempt_kind: Option<String>,
    /// Exemption reason.
    pub exempt_reason: Option<String>,
    /// Exemption's last day.
    pub exempt_expires: Option<chrono::NaiveDate>,
}

/// Per-scan counts, what the trend reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Compose or Kubernetes files analysed.
    pub files: i32,
    /// Units.
    pub units: i32,
    /// State `true`.
    pub read_only: i32,
    /// State `suppressed`.
    pub suppressed: i32,
    /// State `false`.
    pub writable: i32,
    /// State `unknown`.
    pub unknown: i32,
}

/// What writing a snapshot does to the stored rows.
#[derive(Debug, Default, PartialEq)]
pub struct Changes<'a> {
    /// Current rows to close (changed or vanished).
    pub close: Vec<i64>,
    /// Rows to insert (new or changed).
    pub insert: Vec<&'a UnitRow>,
    /// Rows left as they are.
    pub kept: usize,
    /// Current rows of units this scan could not see (see [`Unsettled`]), left as they are.
    pub carried: Vec<&'a CurrentRow>,
}

/// What a scan could not look at this time (a file out of time, a chart or kustomization
/// past the job's render budget): a file path, or a folder ending in `/`. Their units keep
/// their last state instead of counting as fixed.
#[derive(Debug, Default, Clone)]
pub struct Unsettled(Vec<String>);

impl Unsettled {
    /// A file whose units could not be seen.
    pub fn file(&mut self, path: &str) {
        self.0.push(path.to_string());
    }

    /// A folder (a chart's, a kustomization's) whose units could not be seen.
    pub fn folder(&mut self, folder: &str) {
        let folder = folder.trim_end_matches('/');
        self.0.push(if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        });
    }

    /// How many files and folders.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the scan saw everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the unit keyed `unit_key` lies in what could not be seen.
    fn covers(&self, unit_key: &str) -> bool {
        let path = unit_key.split(KEY_SEPARATOR).next().unwrap_or_default();
        self.0.iter().any(|p| {
            p == path || (p.ends_with('/') || p.is_empty()) && path.starts_with(p.as_str())
        })
    }
}

impl Counts {
    /// Counts one more unit in `state`.
    pub fn add(&mut self, state: &str) {
        self.units += 1;
        match state {
            "true" => self.read_only += 1,
            "false" => self.writable += 1,
            "suppressed" => self.suppressed += 1,
            _ => self.unknown += 1,
        }
    }
}

fn state(r: ReadOnly) -> &'static str {
    match r {
        ReadOnly::True => "true",
        ReadOnly::False => "false",
        ReadOnly::Suppressed => "suppressed",
        ReadOnly::Unknown => "unknown",
    }
}

/// The unit rows and counts of a commit's reports (only Compose and Kubernetes files).
pub fn units(reports: &[FileReport]) -> (Vec<UnitRow>, Counts) {
    let mut rows = Vec::new();
    let mut counts = Counts {
        files: reports.len() as i32,
        ..Counts::default()
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let rendered = rendered_findings(reports);
    for r in reports {
        // A rendered unit's finding may sit where its fix is (values.yaml, the overlay's
        // kustomization file), not in the template or resource that holds the unit.
        let findings: Vec<&crate::model::Finding> = match &r.rendered {
            Some(_) => rendered.clone(),
            None => r.findings.iter().collect(),
        };
        // A partial service is counted where it is whole (its base), never twice.
        for u in r.units.iter().filter(|u| !u.partial) {
            let mine = |w: &Option<String>, c: &Option<String>| {
                w.as_deref() == Some(u.workload.as_str()) && *c == u.container
            };
            let open = || {
                findings
                    .iter()
                    .filter(|f| f.suppressed.is_none() && mine(&f.workload, &f.container))
            };
            let rules: BTreeSet<String> = open().map(|f| f.rule.clone()).collect();
            let severity = open().map(|f| f.severity).max();
            let fix = findings
                .iter()
                .filter(|f| mine(&f.workload, &f.container))
                .filter(|f| f.rule == RuleId::WritableRootFilesystem.as_str())
                .find_map(|f| f.fix.as_ref())
                .and_then(|fix| serde_json::to_value(fix).ok());
            let exempt = exemption(&findings, &mine);
            let container = u.container.clone().unwrap_or_default();
            let sep = KEY_SEPARATOR;
            let mut unit_key = format!("{}{sep}{}{sep}{container}", r.path, u.workload);
            // The same workload twice in one file (two namespaces): later ones get a suffix
            // so every key of a snapshot is unique.
            let n = seen.entry(unit_key.clone()).or_default();
            *n += 1;
            if *n > 1 {
                unit_key.push_str(&format!("{sep}#{n}"));
            }
            let st = state(u.read_only);
            counts.add(st);
            rows.push(UnitRow {
                unit_key,
                path: r.path.clone(),
                line: u.line as i32,
                workload: u.workload.clone(),
                container: u.container.clone(),
                image: u.image.clone(),
                state: st,
                rules: rules.into_iter().collect(),
                fix,
                owners: Vec::new(),
                severity: severity.map(Severity::as_str),
                exempt,
            });
        }
    }
    (rows, counts)
}

/// Tags every row with the owners CODEOWNERS gives its file.
pub fn assign_owners(rows: &mut [UnitRow], owners: &CodeOwners) {
    for row in rows {
        row.owners = owners.owners_of(&row.path);
    }
}

/// The unit's exemption, live or lapsed: its writable-root finding's first, else another's.
fn exemption(
    findings: &[&crate::model::Finding],
    mine: &dyn Fn(&Option<String>, &Option<String>) -> bool,
) -> Option<Exempt> {
    let writable_first =
        |f: &&&crate::model::Finding| f.rule != RuleId::WritableRootFilesystem.as_str();
    let mut own: Vec<&&crate::model::Finding> = findings
        .iter()
        .filter(|f| mine(&f.workload, &f.container))
        .collect();
    own.sort_by_key(writable_first);
    let s = own
        .into_iter()
        .find_map(|f| f.suppressed.as_ref().or(f.expired.as_ref()))?;
    Some(Exempt {
        kind: match s.kind {
            SuppressionKind::Comment => "comment",
            SuppressionKind::Annotation => "annotation",
            SuppressionKind::Config => "config",
        },
        reason: s.reason.clone(),
        expires: s.expires.and_then(|d| {
            chrono::NaiveDate::from_num_days_from_ce_opt(
                i32::try_from(d.days_since_epoch() + UNIX_EPOCH_DAYS_FROM_CE).ok()?,
            )
        }),
    })
}

/// Days from 0001-01-01 (day 1 of the common era, as chrono counts) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Every finding of the renders. Rendered workloads are named as deployed (release name,
/// overlay prefix), so a workload and container name one unit across the renders, and
/// files shared by several renders (a base under two overlays) hold findings of each.
fn rendered_findings(reports: &[FileReport]) -> Vec<&crate::model::Finding> {
    reports
        .iter()
        .filter(|r| r.rendered.is_some())
        .flat_map(|r| &r.findings)
        .collect()
}

/// Compares the new rows with the current ones: unchanged rows are kept, changed rows are
/// closed and inserted again, vanished rows are closed (unless the scan could not see them:
/// those are carried), new rows are inserted.
pub fn changes<'a>(
    current: &'a [CurrentRow],
    new: &'a [UnitRow],
    unsettled: &Unsettled,
) -> Changes<'a> {
    let mut by_key: HashMap<&str, &CurrentRow> = HashMap::new();
    let mut out = Changes::default();
    for row in current {
        // Two current rows for one key cannot happen; if it did, keep one and close the rest.
        if by_key.insert(row.unit_key.as_str(), row).is_some() {
            out.close.push(row.id);
        }
    }
    for row in new {
        match by_key.remove(row.unit_key.as_str()) {
            Some(old) if same(old, row) => out.kept += 1,
            Some(old) => {
                out.close.push(old.id);
                out.insert.push(row);
            }
            None => out.insert.push(row),
        }
    }
    for row in by_key.into_values() {
        if unsettled.covers(&row.unit_key) {
            out.carried.push(row);
        } else {
            out.close.push(row.id);
        }
    }
    out.close.sort_unstable();
    out.carried.sort_unstable_by_key(|r| r.id);
    out
}

fn same(old: &CurrentRow, new: &UnitRow) -> bool {
    old.state == new.state
        && old.line == new.line
        && old.image == new.image
        && old.rules == new.rules
        && old.fix == new.fix
        // A CODEOWNERS change alone re-tags the unit with a new row version.
        && old.owners == new.owners
        && old.severity.as_deref() == new.severity
        && same_exempt(old, new)
}

fn same_exempt(old: &CurrentRow, new: &UnitRow) -> bool {
    let e = new.exempt.as_ref();
    old.exempt_kind.as_deref() == e.map(|e| e.kind)
        && old.exempt_reason.as_deref() == e.map(|e| e.reason.as_str())
        && old.exempt_expires == e.and_then(|e| e.expires)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{NoFiles, analyze};
    use crate::config::Config;

    const WRITABLE: &str = "services:\n  db:\n    image: postgres\n    read_only: true\n    tmpfs: [/tmp, /var/run/postgresql]\n  web:\n    image: nginx\n";

    fn report(text: &str) -> FileReport {
        analyze(
            "compose.yaml",
            text.as_bytes(),
            &Config::default(),
            &NoFiles,
        )
    }

    fn current(rows: &[UnitRow]) -> Vec<CurrentRow> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| CurrentRow {
                id: i as i64 + 1,
                unit_key: r.unit_key.clone(),
                line: r.line,
                image: r.image.clone(),
                state: r.state.to_string(),
                rules: r.rules.clone(),
                fix: r.fix.clone(),
                owners: r.owners.clone(),
                severity: r.severity.map(str::to_string),
                exempt_kind: r.exempt.as_ref().map(|e| e.kind.to_string()),
                exempt_reason: r.exempt.as_ref().map(|e| e.reason.clone()),
                exempt_expires: r.exempt.as_ref().and_then(|e| e.expires),
            })
            .collect()
    }

    #[test]
    fn rows_carry_state_rules_and_fix() {
        let (rows, counts) = units(&[report(WRITABLE)]);
        assert_eq!(counts.units, 2);
        assert_eq!((counts.writable, counts.read_only), (1, 1));
        let web = rows.iter().find(|r| r.workload == "web").unwrap();
        assert_eq!(web.unit_key, "compose.yaml\u{1f}web\u{1f}");
        assert_eq!(web.state, "false");
        assert!(web.rules.contains(&"writable-root-filesystem".to_string()));
        assert!(web.fix.is_some());
        let db = rows.iter().find(|r| r.workload == "db").unwrap();
        assert_eq!((db.state, db.fix.is_none()), ("true", true));
    }

    #[test]
    fn exempt_units_carry_their_exemption_live_or_lapsed() {
        let text = "services:\n  # immutabot:ignore all expires=2026-12-31 moving in OPS-7\n  web:\n    image: nginx\n";
        let mut r = report(text);
        let (rows, _) = units(std::slice::from_ref(&r));
        let e = rows[0].exempt.clone().unwrap();
        assert_eq!(
            (rows[0].state, e.kind, e.reason.as_str()),
            ("suppressed", "comment", "moving in OPS-7")
        );
        assert_eq!(e.expires, chrono::NaiveDate::from_ymd_opt(2026, 12, 31));
        crate::expiry::apply(&mut r, crate::date::Date::parse("2027-01-01").unwrap());
        let (lapsed, _) = units(&[r]);
        assert_eq!(lapsed[0].state, "false");
        assert_eq!(lapsed[0].exempt, Some(e));
        assert!(
            lapsed[0]
                .rules
                .contains(&"writable-root-filesystem".to_string())
        );
    }

    #[test]
    fn only_what_changed_is_written() {
        let (before, _) = units(&[report(WRITABLE)]);
        let stored = current(&before);
        let none = Unsettled::default();
        let same = changes(&stored, &before, &none);
        assert_eq!((same.kept, same.close.len(), same.insert.len()), (2, 0, 0));

        let fixed = format!("{WRITABLE}    read_only: true\n");
        let (after, _) = units(&[report(&fixed)]);
        let c = changes(&stored, &after, &none);
        assert_eq!(c.kept, 1, "{c:?}");
        assert_eq!(c.close.len(), 1);
        assert_eq!(c.insert.len(), 1);
        assert_eq!(c.insert[0].state, "true");

        let gone = changes(&stored, &[], &none);
        assert_eq!((gone.close, gone.insert.len()), (vec![1, 2], 0));

        // A file the scan could not look at keeps its units, whether named or in a folder.
        for unseen in [
            Unsettled(vec!["compose.yaml".into()]),
            Unsettled(vec!["".into()]),
        ] {
            let c = changes(&stored, &[], &unseen);
            assert!(c.close.is_empty(), "{c:?}");
            assert_eq!(c.carried.len(), 2);
        }
        let mut elsewhere = Unsettled::default();
        elsewhere.folder("charts/web");
        elsewhere.file("compose.yml");
        assert_eq!(changes(&stored, &[], &elsewhere).close, vec![1, 2]);
        assert_eq!(before[1].unit_key, after[1].unit_key);
    }
}
