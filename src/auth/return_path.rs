//! Where a sign-in may send the browser back to: a path of this service's report, never
//! another site (no open redirect through `/login?next=`).

/// Where every sign-in may lead.
const REPORT: &str = "/report/";

/// `next` when it is a report path of this site, else `None`. Refused: anything that is not
/// a path starting with `/report/` (absolute and scheme-relative URLs, `/\evil`, `/\t/evil`
/// and the like, which browsers read as another host), control characters, backslashes,
/// fragments, and more than 2,000 bytes.
pub fn same_site(next: &str) -> Option<&str> {
    let plain = next.len() <= 2_000
        && next.starts_with(REPORT)
        && !next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '\\' | '#'));
    plain.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_report_paths_of_this_site_are_kept() {
        for good in ["/report/acme", "/report/acme/shop", "/report/acme.csv?x=1"] {
            assert_eq!(same_site(good), Some(good));
        }
        for bad in [
            "",
            "/",
            "https://evil.example/report/acme",
            "//evil.example/report/acme",
            "/\\evil.example",
            "/report/acme\\..\\x",
            "/report/acme\r\nSet-Cookie: a=b",
            "/report/ac me",
            "/report/acme#x",
            "report/acme",
            "/reports/acme",
            "javascript:alert(1)",
        ] {
            assert_eq!(same_site(bad), None, "{bad:?}");
        }
        assert_eq!(same_site(&format!("/report/{}", "a".repeat(2_000))), None);
    }
}
