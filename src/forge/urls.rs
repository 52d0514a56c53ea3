//! A forge's configured API root, the only place URLs come from: paths are appended to it,
//! and a pagination link is followed only when it points back under it.

use anyhow::{Context, bail};
use http::Uri;

/// A validated API root such as `https://api.github.com` or `https://gitlab.com/api/v4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiRoot {
    scheme: String,
    authority: String,
    host: String,
    port: u16,
    /// Path prefix without a trailing slash; empty for api.github.com.
    prefix: String,
}

impl ApiRoot {
    /// Accepts an absolute http(s) URL with no user info, query or fragment; `label` names
    /// the setting in errors (`GitHub API URL`).
    pub(crate) fn parse(url: &str, label: &str) -> anyhow::Result<ApiRoot> {
        let url = url.trim();
        if url.contains(['?', '#']) {
            bail!("{label} {url:?} must not have a query or fragment");
        }
        let uri: Uri = url
            .parse()
            .with_context(|| format!("{label} {url:?} is not a URL"))?;
        let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            bail!("{label} {url:?} must start with http:// or https://");
        }
        let authority = uri
            .authority()
            .with_context(|| format!("{label} {url:?} has no host"))?;
        if authority.as_str().contains('@') || authority.host().is_empty() {
            bail!("{label} {url:?} must name a host and carry no user info");
        }
        let prefix = uri.path().trim_end_matches('/').to_string();
        if has_dot_segment(&prefix) {
            bail!("{label} {url:?} must not contain . or .. segments");
        }
        Ok(ApiRoot {
            port: effective_port(&uri, &scheme),
            host: authority.host().to_ascii_lowercase(),
            authority: authority.as_str().to_string(),
            scheme,
            prefix,
        })
    }

    /// The absolute URL of `path_and_query` (which starts with `/`) under the root.
    pub(crate) fn url(&self, path_and_query: &str) -> anyhow::Result<Uri> {
        debug_assert!(path_and_query.starts_with('/'));
        let url = format!(
            "{}://{}{}{}",
            self.scheme, self.authority, self.prefix, path_and_query
        );
        url.parse()
            .with_context(|| format!("could not build a URL from {path_and_query:?}"))
    }

    /// The root's path prefix, without a trailing slash (empty for api.github.com).
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The absolute URL of `path` at the root's scheme and host, outside its prefix.
    pub(crate) fn at_host(&self, path: &str) -> anyhow::Result<Uri> {
        debug_assert!(path.starts_with('/'));
        let url = format!("{}://{}{}", self.scheme, self.authority, path);
        url.parse()
            .with_context(|| format!("could not build a URL from {path:?}"))
    }

    /// Accepts a `Link` target only when it has the root's scheme, host and port and lies
    /// under its path prefix, so the installation token never leaves for another server.
    pub(crate) fn followable(&self, link: &str) -> anyhow::Result<Uri> {
        let refuse =
            |why: &str| anyhow::anyhow!("refusing to follow pagination link {link:?}: {why}");
        let uri: Uri = link.parse().map_err(|_| refuse("not a URL"))?;
        let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
        let authority = uri.authority().ok_or_else(|| refuse("not absolute"))?;
        if scheme != self.scheme {
            return Err(refuse("another scheme than the API root"));
        }
        if authority.as_str().contains('@') {
            return Err(refuse("it carries user info"));
        }
        if !authority.host().eq_ignore_ascii_case(&self.host)
            || effective_port(&uri, &scheme) != self.port
        {
            return Err(refuse("another host or port than the API root"));
        }
        let path = uri.path();
        let under_prefix = path
            .strip_prefix(&self.prefix)
            .is_some_and(|rest| rest.starts_with('/'));
        if !under_prefix || has_dot_segment(path) {
            return Err(refuse("outside the API root's path"));
        }
        Ok(uri)
    }
}

/// The port a URL connects to, explicit or implied by its scheme.
fn effective_port(uri: &Uri, scheme: &str) -> u16 {
    uri.port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 })
}

/// True when a path has a `.` or `..` segment, plain or percent-encoded.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

/// Percent-encodes a repository file path segment by segment (slashes kept), as GitHub's
/// contents API takes it. Refuses empty, absolute, `.` and `..` segments: the forge would
/// resolve them, and we never mean to.
pub(crate) fn encode_file_path(path: &str) -> Result<String, String> {
    encode_path_with(path, "/")
}

