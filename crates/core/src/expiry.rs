//! Exemptions that expire: after its last day a suppression stops suppressing, and the
//! finding comes back saying which exemption lapsed.
//!
//! This is a step of its own, after the analysis, because the analysis is cached by blob: a
//! report made last month must not keep an exemption alive that lapsed yesterday. The
//! analysis records each suppression's `expires`; [`apply`] compares it with today's date,
//! which the caller passes in (the core never reads the clock).

use crate::date::Date;
use crate::model::{FileReport, ReadOnly, Suppression};
use crate::rules::RuleId;

/// Days before its last day an exemption counts as expiring soon.
pub const SOON_DAYS: i64 = 30;

/// Whether a suppression no longer holds on `today` (it holds through its `expires` day).
pub fn has_lapsed(s: &Suppression, today: Date) -> bool {
    s.expires.is_some_and(|last| last < today)
}

/// Whether a suppression still holds but lapses within [`SOON_DAYS`] days of `today`.
pub fn expires_soon(s: &Suppression, today: Date) -> bool {
    s.expires
        .is_some_and(|last| last >= today && today.days_until(last) <= SOON_DAYS)
}

/// Un-suppresses every finding of `file` whose suppression lapsed before `today`, and
/// turns the units those findings exempted back into writable (or undecided) ones.
pub fn apply(file: &mut FileReport, today: Date) {
    let mut lapsed = false;
    for f in &mut file.findings {
        if f.suppressed.as_ref().is_some_and(|s| has_lapsed(s, today)) {
            let s = f.suppressed.take();
            f.message.push_str(&lapsed_note(s.as_ref()));
            f.expired = s;
            lapsed = true;
        }
    }
    if lapsed {
        restore_units(file);
    }
}

/// What a lapsed finding adds to its message: where the exemption was, why, and when.
fn lapsed_note(s: Option<&Suppression>) -> String {
    let Some(s) = s else {
        return String::new();
    };
    let last = s.expires.map_or_else(String::new, |d| d.to_string());
    let origin = if s.origin.is_empty() {
        "an exemption".to_string()
    } else {
        s.origin.clone()
    };
    format!(
        " (Exempted until {last} by {origin}, reason: “{}”. That exemption has expired, so this finding counts again: fix it, or renew the exemption with a later date.)",
        s.reason
    )
}

/// A suppressed unit whose writable-root (or undecided) finding lost its suppression gets
/// the status that finding stands for; one still exempted by another finding stays so.
fn restore_units(file: &mut FileReport) {
    let findings = &file.findings;
    for u in file
        .units
        .iter_mut()
        .filter(|u| u.read_only == ReadOnly::Suppressed)
    {
        let (workload, container) = (u.workload.as_str(), u.container.as_deref());
        let mine = |rule: RuleId| {
            findings.iter().filter(move |f| {
                f.rule == rule.as_str()
                    && f.workload.as_deref() == Some(workload)
                    && f.container.as_deref() == container
            })
        };
        let writable = mine(RuleId::WritableRootFilesystem);
        let undecided = mine(RuleId::ReadOnlyUnknown);
        if writable
            .clone()
            .chain(undecided.clone())
            .any(|f| f.suppressed.is_some())
        {
            continue;
        }
        let status = if writable.count() > 0 {
            ReadOnly::False
        } else if undecided.count() > 0 {
            ReadOnly::Unknown
        } else {
            continue;
        };
        u.read_only = status;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{NoFiles, analyze};
    use crate::config::Config;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    const COMPOSE: &str = "services:\n  # immutabot:ignore all expires=2026-12-31 moving to read-only in OPS-7\n  web:\n    image: nginx\n";

    #[test]
    fn an_exempt_comment_holds_through_its_last_day_and_lapses_after() {
        let fresh = analyze(
            "compose.yml",
            COMPOSE.as_bytes(),
            &Config::default(),
            &NoFiles,
        );
        assert_eq!(fresh.units[0].read_only, ReadOnly::Suppressed);

        let mut live = fresh.clone();
        apply(&mut live, day("2026-12-31"));
        assert_eq!(live, fresh, "the last day still holds");

        let mut lapsed = fresh.clone();
        apply(&mut lapsed, day("2027-01-01"));
        assert_eq!(lapsed.units[0].read_only, ReadOnly::False);
        let f = &lapsed.findings[0];
        assert!(f.suppressed.is_none());
        assert_eq!(f.expired.as_ref().unwrap().expires, Some(day("2026-12-31")));
        assert!(
            f.message.ends_with(" (Exempted until 2026-12-31 by the `immutabot:ignore` comment on line 2, reason: “moving to read-only in OPS-7”. That exemption has expired, so this finding counts again: fix it, or renew the exemption with a later date.)"),
            "{}",
            f.message
        );
    }

    #[test]
    fn soon_means_within_thirty_days_and_not_yet_lapsed() {
        let s = Suppression {
            kind: crate::model::SuppressionKind::Config,
            reason: "r".into(),
            expires: Some(day("2026-12-31")),
            origin: String::new(),
        };
        assert!(expires_soon(&s, day("2026-12-01")));
        assert!(!expires_soon(&s, day("2026-11-30")));
        assert!(!expires_soon(&s, day("2027-01-01")));
        assert!(has_lapsed(&s, day("2027-01-01")));
        let forever = Suppression { expires: None, ..s };
        assert!(!has_lapsed(&forever, day("9999-12-31")));
    }
}
