//! The review planner: a file, its findings and its pull-request diff in; inline comments,
//! suggestions and annotations out (`review::plan`, the same call the review job makes).
//!
//! Input: byte 0 picks the path (format), the filter mode, whether the diff is given or
//! derived, and the context radius; byte 1 the comment limit; the rest is `A \0 B`.
//! - derived (bit 4 set): `A` is the base, `B` the head; the diff is a git-style unified
//!   diff of the two (lines end at `\n` only, as git and GitHub count them), which our
//!   parser must accept;
//! - given: `A` is the head and `B` the raw `patch` text, used when it parses (as the
//!   service does), else the file has no diff.
//!
//! Invariants: every comment sits on lines one hunk of the diff shows (GitHub refuses the
//! whole review otherwise); a suggestion covers exactly the fix's lines, carries its
//! replacement, and applying it as GitHub does gives the text `immutabot check --fix`
//! gives; the counts add up; nothing is over GitHub's limits.

#![no_main]

use immutabot::analyze::{NoFiles, analyze};
use immutabot::config::{Config, FilterMode};
use immutabot::review::diff::FileDiff;
use immutabot::review::fence;
use immutabot::review::plan::{Placement, Plan, ReviewFile, plan};
use immutabot::review::{MAX_COMMENT_CHARS, MAX_COMMENTS};
use libfuzzer_sys::fuzz_target;
use similar::{Algorithm, DiffTag, capture_diff_slices, group_diff_ops};
use std::collections::HashSet;
use std::fmt::Write;

const PATHS: [&str; 3] = ["compose.yaml", "k8s.yaml", "x.json"];
const FILTERS: [FilterMode; 4] = [
    FilterMode::Added,
    FilterMode::DiffContext,
    FilterMode::File,
    FilterMode::Nofilter,
];

