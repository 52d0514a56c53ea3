//! The hidden marker that ties a posted comment to its finding, so a new push finds the
//! comments it already made and never repeats one.

const PREFIX: &str = "<!-- immutabot:fingerprint=";
const SUFFIX: &str = " -->";
const REVIEW_PREFIX: &str = "<!-- immutabot:review=";

/// The identity of one review: its head commit and the findings it comments on. Two attempts
/// to post the same review share it; a later review of the same head saying more does not.
pub fn review_key(head: &str, fingerprints: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted = fingerprints.to_vec();
    sorted.sort_unstable();
    let mut h = Sha256::new();
    h.update(head.as_bytes());
    for fp in sorted {
        h.update(b"\n");
        h.update(fp.as_bytes());
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The hidden line that carries a review's key, so that a review whose posting got no answer
/// can be found instead of posted twice.
pub fn review_marker(key: &str) -> String {
    format!("{REVIEW_PREFIX}{key}{SUFFIX}")
}

/// The marker line for a fingerprint: an HTML comment GitHub does not display.
///
/// Only hex digits are kept, so no fingerprint can end the HTML comment early.
pub fn marker(fingerprint: &str) -> String {
    let hex: String = fingerprint
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    format!("{PREFIX}{hex}{SUFFIX}")
}

/// The fingerprint in a comment body written by [`marker`], if any.
///
/// The last marker wins: ours ends the body, while a user-controlled name quoted earlier in
/// the body could carry a look-alike.
pub fn fingerprint_of(body: &str) -> Option<String> {
    let start = body.rfind(PREFIX)? + PREFIX.len();
    let rest = &body[start..];
    let hex_len = rest.bytes().take_while(|b| b.is_ascii_hexdigit()).count();
    (hex_len > 0 && rest[hex_len..].starts_with(SUFFIX))
        .then(|| rest[..hex_len].to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_key_depends_on_the_head_and_the_set_of_findings() {
        let k = review_key("abc", &["f1", "f2"]);
        assert_eq!(k.len(), 32);
        assert_eq!(k, review_key("abc", &["f2", "f1"]));
        assert_ne!(k, review_key("abd", &["f1", "f2"]));
        assert_ne!(k, review_key("abc", &["f1", "f2", "f3"]));
        assert_eq!(review_marker(&k), format!("<!-- immutabot:review={k} -->"));
    }

    #[test]
    fn round_trip() {
        let fp = "0123456789abcdef".repeat(4);
        let body = format!("**Title**\n\ntext\n\n{}", marker(&fp));
        assert_eq!(fingerprint_of(&body), Some(fp));
    }

    #[test]
    fn bodies_without_a_marker_have_no_fingerprint() {
        assert_eq!(fingerprint_of("LGTM"), None);
        assert_eq!(fingerprint_of("<!-- immutabot:fingerprint= -->"), None);
        assert_eq!(fingerprint_of("<!-- immutabot:fingerprint=abc"), None);
        assert_eq!(fingerprint_of("<!-- immutabot:fingerprint=abz -->"), None);
    }

    #[test]
    fn the_last_marker_wins_over_a_quoted_one() {
        let body = format!("`{}`\n\n{}", marker("aaaa"), marker("bbbb"));
        assert_eq!(fingerprint_of(&body).as_deref(), Some("bbbb"));
    }

    #[test]
    fn a_hostile_fingerprint_cannot_close_the_comment() {
        assert_eq!(
            marker("ab --> @x <!-- cd"),
            "<!-- immutabot:fingerprint=abcd -->"
        );
    }
}
