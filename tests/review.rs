//! What a pull request sees: the planned review of real analysis output over real patches,
//! with the exact comment, review and check-run texts snapshotted.

use immutabot::analyze::{NoFiles, analyze};
use immutabot::config::{Config, FilterMode};
use immutabot::forge::{AnnotationLevel, Conclusion};
use immutabot::model::{FileReport, Severity};
use immutabot::review::plan::{AnnotationReason, Placement};
use immutabot::review::render::review_body;
use immutabot::review::summary::{Note, check_output};
use immutabot::review::{
    FileDiff, MAX_COMMENTS, MAX_SUMMARY_CHARS, Plan, ReviewFile, marker, plan,
};
use std::collections::HashSet;

const COMPOSE_ADDED: &str = include_str!("data/patches/compose-added.yml");
const COMPOSE_ADDED_PATCH: &str = include_str!("data/patches/compose-added.patch");
const COMPOSE_USER: &str = include_str!("data/patches/compose-user.yml");
const COMPOSE_USER_PATCH: &str = include_str!("data/patches/compose-user.patch");
const DEPLOYMENT: &str = include_str!("data/patches/k8s-deployment.yaml");
const NEW_CONTAINER_PATCH: &str = include_str!("data/patches/k8s-new-container.patch");
const TWO_HUNKS_PATCH: &str = include_str!("data/patches/k8s-two-hunks.patch");
const GITHUB_ADDED: &str = include_str!("data/patches/github_added-yaml-file.patch");

/// A changed file: its path, its text at the head commit and GitHub's patch for it.
struct Changed {
    report: FileReport,
    source: String,
    diff: Option<FileDiff>,
}

fn changed(path: &str, source: &str, patch: Option<&str>, config: &Config) -> Changed {
    Changed {
        report: analyze(path, source.as_bytes(), config, &NoFiles),
        source: source.to_string(),
        diff: patch.map(|p| FileDiff::parse(p).expect("the test patch parses")),
    }
}

fn files(changed: &[Changed]) -> Vec<ReviewFile<'_>> {
    changed
        .iter()
        .map(|c| ReviewFile {
            report: &c.report,
            source: &c.source,
            patch: c.diff.as_ref(),
        })
        .collect()
}

fn review(changed: &[Changed], config: &Config) -> Plan {
    plan(&files(changed), config, &HashSet::new(), MAX_COMMENTS)
}

/// GitHub's `patch` for a new file: one hunk adding every line.
fn added_patch(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = format!("@@ -0,0 +1,{} @@", lines.len());
    for l in lines {
        out.push_str("\n+");
        out.push_str(l);
    }
    out
}

fn placements(p: &Plan) -> Vec<(String, Placement)> {
    p.findings
        .iter()
        .map(|f| {
            let who = f
                .container
                .clone()
                .or(f.workload.clone())
                .unwrap_or_default();
            (who, f.placement)
        })
        .collect()
}

#[test]
fn the_added_patch_helper_matches_a_real_github_patch() {
    let text: String = GITHUB_ADDED
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", &l[1..]))
        .collect();
    assert_eq!(added_patch(&text), GITHUB_ADDED.trim_end_matches('\n'));
}

#[test]
fn an_added_compose_file_gets_a_suggestion_on_the_writable_service() {
    let config = Config::default();
    let c = [changed(
        "compose.yml",
        COMPOSE_ADDED,
        Some(COMPOSE_ADDED_PATCH),
        &config,
    )];
    let p = review(&c, &config);
    assert_eq!(placements(&p), [("web".into(), Placement::Suggestion)]);
    let comment = &p.comments[0].comment;
    // The fix replaces line 5 only: a single-line comment, no start_line.
    assert_eq!(
        (comment.path.as_str(), comment.start_line, comment.line),
        ("compose.yml", None, 5)
    );
    assert_eq!(
        marker::fingerprint_of(&comment.body),
        Some(p.comments[0].fingerprint.clone())
    );
    assert_eq!(p.conclusion, Conclusion::Failure);
    assert!(p.annotations.is_empty());
    insta::assert_snapshot!("added_compose_comment", comment.body);
    insta::assert_snapshot!("added_compose_review", review_body(&p));
    let out = check_output(&p, &files(&c), &[]);
    assert_eq!(
        out.title,
        "1 writable root file system in this pull request"
    );
    insta::assert_snapshot!("added_compose_summary", out.summary);
}

