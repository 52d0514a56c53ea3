//! `--format json`: the documented report shape, version 1.

use crate::model::Report;
use crate::output::{OutputFormat, stream, text};

/// The report as pretty-printed JSON with a final newline.
pub fn render(report: &Report) -> String {
    stream::render_all(
        OutputFormat::Json,
        text::Options::default(),
        report.files.iter().map(|f| (f, None)),
    )
}
