use super::*;
use proptest::prelude::*;

const ADDED_FILE: &str = include_str!("../../../tests/data/patches/github_added-yaml-file.patch");
const TWO_HUNKS: &str = include_str!("../../../tests/data/patches/github_modified-two-hunks.patch");
const NO_NEWLINE: &str = include_str!("../../../tests/data/patches/reviewdog_nonewline.diff");
const ADD_EOF_NEWLINE: &str =
    include_str!("../../../tests/data/patches/reviewdog_addeofnewline.diff");
const REMOVE_EOF_NEWLINE: &str =
    include_str!("../../../tests/data/patches/reviewdog_removeeofnewline.diff");
const GIT_HEADERS: &str =
    include_str!("../../../tests/data/patches/reviewdog_newline_and_empty_deleted.diff");

fn added(d: &FileDiff, upto: usize) -> Vec<usize> {
    (1..=upto).filter(|&l| d.is_added(l)).collect()
}

#[test]
fn an_added_file_adds_every_line_in_one_hunk() {
    let d = FileDiff::parse(ADDED_FILE).unwrap();
    assert_eq!(d.hunks().len(), 1);
    assert_eq!(added(&d, 60), (1..=53).collect::<Vec<_>>());
    assert_eq!(d.hunk_of(1), Some(0));
    assert_eq!(d.hunk_of(53), Some(0));
    assert_eq!(d.hunk_of(54), None);
    assert_eq!(d.hunk_of(0), None);
}

#[test]
fn github_omits_the_final_newline_and_that_is_fine() {
    let trimmed = ADDED_FILE.strip_suffix('\n').unwrap();
    assert_eq!(FileDiff::parse(trimmed), FileDiff::parse(ADDED_FILE));
}

#[test]
fn a_modified_file_knows_added_context_and_outside_lines() {
    let d = FileDiff::parse(TWO_HUNKS).unwrap();
    // Hunk 0 is new lines 1..=24, hunk 1 is new lines 35..=52.
    assert_eq!(d.hunks()[1].new_start, 35);
    assert_eq!(d.hunks()[1].new_len, 18);
    assert_eq!(
        added(&d, 60),
        [
            1, 2, 3, 4, 5, 6, 9, 10, 15, 18, 21, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51
        ]
    );
    assert!(!d.is_added(7), "line 7 is context");
    assert_eq!(d.hunk_of(7), Some(0));
    assert_eq!(d.hunk_of(24), Some(0));
    assert_eq!(d.hunk_of(25), None, "between the hunks");
    assert_eq!(d.hunk_of(35), Some(1));
    assert_eq!(d.hunk_of(52), Some(1));
    assert_eq!(d.hunk_of(53), None);
}

#[test]
fn old_side_numbers_of_context_and_added_lines() {
    // @@ -1,3 +1,4 @@ keep / -gone / +new1 / +new2 / keep2
    let d = FileDiff::parse("@@ -1,3 +1,4 @@\n keep\n-gone\n+new1\n+new2\n keep2\n").unwrap();
    assert_eq!(d.old_line_at(1), Some(1), "context: its own old number");
    assert_eq!(
        d.old_line_at(2),
        Some(3),
        "added after a removal: the next old line"
    );
    assert_eq!(d.old_line_at(3), Some(3));
    assert_eq!(d.old_line_at(4), Some(3), "context after the change");
    assert_eq!(d.old_line_at(5), None, "outside the hunk");
    let new_file = FileDiff::parse(ADDED_FILE).unwrap();
    assert_eq!(
        new_file.old_line_at(7),
        Some(0),
        "a new file has no old lines"
    );
}

#[test]
fn range_queries() {
    let d = FileDiff::parse(TWO_HUNKS).unwrap();
    assert_eq!(d.first_added_in(11..=20), Some(15));
    assert_eq!(d.first_added_in(22..=41), None);
    assert_eq!(d.first_hunk_line_in(20..=40), Some(20));
    assert_eq!(d.first_hunk_line_in(25..=40), Some(35));
    assert_eq!(d.first_hunk_line_in(25..=34), None);
    assert!(d.one_hunk_covers(3..=24));
    assert!(!d.one_hunk_covers(20..=36), "two hunks");
    assert!(!d.one_hunk_covers(25..=26), "no hunk");
    let (start, end) = (5, 4);
    assert!(!d.one_hunk_covers(start..=end), "empty range");
}

#[test]
fn no_newline_markers_are_not_lines() {
    for patch in [NO_NEWLINE, ADD_EOF_NEWLINE, REMOVE_EOF_NEWLINE] {
        let d = FileDiff::parse(patch).unwrap();
        assert_eq!(d.hunks().len(), 1, "{patch}");
    }
    let d = FileDiff::parse(NO_NEWLINE).unwrap();
    assert_eq!(added(&d, 10), [3, 4]);
    let d = FileDiff::parse(REMOVE_EOF_NEWLINE).unwrap();
    assert_eq!(added(&d, 10), [2]);
}