#[test]
fn a_new_container_in_a_modified_manifest_is_commented_and_the_rest_annotated() {
    let config = Config::default();
    let c = [changed(
        "k8s/deploy.yaml",
        DEPLOYMENT,
        Some(NEW_CONTAINER_PATCH),
        &config,
    )];
    let p = review(&c, &config);
    let outside = Placement::Annotation(AnnotationReason::OutsideDiff);
    assert_eq!(
        placements(&p),
        [
            ("migrate".into(), outside),
            ("nginx".into(), outside),
            ("app".into(), Placement::Suggestion),
            ("sidecar".into(), outside),
            ("stringly".into(), outside),
        ]
    );
    let in_diff: Vec<bool> = p.findings.iter().map(|f| f.in_diff).collect();
    assert_eq!(in_diff, [false, false, true, false, false]);
    assert_eq!(p.comments.len(), 1);
    assert_eq!(p.comments[0].comment.line, 33);
    assert_eq!(p.annotations.len(), 4);
    let nginx = &p.annotations[1];
    assert_eq!((nginx.start_line, nginx.end_line), (20, 20));
    assert_eq!(nginx.annotation_level, AnnotationLevel::Failure);
    assert_eq!(
        nginx.title,
        "Root file system is writable (writable-root-filesystem)"
    );
    insta::assert_snapshot!(
        "new_container_nginx_raw_details",
        nginx.raw_details.as_deref().unwrap()
    );
    assert_eq!(p.annotations[3].annotation_level, AnnotationLevel::Warning);
    insta::assert_snapshot!("new_container_comment", p.comments[0].comment.body);
    insta::assert_snapshot!("new_container_review", review_body(&p));
    let out = check_output(&p, &files(&c), &[Note::ConfigChanged]);
    assert_eq!(
        out.title,
        "1 writable root file system in this pull request"
    );
    assert_eq!(out.annotations, p.annotations);
    insta::assert_snapshot!("new_container_summary", out.summary);
}

#[test]
fn a_fix_spanning_two_hunks_is_shown_as_a_diff_not_a_suggestion() {
    let config = Config::default();
    let c = [changed(
        "k8s/deploy.yaml",
        DEPLOYMENT,
        Some(TWO_HUNKS_PATCH),
        &config,
    )];
    let p = review(&c, &config);
    let nginx = p
        .findings
        .iter()
        .position(|f| f.container.as_deref() == Some("nginx"))
        .unwrap();
    assert_eq!(p.findings[nginx].placement, Placement::DiffBlock);
    assert_eq!(p.comments.len(), 1);
    let comment = &p.comments[0].comment;
    // Anchored on the finding's first line in a hunk: the renamed container.
    assert_eq!((comment.start_line, comment.line), (None, 20));
    assert!(!comment.body.contains("```suggestion"));
    insta::assert_snapshot!("two_hunks_comment", comment.body);
}

#[test]
fn thirty_five_findings_make_thirty_comments_and_five_annotations() {
    let mut text = String::from("services:\n");
    for i in 1..=35 {
        text.push_str(&format!("  svc{i:02}:\n    image: example/svc:{i}\n"));
    }
    let config = Config::default();
    let c = [changed(
        "compose.yml",
        &text,
        Some(&added_patch(&text)),
        &config,
    )];
    let p = review(&c, &config);
    assert_eq!(p.comments.len(), 30);
    assert_eq!(p.annotations.len(), 5);
    assert_eq!(p.counts.over_limit, 5);
    let limit = Placement::Annotation(AnnotationReason::CommentLimit);
    assert!(p.findings[30..].iter().all(|f| f.placement == limit));
    assert!(
        p.findings[..30]
            .iter()
            .all(|f| f.placement == Placement::Suggestion)
    );
    insta::assert_snapshot!("thirty_five_review", review_body(&p));
    let out = check_output(&p, &files(&c), &[]);
    assert_eq!(
        out.title,
        "35 writable root file systems in this pull request"
    );
    assert!(out.summary.contains(
        "A review holds at most 30 comments; 5 findings went to the annotations instead."
    ));
}

