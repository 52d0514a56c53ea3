//! GitHub's URLs: the shared API root (`crate::forge::urls`), and where GraphQL lives beside it.

pub(crate) use crate::forge::urls::{ApiRoot, encode_file_path};
use http::Uri;

/// What the API root is called in errors about it.
pub(crate) const LABEL: &str = "GitHub API URL";

/// The GraphQL endpoint: `/graphql` at the root, except that GitHub Enterprise Server serves
/// REST under `/api/v3` and GraphQL at `/api/graphql`.
pub(crate) fn graphql_url(root: &ApiRoot) -> anyhow::Result<Uri> {
    match root.prefix().strip_suffix("/v3") {
        Some(api) if api.ends_with("/api") => root.at_host(&format!("{api}/graphql")),
        _ => root.url("/graphql"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graphql_of(root: &str) -> String {
        graphql_url(&ApiRoot::parse(root, LABEL).unwrap())
            .unwrap()
            .to_string()
    }

    #[test]
    fn graphql_lives_beside_rest_on_enterprise() {
        assert_eq!(
            graphql_of("https://ghe.example.com/api/v3"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            graphql_of("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_of("http://127.0.0.1:9/prefix"),
            "http://127.0.0.1:9/prefix/graphql"
        );
    }
}
