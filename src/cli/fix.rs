//! Applying suggested patches: `--fix` writes them, `--diff` only shows them.
//!
//! One round applies every non-overlapping fix of a file; overlapping ones and fixes that
//! only appear once others are in need another analysis, so rounds repeat until nothing
//! applies (at most [`MAX_ROUNDS`], in case two fixes undo each other).

use crate::model::FileReport;
use crate::patch;

/// The most analyse-and-patch rounds per file.
pub const MAX_ROUNDS: usize = 10;

const BOM: &str = "\u{feff}";

/// The outcome of fixing one file.
#[derive(Debug, Clone)]
pub struct Fixed {
    /// The file's bytes with every fix applied (identical to the input when none applied).
    pub bytes: Vec<u8>,
    /// The report on the bytes as they were given.
    pub original: FileReport,
    /// The report on the fixed bytes.
    pub report: FileReport,
    /// How many fixes were applied over all rounds.
    pub applied: usize,
}

/// Applies fixes to `bytes` round after round; `analyze` is the (strict-aware) analysis.
pub fn fix_bytes(bytes: Vec<u8>, analyze: impl Fn(&[u8]) -> FileReport) -> Fixed {
    let mut bytes = bytes;
    let original = analyze(&bytes);
    let mut report = original.clone();
    let mut applied = 0;
    for _ in 0..MAX_ROUNDS {
        let fixes: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .filter_map(|f| f.fix.as_ref())
            .collect();
        if fixes.is_empty() {
            break;
        }
        // A file that is not UTF-8 cannot be patched as text; leave it as it is.
        let Ok(text) = std::str::from_utf8(&bytes) else {
            break;
        };
        let (bom, body) = split_bom(text);
        let (patched, n) = patch::apply_all(body, fixes);
        if n == 0 || patched == body {
            break;
        }
        applied += n;
        bytes = format!("{bom}{patched}").into_bytes();
        report = analyze(&bytes);
    }
    Fixed {
        bytes,
        original,
        report,
        applied,
    }
}

/// Splits a leading UTF-8 byte order mark off `text`: fixes count lines after it.
pub fn split_bom(text: &str) -> (&str, &str) {
    match text.strip_prefix(BOM) {
        Some(rest) => (BOM, rest),
        None => ("", text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Fix, Format, Severity};

    /// A toy analysis: every line `rw` should become `ro`.
    fn toy(bytes: &[u8]) -> FileReport {
        let text = std::str::from_utf8(bytes).unwrap();
        let (_, body) = split_bom(text);
        let findings = body
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_end_matches('\r') == "rw")
            .map(|(i, _)| Finding {
                rule: "writable-root-filesystem".into(),
                severity: Severity::Error,
                line: i + 1,
                end_line: i + 1,
                column: 1,
                message: "rw".into(),
                workload: None,
                container: None,
                fix: Some(Fix {
                    description: "make it ro".into(),
                    start_line: i + 1,
                    end_line: i + 1,
                    replacement: "ro\n".into(),
                }),
                suppressed: None,
                expired: None,
            })
            .collect();
        FileReport {
            path: "x.yml".into(),
            format: Format::Compose,
            skipped_reason: None,
            units: vec![],
            findings,
            rendered: None,
        }
    }

    #[test]
    fn keeps_the_bom_and_fixes_everything() {
        let out = fix_bytes("\u{feff}a\nrw\nrw\n".as_bytes().to_vec(), toy);
        assert_eq!(String::from_utf8(out.bytes).unwrap(), "\u{feff}a\nro\nro\n");
        assert_eq!(out.applied, 2);
        assert!(out.report.findings.is_empty());
    }

    #[test]
    fn nothing_to_fix_changes_nothing() {
        let out = fix_bytes(b"a\nb\n".to_vec(), toy);
        assert_eq!(out.bytes, b"a\nb\n");
        assert_eq!(out.applied, 0);
    }
}