#[test]
fn findings_with_an_open_comment_are_not_commented_again() {
    let config = Config::default();
    let c = [changed(
        "compose.yml",
        COMPOSE_USER,
        Some(COMPOSE_USER_PATCH),
        &config,
    )];
    let first = review(&c, &config);
    assert_eq!(first.comments.len(), 3);
    let open: HashSet<String> = [first.comments[1].fingerprint.clone()].into();
    let second = plan(&files(&c), &config, &open, MAX_COMMENTS);
    let got: Vec<Placement> = second.findings.iter().map(|f| f.placement).collect();
    assert_eq!(
        got,
        [
            Placement::Suggestion,
            Placement::AlreadyOpen,
            Placement::Suggestion
        ]
    );
    assert_eq!(second.comments.len(), 2);
    assert!(
        second.annotations.is_empty(),
        "an open comment is not annotated either"
    );
    insta::assert_snapshot!("already_open_review", review_body(&second));
}

#[test]
fn fail_on_decides_whether_warnings_fail_the_check() {
    // Three tmpfs-owned-by-root warnings, all in the diff.
    let run = |fail_on: Severity| {
        let mut config = Config::default();
        config.fail_on = fail_on;
        let c = [changed(
            "compose.yml",
            COMPOSE_USER,
            Some(COMPOSE_USER_PATCH),
            &config,
        )];
        let p = review(&c, &config);
        let out = check_output(&p, &files(&c), &[]);
        (p.conclusion, out)
    };
    let (conclusion, out) = run(Severity::Error);
    assert_eq!(conclusion, Conclusion::Success);
    assert_eq!(out.title, "3 findings in this pull request");
    insta::assert_snapshot!("fail_on_error_summary", out.summary);
    let (conclusion, out) = run(Severity::Warning);
    assert_eq!(conclusion, Conclusion::Failure);
    assert!(
        out.summary.starts_with(
            "**Failed:** 3 findings in the changes are at severity `warning` or above."
        )
    );
}

#[test]
fn only_findings_in_the_diff_fail_the_check() {
    let config = Config::default();
    // The patch touches only the read-only `db` service's tmpfs list.
    let patch =
        "@@ -9,3 +9,3 @@\n     tmpfs:\n       - /var/run/postgresql\n-      - /run\n+      - /tmp";
    let c = [changed("compose.yml", COMPOSE_ADDED, Some(patch), &config)];
    let p = review(&c, &config);
    assert_eq!(
        placements(&p),
        [(
            "web".into(),
            Placement::Annotation(AnnotationReason::OutsideDiff)
        )]
    );
    assert_eq!(p.conclusion, Conclusion::Success);
    let out = check_output(&p, &files(&c), &[]);
    assert_eq!(
        out.title,
        "No findings in the changes; 1 elsewhere in the changed files"
    );
    // The same finding counts under `review.filter: file`, but has no diff line to sit on.
    let mut file_mode = Config::default();
    file_mode.review.filter = FilterMode::File;
    let p = review(&c, &file_mode);
    assert_eq!(
        placements(&p),
        [(
            "web".into(),
            Placement::Annotation(AnnotationReason::NoDiffLine)
        )]
    );
    assert_eq!(p.conclusion, Conclusion::Failure);
}

#[test]
fn a_clean_change_says_everything_is_read_only() {
    let config = Config::default();
    let text = "services:\n  db:\n    image: postgres:16\n    read_only: true\n    tmpfs:\n      - /var/run/postgresql\n      - /tmp\n  cache:\n    image: redis:7\n    read_only: true\n";
    let c = [changed(
        "compose.yml",
        text,
        Some(&added_patch(text)),
        &config,
    )];
    let p = review(&c, &config);
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    assert_eq!(p.conclusion, Conclusion::Success);
    let out = check_output(&p, &files(&c), &[]);
    assert_eq!(out.title, "All 2 services read-only");
    assert_eq!(
        review_body(&p),
        "immutabot found no findings in the changed files."
    );
    insta::assert_snapshot!("clean_summary", out.summary);
}

