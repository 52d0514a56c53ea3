//! Where a finding the base branch already had points a reader: the open fix-all pull
//! request that fixes it, and the repository's page of the report.

/// Links for findings a pull request did not introduce; both may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointers {
    /// The open fix-all pull request: its number and web URL.
    pub fix_pull_request: Option<(u64, String)>,
    /// The repository's page of the compliance report.
    pub report_page: Option<String>,
}

impl Pointers {
    /// What the annotation of a finding already on the base branch adds to its message.
    pub fn pre_existing_note(&self) -> String {
        let mut out = String::from(
            "\n\nAlready on the base branch: this pull request did not introduce it, so it does not fail the check (`review.fail_on: new`).",
        );
        if let Some((number, url)) = &self.fix_pull_request {
            out.push_str(&format!(
                " The fix-all pull request #{number} fixes it: {url}"
            ));
        }
        if let Some(page) = &self.report_page {
            out.push_str(&format!(" The repository's writable units: {page}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_pointers_name_the_fix_pull_request_and_the_report_page_when_known() {
        let none = Pointers::default().pre_existing_note();
        assert!(none.ends_with("(`review.fail_on: new`)."), "{none}");
        let both = Pointers {
            fix_pull_request: Some((7, "https://github.com/o/r/pull/7".into())),
            report_page: Some("https://bot.example/report/o/r".into()),
        }
        .pre_existing_note();
        assert!(
            both.ends_with("(`review.fail_on: new`). The fix-all pull request #7 fixes it: https://github.com/o/r/pull/7 The repository's writable units: https://bot.example/report/o/r"),
            "{both}"
        );
    }
}
