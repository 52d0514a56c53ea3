//! Links to files on the forge's web interface.

/// `{web}/{owner}/{repo}/blob/{commit}/{path}#L{line}`, the path percent-encoded per segment.
pub fn blob(web: &str, owner: &str, repo: &str, commit: &str, path: &str, line: i32) -> String {
    format!(
        "{}/{}/{}/blob/{}/{}#L{line}",
        web.trim_end_matches('/'),
        encode(owner),
        encode(repo),
        encode(commit),
        path.split('/').map(encode).collect::<Vec<_>>().join("/"),
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_spaces_and_hashes_stays_one_link() {
        assert_eq!(
            blob(
                "https://github.com/",
                "acme",
                "shop",
                "abc",
                "deploy/my app/#1.yaml",
                7
            ),
            "https://github.com/acme/shop/blob/abc/deploy/my%20app/%231.yaml#L7"
        );
    }
}
