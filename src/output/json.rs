//! `--format json`: the documented report shape, version 1.

use crate::model::Report;

/// The report as pretty-printed JSON with a final newline.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
    s.push('\n');
    s
}