#[test]
fn skipped_files_and_missing_diffs_are_noted() {
    let config = Config::default();
    let c = [
        changed("compose.yml", COMPOSE_ADDED, None, &config),
        changed(
            "charts/web/templates/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
            Some("@@ -4 +4 @@\n-  name: web\n+  name: {{ .Release.Name }}"),
            &config,
        ),
        changed(
            ".github/workflows/ci.yml",
            "on: push\njobs: {}\n",
            Some("@@ -0,0 +1,2 @@\n+on: push\n+jobs: {}"),
            &config,
        ),
    ];
    let p = review(&c, &config);
    assert_eq!(
        placements(&p),
        [(
            "web".into(),
            Placement::Annotation(AnnotationReason::NoPatch)
        )]
    );
    assert_eq!(
        p.conclusion,
        Conclusion::Failure,
        "a missing diff counts as changed"
    );
    let out = check_output(
        &p,
        &files(&c),
        &[Note::ConfigInvalid("2:1: unknown field `fail_no`".into())],
    );
    insta::assert_snapshot!("notes_summary", out.summary);
}

#[test]
fn the_summary_stays_under_githubs_limit_by_dropping_rows() {
    let mut text = String::from("services:\n");
    for i in 0..3000 {
        text.push_str(&format!("  service-with-a-rather-long-name-{i:04}:\n    image: registry.example.com/team/service:{i}\n"));
    }
    let config = Config::default();
    let c = [changed(
        "stack/compose.yml",
        &text,
        Some(&added_patch(&text)),
        &config,
    )];
    let p = review(&c, &config);
    assert_eq!(p.findings.len(), 3000);
    assert_eq!(p.comments.len(), 30);
    assert_eq!(p.annotations.len(), 2970);
    let out = check_output(&p, &files(&c), &[]);
    assert!(out.summary.chars().count() <= MAX_SUMMARY_CHARS);
    assert!(
        out.summary.len() > MAX_SUMMARY_CHARS - 1000,
        "as many rows as fit"
    );
    let shown = out
        .summary
        .matches("| `writable-root-filesystem` |")
        .count();
    let more = format!("… and {} more findings, see the annotations.", 3000 - shown);
    assert!(
        out.summary.contains(&more),
        "{}",
        &out.summary[out.summary.len() - 300..]
    );
    assert!(
        out.summary.contains("|\n\n… and "),
        "the note follows the table"
    );
    assert!(
        out.summary
            .ends_with("2970 findings went to the annotations instead.")
    );
}

#[test]
fn names_from_the_repository_cannot_break_the_markdown() {
    let config = Config::default();
    let path = "deploy/a|b`<!--@team-->.yaml";
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"x` <!-- @octocat\"\nspec:\n  containers:\n    - name: \"c|```\"\n      image: busybox\n";
    let c = [changed(path, text, Some(&added_patch(text)), &config)];
    let p = review(&c, &config);
    assert_eq!(p.comments.len(), 1, "{:?}", p.findings);
    let body = &p.comments[0].comment.body;
    assert_eq!(
        marker::fingerprint_of(body),
        Some(p.comments[0].fingerprint.clone())
    );
    let prose = outside_code_spans(body);
    assert_eq!(
        prose.matches("<!--").count(),
        1,
        "only our marker opens a comment:\n{body}"
    );
    assert!(!prose.contains("@octocat"), "nobody is mentioned:\n{body}");
    insta::assert_snapshot!("hostile_comment", body);
    let out = check_output(&p, &files(&c), &[]);
    assert!(
        out.summary.contains("`deploy/a\\|b`<!--@team-->.yaml:7`"),
        "askama leaves `.md` templates unescaped; the path is escaped by us, as a code span"
    );
    let prose = outside_code_spans(&out.summary);
    assert!(!prose.contains("<!--") && !prose.contains("@octocat"));
    // Every table row still has its five cells: no `|` from a name split one.
    for row in out.summary.lines().filter(|l| l.starts_with("| `writable")) {
        assert_eq!(row.replace("\\|", "").matches('|').count(), 6, "{row}");
    }
    insta::assert_snapshot!("hostile_summary", out.summary);
}

/// The text Markdown does not render literally: everything outside code spans (CommonMark:
/// a run of N backticks opens a span that the next run of exactly N closes).
fn outside_code_spans(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let n = rest.len() - rest.trim_start_matches('`').len();
        let after = &rest[n..];
        let close = (0..after.len()).find(|&i| {
            after[i..].starts_with(&"`".repeat(n))
                && !after[i + n..].starts_with('`')
                && (i == 0 || !after[..i].ends_with('`'))
        });
        match close {
            Some(i) => rest = &after[i + n..],
            None => {
                out.push_str(&rest[..n]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
