//! The report as CSV: one line per repository (RFC 4180, header first), for spreadsheets;
//! `owners` lists the CODEOWNERS owners of its units, separated by spaces.

use super::OwnerReport;
use std::fmt::Write;

/// The column names, in order.
pub const HEADER: &str = "owner,repository,private,units,read_only,suppressed,writable,unknown,read_only_share,last_scan_at,last_commit,open_pull_request_findings,owners";

/// One line per repository, in name order, CRLF line ends as RFC 4180 asks.
pub fn repositories(r: &OwnerReport) -> String {
    let mut out = String::with_capacity(64 * (r.repositories.len() + 1));
    out.push_str(HEADER);
    out.push_str("\r\n");
    for row in &r.repositories {
        let c = &row.counts;
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
            field(&r.owner),
            field(&row.name),
            row.private,
            c.units,
            c.read_only,
            c.suppressed,
            c.writable,
            c.unknown,
            row.read_only_share
                .map_or(String::new(), |s| format!("{s:.4}")),
            row.last_scan_at.map_or(String::new(), |t| t.to_rfc3339()),
            row.last_commit.as_deref().map_or(String::new(), field),
            row.open_pull_request_findings,
            // Space-separated: CODEOWNERS' own separator, and never in an owner's name.
            field(&row.owners.join(" ")),
        );
    }
    out
}

/// Quotes a field when it holds a separator, a quote or a line break. A leading `=`, `+`,
/// `-` or `@` gets a `'` so a spreadsheet shows it instead of evaluating it.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn separators_quotes_and_formulas_are_neutralised() {
        assert_eq!(field("shop"), "shop");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
    }
}