/// Percent-encodes a repository file path as one URL path component (`/` becomes `%2F`), as
/// GitLab's repository files API takes it; the same segments are refused.
pub(crate) fn encode_path_component(path: &str) -> Result<String, String> {
    encode_path_with(path, "%2F")
}

fn encode_path_with(path: &str, separator: &str) -> Result<String, String> {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!("unsafe file path {path:?}"));
        }
        if i > 0 {
            out.push_str(separator);
        }
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_validated() {
        let root = ApiRoot::parse("https://api.github.com", "API URL").unwrap();
        assert_eq!(
            root.url("/repos/o/r").unwrap().to_string(),
            "https://api.github.com/repos/o/r"
        );
        let ghe = ApiRoot::parse("https://GHE.example.com/api/v3/", "API URL").unwrap();
        assert_eq!(
            ghe.url("/repos/o/r?x=1").unwrap().to_string(),
            "https://GHE.example.com/api/v3/repos/o/r?x=1"
        );
        let local = ApiRoot::parse("http://127.0.0.1:8080", "API URL").unwrap();
        assert_eq!(
            local.url("/app").unwrap().to_string(),
            "http://127.0.0.1:8080/app"
        );
        for bad in [
            "api.github.com",
            "ftp://api.github.com",
            "https://api.github.com?x=1",
            "https://api.github.com/#x",
            "https://user:pw@api.github.com",
            "https://x/api/../v3",
            "https://",
            "",
        ] {
            assert!(ApiRoot::parse(bad, "API URL").is_err(), "{bad}");
        }
    }

    #[test]
    fn links_are_followed_only_under_the_root() {
        let root = ApiRoot::parse("http://127.0.0.1:8080", "API URL").unwrap();
        let ok = "http://127.0.0.1:8080/repositories/1/pulls/1/files?per_page=100&page=2";
        assert_eq!(root.followable(ok).unwrap().to_string(), ok);
        for bad in [
            "https://127.0.0.1:8080/repositories/1/pulls/1/files?page=2",
            "http://127.0.0.1:8081/repositories/1/pulls/1/files?page=2",
            "http://127.0.0.2:8080/repositories/1/pulls/1/files?page=2",
            "http://evil@127.0.0.1:8080/repositories/1",
            "/repositories/1/pulls/1/files?page=2",
            "http://127.0.0.1:8080/a/../b",
            "not a url",
        ] {
            assert!(root.followable(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enterprise_links_keep_the_path_prefix() {
        let root = ApiRoot::parse("https://ghe.example.com/api/v3", "API URL").unwrap();
        assert!(
            root.followable(
                "https://GHE.example.com:443/api/v3/repositories/1/pulls/1/files?page=2"
            )
            .is_ok()
        );
        for bad in [
            "https://ghe.example.com/repositories/1/pulls/1/files?page=2",
            "https://ghe.example.com/api/v3x/repositories/1",
            "https://ghe.example.com/api/v3",
            "https://ghe.example.com/api/v3/%2E%2E/admin",
            "https://api.github.com/api/v3/repositories/1",
        ] {
            assert!(root.followable(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_ports_compare_equal() {
        let root = ApiRoot::parse("https://api.github.com", "API URL").unwrap();
        assert!(
            root.followable("https://api.github.com:443/repositories/1")
                .is_ok()
        );
        assert!(
            root.followable("https://api.github.com:8443/repositories/1")
                .is_err()
        );
    }

    #[test]
    fn file_paths_are_encoded_per_segment() {
        assert_eq!(encode_file_path("k8s/app.yaml").unwrap(), "k8s/app.yaml");
        assert_eq!(
            encode_file_path("deploy/my app (1)/x#y?.yml").unwrap(),
            "deploy/my%20app%20%281%29/x%23y%3F.yml"
        );
        assert_eq!(encode_file_path("ü.yml").unwrap(), "%C3%BC.yml");
        assert_eq!(encode_file_path("a%2F..").unwrap(), "a%252F..");
        for bad in ["", "/etc/passwd", "a/../b", "..", "a/./b", "a//b", "a/"] {
            assert!(encode_file_path(bad).is_err(), "{bad}");
            assert!(encode_path_component(bad).is_err(), "{bad}");
        }
        assert_eq!(
            encode_path_component("deploy/my app/k8s.yaml").unwrap(),
            "deploy%2Fmy%20app%2Fk8s.yaml"
        );
    }
}
