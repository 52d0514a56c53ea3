use super::*;
use crate::model::{FileReport, Fix, Format, Suppression, SuppressionKind};

fn finding(line: usize, end_line: usize, fix: Option<(usize, usize)>) -> Finding {
    Finding {
        rule: "writable-root-filesystem".into(),
        severity: Severity::Error,
        line,
        end_line,
        column: 3,
        message: "Service `web` has a writable root file system.".into(),
        workload: Some(format!("w{line}")),
        container: None,
        fix: fix.map(|(start_line, end_line)| Fix {
            description: "Set `read_only: true`".into(),
            start_line,
            end_line,
            replacement: "  web:\n    read_only: true\n".into(),
        }),
        suppressed: None,
        expired: None,
    }
}

fn report(findings: Vec<Finding>) -> FileReport {
    FileReport {
        path: "compose.yml".into(),
        format: Format::Compose,
        skipped_reason: None,
        units: Vec::new(),
        findings,
        rendered: None,
    }
}

/// Hunks: new lines 1..=5 (3 and 4 added), 20..=24 (22 added).
const PATCH: &str =
    "@@ -1,3 +1,5 @@\n a\n b\n+c\n+d\n e\n@@ -18,5 +20,5 @@\n f\n g\n-h\n+H\n i\n j\n";

fn run(findings: Vec<Finding>, config: &Config) -> Plan {
    let diff = FileDiff::parse(PATCH).unwrap();
    let r = report(findings);
    let source = "x\n".repeat(40);
    let files = [ReviewFile {
        report: &r,
        source: &source,
        patch: Some(&diff),
    }];
    plan(&files, config, &HashSet::new(), 30)
}

fn placements(p: &Plan) -> Vec<(bool, Placement)> {
    p.findings
        .iter()
        .map(|f| (f.in_diff, f.placement))
        .collect()
}

#[test]
fn filter_modes_decide_what_is_part_of_the_change() {
    // Line 2 is context, line 3 added, line 10 outside every hunk.
    let findings = || {
        vec![
            finding(2, 2, None),
            finding(3, 3, None),
            finding(10, 10, None),
        ]
    };
    let with = |filter| {
        let mut c = Config::default();
        c.review.filter = filter;
        run(findings(), &c)
            .findings
            .iter()
            .map(|f| f.in_diff)
            .collect::<Vec<_>>()
    };
    assert_eq!(with(FilterMode::Added), [false, true, false]);
    assert_eq!(with(FilterMode::DiffContext), [true, true, false]);
    assert_eq!(with(FilterMode::File), [true, true, true]);
    assert_eq!(with(FilterMode::Nofilter), [true, true, true]);
}

#[test]
fn a_finding_in_the_file_but_outside_hunks_is_an_annotation() {
    let mut c = Config::default();
    c.review.filter = FilterMode::File;
    let p = run(vec![finding(10, 12, None)], &c);
    assert_eq!(
        placements(&p),
        [(true, Placement::Annotation(AnnotationReason::NoDiffLine))]
    );
    assert_eq!(p.conclusion, Conclusion::Failure, "it still counts");
}

#[test]
fn a_range_touching_an_added_line_anchors_on_its_first_hunk_line() {
    // Lines 1..=8: the first hunk line is 1, the added one 3.
    let p = run(vec![finding(1, 8, None)], &Config::default());
    assert_eq!(p.comments[0].comment.line, 1);
    assert_eq!(p.comments[0].comment.start_line, None);
    assert_eq!(p.findings[0].placement, Placement::Comment);
}

#[test]
fn one_line_fixes_have_no_start_line() {
    let p = run(vec![finding(3, 3, Some((3, 3)))], &Config::default());
    let c = &p.comments[0].comment;
    assert_eq!((c.start_line, c.line), (None, 3));
    assert_eq!(p.findings[0].placement, Placement::Suggestion);
}

#[test]
fn a_fix_outside_every_hunk_is_shown_as_a_diff() {
    let p = run(vec![finding(3, 3, Some((8, 9)))], &Config::default());
    assert_eq!(p.findings[0].placement, Placement::DiffBlock);
    assert_eq!(p.comments[0].comment.line, 3);
    assert!(
        p.comments[0]
            .comment
            .body
            .contains("```diff\n@@ -8,2 +8,2 @@")
    );
}

#[test]
fn suppressed_findings_go_nowhere_and_never_fail() {
    let mut f = finding(3, 3, None);
    f.suppressed = Some(Suppression {
        kind: SuppressionKind::Comment,
        reason: "legacy".into(),
        expires: None,
        origin: String::new(),
    });
    let p = run(vec![f], &Config::default());
    assert_eq!(placements(&p), [(true, Placement::Suppressed)]);
    assert!(p.comments.is_empty() && p.annotations.is_empty());
    assert_eq!(p.conclusion, Conclusion::Success);
    assert_eq!(p.counts.suppressed, 1);
}

#[test]
fn no_patch_means_changed_everywhere_but_nowhere_to_comment() {
    let r = report(vec![finding(3, 3, Some((3, 3)))]);
    let files = [ReviewFile {
        report: &r,
        source: "",
        patch: None,
    }];
    let p = plan(&files, &Config::default(), &HashSet::new(), 30);
    assert_eq!(
        placements(&p),
        [(true, Placement::Annotation(AnnotationReason::NoPatch))]
    );
    assert_eq!(p.conclusion, Conclusion::Failure);
}

