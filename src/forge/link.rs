//! Reading the `rel="next"` target of a pagination `Link` header (GitHub and GitLab both send one).

use http::HeaderMap;

/// The `next` URL announced by the `Link` header(s) of an answer, if any.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(next_in)
        .map(str::to_string)
}

/// Finds the target whose `rel` includes `next` in one header value
/// (`<url>; rel="next", <url>; rel="last"`, RFC 8288).
fn next_in(value: &str) -> Option<&str> {
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let after_open = rest.strip_prefix('<')?;
        let close = after_open.find('>')?;
        let target = &after_open[..close];
        rest = &after_open[close + 1..];
        // The parameters run to the next comma that is not inside quotes.
        let mut quoted = false;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                c == ',' && !quoted
            })
            .map_or(rest.len(), |(i, _)| i);
        let params = &rest[..end];
        rest = &rest[end..];
        let is_next = params.split(';').any(|param| {
            param.split_once('=').is_some_and(|(key, val)| {
                key.trim().eq_ignore_ascii_case("rel")
                    && val
                        .trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
            })
        });
        if is_next {
            return Some(target);
        }
        if rest.is_empty() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn finds_next_among_others() {
        let v = r#"<https://api.github.com/repositories/1296269/pulls/1/files?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1296269/pulls/1/files?per_page=100&page=3>; rel="last""#;
        assert_eq!(
            next_in(v),
            Some("https://api.github.com/repositories/1296269/pulls/1/files?per_page=100&page=2")
        );
        let v = r#"<https://x/?page=1>; rel="prev", <https://x/?page=3>; rel="next""#;
        assert_eq!(next_in(v), Some("https://x/?page=3"));
    }

    #[test]
    fn tolerates_odd_but_legal_forms() {
        assert_eq!(next_in("<https://x/2>;rel=next"), Some("https://x/2"));
        assert_eq!(
            next_in(r#"<https://x/2>; title="a, b"; rel="prev next""#),
            Some("https://x/2")
        );
        assert_eq!(next_in(r#"<https://x/3>; rel="last""#), None);
        assert_eq!(next_in(""), None);
        assert_eq!(next_in("garbage"), None);
        assert_eq!(next_in("<unterminated; rel=next"), None);
    }

    #[test]
    fn reads_every_link_header() {
        let mut headers = HeaderMap::new();
        headers.append(
            http::header::LINK,
            HeaderValue::from_static(r#"<https://x/1>; rel="first""#),
        );
        headers.append(
            http::header::LINK,
            HeaderValue::from_static(r#"<https://x/2>; rel="next""#),
        );
        assert_eq!(next_link(&headers).as_deref(), Some("https://x/2"));
        assert_eq!(next_link(&HeaderMap::new()), None);
    }
}
