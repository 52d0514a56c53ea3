//! Links to files on the forge's web interface.

/// `{web}/{owner}/{repo}/blob/{commit}/{path}#L{line}`, the path percent-encoded per segment.
pub fn blob(web: &str, owner: &str, repo: &str, commit: &str, path: &str, line: i32) -> String {
    format!(
        "{}/{}/{}/blob/{}/{}#L{line}",
        web.trim_end_matches('/'),
        encode(owner),
        encode(repo),
        encode(commit),
        segments(path),
    )
}

/// `{web}/{group/.../project}/-/blob/{commit}/{path}#L{line}`: GitLab's file view, for a
/// project path of any depth (nested groups), each segment percent-encoded.
pub fn gitlab_blob(web: &str, project: &str, commit: &str, path: &str, line: i32) -> String {
    format!(
        "{}/{}/-/blob/{}/{}#L{line}",
        web.trim_end_matches('/'),
        segments(project),
        encode(commit),
        segments(path),
    )
}

/// `{root}/report/{owner}/{repo}`: a repository's page of this service's report.
pub fn report_page(root: &str, owner: &str, repo: &str) -> String {
    format!(
        "{}/report/{}/{}",
        root.trim().trim_end_matches('/'),
        segments(owner),
        segments(repo)
    )
}

fn segments(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
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

    #[test]
    fn a_gitlab_link_keeps_every_group_of_a_nested_project() {
        assert_eq!(
            gitlab_blob(
                "https://gitlab.example.com/",
                "platform/payments/shop",
                "abc",
                "k8s/deploy.yaml",
                3
            ),
            "https://gitlab.example.com/platform/payments/shop/-/blob/abc/k8s/deploy.yaml#L3"
        );
    }
}