#[test]
fn hostile_line_numbers_do_not_panic() {
    let p = run(
        vec![
            finding(0, 0, Some((0, 0))),
            finding(usize::MAX, usize::MAX, Some((usize::MAX, 1))),
            finding(5, 1, Some((4, 2))),
        ],
        &Config::default(),
    );
    assert_eq!(p.findings.len(), 3);
    for a in &p.annotations {
        assert!(a.start_line >= 1 && a.end_line >= a.start_line);
    }
    for c in &p.comments {
        assert!(c.comment.start_line.is_none_or(|s| s < c.comment.line));
    }
}

#[test]
fn a_patch_too_long_for_a_comment_is_described_not_shown() {
    let mut f = finding(3, 3, Some((3, 3)));
    if let Some(fix) = f.fix.as_mut() {
        fix.replacement = "  x: y\n".repeat(20_000);
    }
    let p = run(vec![f], &Config::default());
    let body = &p.comments[0].comment.body;
    assert_eq!(p.findings[0].placement, Placement::Comment);
    assert!(body.len() <= MAX_COMMENT_CHARS);
    assert!(body.contains("too long for a review comment"));
    assert!(!body.contains("```suggestion"));
    assert_eq!(
        crate::review::marker::fingerprint_of(body).as_deref(),
        Some(p.findings[0].fingerprint.as_str())
    );
}

#[test]
fn an_enormous_message_is_cut_but_keeps_the_marker() {
    let mut f = finding(3, 3, None);
    f.message = "word ".repeat(30_000);
    let p = run(vec![f], &Config::default());
    let body = &p.comments[0].comment.body;
    assert!(body.len() <= MAX_COMMENT_CHARS, "{}", body.len());
    assert!(crate::review::marker::fingerprint_of(body).is_some());
    assert!(p.annotations.is_empty());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_finding() -> impl Strategy<Value = Finding> {
        (
            0usize..40,
            0usize..40,
            prop::option::of((0usize..40, 0usize..40)),
            prop::sample::select(vec![Severity::Info, Severity::Warning, Severity::Error]),
            any::<bool>(),
        )
            .prop_map(|(line, end, fix, severity, suppressed)| {
                let mut f = finding(line, end, fix);
                f.severity = severity;
                f.workload = Some(format!("w{line}-{end}"));
                if suppressed {
                    f.suppressed = Some(Suppression {
                        kind: SuppressionKind::Config,
                        reason: "r".into(),
                        expires: None,
                        origin: String::new(),
                    });
                }
                f
            })
    }

    fn any_mode() -> impl Strategy<Value = FilterMode> {
        prop::sample::select(vec![
            FilterMode::Added,
            FilterMode::DiffContext,
            FilterMode::File,
            FilterMode::Nofilter,
        ])
    }

    proptest! {
        /// GitHub rejects a whole review for one bad anchor: every planned comment must sit on
        /// a line a hunk shows, and a range must stay in one hunk and run forwards.
        #[test]
        fn every_comment_is_one_github_accepts(
            findings in prop::collection::vec(any_finding(), 0..12),
            mode in any_mode(),
            max in 0usize..6,
        ) {
            let diff = FileDiff::parse(PATCH).unwrap();
            let r = report(findings);
            let mut config = Config::default();
            config.review.filter = mode;
            let files = [ReviewFile { report: &r, source: "a\nb\n", patch: Some(&diff) }];
            let p = plan(&files, &config, &HashSet::new(), max);
            prop_assert!(p.comments.len() <= max);
            for c in &p.comments {
                let c = &c.comment;
                let hunk = diff.hunk_of(c.line as usize);
                prop_assert!(hunk.is_some(), "line {} is in no hunk", c.line);
                if let Some(start) = c.start_line {
                    prop_assert!(start < c.line);
                    prop_assert_eq!(diff.hunk_of(start as usize), hunk);
                }
                prop_assert!(c.body.len() <= MAX_COMMENT_CHARS);
            }
            // Every unsuppressed finding went to exactly one place.
            let unsuppressed = p.findings.iter().filter(|f| f.placement != Placement::Suppressed).count();
            prop_assert_eq!(unsuppressed, p.comments.len() + p.annotations.len() + p.counts.already_open);
            let failing = p.findings.iter().any(|f| f.in_diff && f.placement != Placement::Suppressed && f.severity >= config.fail_on);
            prop_assert_eq!(p.conclusion == Conclusion::Failure, failing);
        }
    }
}

#[test]
fn a_file_with_lone_carriage_returns_gets_no_suggestion() {
    // YAML counts the lone `\r` as a line break, GitHub's diff does not: a suggestion on
    // "line 3" would replace GitHub's line 2 (found by fuzz/fuzz_targets/review_plan.rs).
    let r = report(vec![finding(3, 3, Some((3, 3)))]);
    let diff = FileDiff::parse("@@ -0,0 +1,4 @@\n+a\n+b\r c\n+d\n+e\n").unwrap();
    let source = "a\nb\r c\nd\ne\n";
    let files = [ReviewFile {
        report: &r,
        source,
        patch: Some(&diff),
    }];
    let p = plan(&files, &Config::default(), &HashSet::new(), 30);
    assert!(p.comments.is_empty(), "{:?}", p.comments);
    assert_eq!(
        placements(&p),
        [(
            true,
            Placement::Annotation(AnnotationReason::LoneCarriageReturn)
        )]
    );
    // CRLF line ends are line ends everywhere: those files keep their suggestions.
    let crlf = "a\r\nb\r\nc\r\nd\r\n";
    let files = [ReviewFile {
        source: crlf,
        ..files[0]
    }];
    let p = plan(&files, &Config::default(), &HashSet::new(), 30);
    assert_eq!(placements(&p), [(true, Placement::Suggestion)]);
}