#[test]
fn git_file_headers_before_the_first_hunk_are_skipped() {
    let d = FileDiff::parse(GIT_HEADERS).unwrap();
    assert_eq!(d.hunks().len(), 1);
    assert_eq!(added(&d, 20), [5, 6, 10, 11, 12, 13]);
}

#[test]
fn crlf_content_and_crlf_patches() {
    let patch = "@@ -1,2 +1,3 @@\r\n kind: Pod\r\n+metadata:\r\n-spec:\r\n+spec:\r\n";
    let d = FileDiff::parse(patch).unwrap();
    assert_eq!(added(&d, 5), [2, 3]);
}

#[test]
fn omitted_counts_mean_one() {
    let d = FileDiff::parse("@@ -3 +3 @@ services:\n-  a: 1\n+  a: 2").unwrap();
    assert_eq!(d.hunks()[0].new_len, 1);
    assert_eq!(added(&d, 5), [3]);
}

#[test]
fn an_empty_patch_has_no_hunks() {
    let d = FileDiff::parse("").unwrap();
    assert!(d.hunks().is_empty());
    assert_eq!(d.hunk_of(1), None);
}

#[test]
fn an_emptied_context_line_still_counts() {
    // Some tools trim the single space of an empty context line.
    let d = FileDiff::parse("@@ -1,3 +1,4 @@\n a\n\n+b\n c").unwrap();
    assert_eq!(added(&d, 5), [3]);
}

#[test]
fn malformed_patches_are_errors_with_their_line() {
    let cases = [
        ("@@ -1,2 +1,2 @@\n a\n", 2, "ends inside a hunk"),
        ("@@ -1 +1 @@\n a\n b\n", 3, "more lines than"),
        ("@@ -1,2 +1,2 @@\n+a\n+b\n+c\n", 4, "beyond the hunk header"),
        ("@@ -x +1 @@\n", 1, "malformed hunk header"),
        ("@@ -1 +1\n a\n", 1, "malformed hunk header"),
        ("hello\n", 1, "expected a hunk header"),
        ("\\ No newline at end of file\n", 1, "before any hunk"),
        ("@@ -1 +1 @@\n*a\n", 2, "must start with"),
        (
            "@@ -1,2 +5,2 @@\n a\n b\n@@ -3 +3 @@\n c\n",
            4,
            "out of order",
        ),
        ("@@ -1 +18446744073709551615,2 @@\n a\n", 1, "overflows"),
        ("@@ -0,0 +0,1 @@\n+a\n", 1, "malformed"),
    ];
    for (patch, line, text) in cases {
        let err = FileDiff::parse(patch).unwrap_err();
        assert_eq!(err.line, line, "{patch:?}: {err}");
        assert!(err.message.contains(text), "{patch:?}: {err}");
    }
}

/// One generated hunk: the kinds of its lines (' ', '+', '-').
fn hunk_lines() -> impl Strategy<Value = Vec<char>> {
    prop::collection::vec(prop::sample::select(vec![' ', '+', '-']), 1..12)
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in ".*") {
        let _ = FileDiff::parse(&s);
    }

    #[test]
    fn patch_like_text_never_panics(
        s in r"(@@ -[0-9]{1,3}(,[0-9]{1,2})? \+[0-9]{1,3}(,[0-9]{1,2})? @@[ a-z]*\n|[ +\-\\][a-z]*\n|\n){0,30}"
    ) {
        let _ = FileDiff::parse(&s);
    }

    #[test]
    fn generated_patches_parse_to_what_was_generated(
        hunks in prop::collection::vec((1usize..5, hunk_lines()), 1..5)
    ) {
        let mut text = String::new();
        let mut want_added = Vec::new();
        let mut want_old = Vec::new();
        let (mut old, mut new) = (1usize, 1usize);
        for (gap, lines) in &hunks {
            old += gap;
            new += gap;
            let o = lines.iter().filter(|&&c| c != '+').count();
            let n = lines.iter().filter(|&&c| c != '-').count();
            text.push_str(&format!("@@ -{old},{o} +{new},{n} @@\n"));
            let (mut at, mut at_old) = (new, old);
            for &c in lines {
                text.push(c);
                text.push_str("x\n");
                if c == '+' { want_added.push(at); }
                if c != '-' { want_old.push((at, at_old)); at += 1; }
                if c != '+' { at_old += 1; }
            }
            old += o;
            new += n;
        }
        let d = FileDiff::parse(&text).unwrap();
        prop_assert_eq!(d.hunks().len(), hunks.len());
        let got: Vec<usize> = (0..new + 2).filter(|&l| d.is_added(l)).collect();
        prop_assert_eq!(got, want_added);
        let got_old: Vec<(usize, usize)> =
            (0..new + 2).filter_map(|l| Some((l, d.old_line_at(l)?))).collect();
        prop_assert_eq!(got_old, want_old);
        for l in 0..new + 2 {
            let by_scan = d.hunks().iter().position(|h| h.contains(l));
            prop_assert_eq!(d.hunk_of(l), by_scan);
        }
    }
}