fuzz_target!(|data: &[u8]| {
    let [flags, limit, rest @ ..] = data else {
        return;
    };
    let path = PATHS[(flags & 0b11) as usize % PATHS.len()];
    let filter = FILTERS[((flags >> 2) & 0b11) as usize];
    let derived = flags & 0b1_0000 != 0;
    let radius = (flags >> 5) as usize;
    let max_comments = *limit as usize % (MAX_COMMENTS + 11);
    let (a, b) = match rest.iter().position(|&c| c == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let (head, diff) = if derived {
        let patch = git_diff(
            &String::from_utf8_lossy(a),
            &String::from_utf8_lossy(b),
            radius,
        );
        let diff = FileDiff::parse(&patch)
            .unwrap_or_else(|e| panic!("a git-style diff does not parse: {e}\n{patch}"));
        (b, Some(diff))
    } else {
        (a, FileDiff::parse(&String::from_utf8_lossy(b)).ok())
    };
    let mut config = Config::default();
    config.review.filter = filter;
    let report = analyze(path, head, &config, &NoFiles);
    let source = String::from_utf8_lossy(head);
    let files = [ReviewFile {
        report: &report,
        source: &source,
        patch: diff.as_ref(),
    }];
    let planned = plan(&files, &config, &HashSet::new(), max_comments);
    check(&planned, &files[0], max_comments);
});

fn check(p: &Plan, file: &ReviewFile<'_>, max_comments: usize) {
    let c = &p.counts;
    assert_eq!(c.findings + c.suppressed, p.findings.len());
    assert_eq!(c.commented, p.comments.len());
    assert_eq!(c.annotated, p.annotations.len());
    assert!(p.comments.len() <= max_comments, "over the comment limit");
    let commented = p.findings.iter().filter(|f| f.placement.is_comment());
    for (planned, comment) in commented.zip(&p.comments) {
        let comment = &comment.comment;
        assert_eq!(comment.path, file.report.path);
        assert!(comment.body.len() <= MAX_COMMENT_CHARS, "comment too long");
        let diff = file.patch.expect("a comment on a file without a diff");
        let line = comment.line as usize;
        let hunk = diff.hunk_of(line);
        assert!(
            hunk.is_some(),
            "comment on line {line}, which no hunk shows"
        );
        if let Some(start) = comment.start_line {
            let start = start as usize;
            assert!(start < line, "start_line {start} not before line {line}");
            assert_eq!(
                diff.hunk_of(start),
                hunk,
                "lines {start}..={line} span hunks"
            );
        }
        if planned.placement == Placement::Suggestion {
            let finding = file
                .report
                .findings
                .iter()
                .find(|f| f.line == planned.line && f.rule == planned.rule && f.fix.is_some())
                .expect("the suggested finding");
            check_suggestion(file.source, comment, finding.fix.as_ref().unwrap());
        }
    }
    for a in &p.annotations {
        assert!(1 <= a.start_line && a.start_line <= a.end_line);
        assert_eq!(a.path, file.report.path);
    }
}

/// The suggestion covers the fix's lines, carries its replacement, and GitHub applying it
/// gives what `patch::apply` gives.
fn check_suggestion(
    source: &str,
    comment: &immutabot::forge::ReviewComment,
    fix: &immutabot::model::Fix,
) {
    let start = comment.start_line.unwrap_or(comment.line) as usize;
    let end = comment.line as usize;
    assert_eq!(
        (start, end),
        (fix.start_line, fix.end_line.max(fix.start_line))
    );
    let block = fence::fenced("suggestion", &fix.replacement);
    assert!(
        comment.body.contains(&block),
        "the suggestion block is not in the comment"
    );
    let ours = immutabot::patch::apply(source, fix).expect("a suggested fix applies");
    let content = fix.replacement.replace("\r\n", "\n");
    let github = github_apply(source, start, end, &content)
        .unwrap_or_else(|| panic!("lines {start}..={end} are not in the file"));
    assert_eq!(
        github.lines().collect::<Vec<_>>(),
        ours.lines().collect::<Vec<_>>(),
        "GitHub would apply the suggestion differently"
    );
}

/// Lines `start..=end` (1-based, `\n`-terminated as git counts them) replaced by `content`.
fn github_apply(source: &str, start: usize, end: usize, content: &str) -> Option<String> {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    if start == 0 || end > lines.len() {
        return None;
    }
    let mut out: String = lines[..start - 1].concat();
    out.push_str(content);
    if !content.is_empty() && !content.ends_with('\n') && end < lines.len() {
        out.push('\n');
    }
    out.push_str(&lines[end..].concat());
    Some(out)
}

/// A unified diff of `old` and `new` as git writes GitHub's `patch` (no file headers).
fn git_diff(old: &str, new: &str, radius: usize) -> String {
    let old: Vec<&str> = old.split_inclusive('\n').collect();
    let new: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = capture_diff_slices(Algorithm::Myers, &old, &new);
    let mut out = String::new();
    for group in group_diff_ops(ops, radius) {
        let (first, last) = (
            group[0].as_tag_tuple(),
            group[group.len() - 1].as_tag_tuple(),
        );
        let range = |start: usize, end: usize| match end - start {
            0 => format!("{start},0"),
            1 => format!("{}", start + 1),
            n => format!("{},{n}", start + 1),
        };
        let _ = writeln!(
            out,
            "@@ -{} +{} @@",
            range(first.1.start, last.1.end),
            range(first.2.start, last.2.end)
        );
        for op in &group {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            let mut emit = |sign: char, line: &str| {
                out.push(sign);
                out.push_str(line.strip_suffix('\n').unwrap_or(line));
                out.push('\n');
                if !line.ends_with('\n') {
                    out.push_str("\\ No newline at end of file\n");
                }
            };
            let (removed, added) = match tag {
                DiffTag::Equal => (&[][..], &new[new_range]),
                DiffTag::Delete => (&old[old_range], &[][..]),
                DiffTag::Insert => (&[][..], &new[new_range]),
                DiffTag::Replace => (&old[old_range], &new[new_range]),
            };
            let sign = if tag == DiffTag::Equal { ' ' } else { '+' };
            for line in removed {
                emit('-', line);
            }
            for line in added {
                emit(sign, line);
            }
        }
    }
    out
}
