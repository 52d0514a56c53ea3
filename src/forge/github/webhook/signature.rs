//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the webhook secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Whether `header` (`sha256=<hex>`) signs `body` with one of `secrets`. Several secrets let
/// an operator rotate the secret without dropping deliveries. The comparison is constant-time
/// (`Mac::verify_slice`).
pub fn verify(secrets: &[Vec<u8>], header: Option<&[u8]>, body: &[u8]) -> bool {
    let Some(header) = header else {
        return false;
    };
    let Some(hex_sig) = header.strip_prefix(b"sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&sig).is_ok()
    })
}

/// The header value for `body` signed with `secret` (what GitHub sends; used by tests and the
/// load generator).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_own_test_vector() {
        // From GitHub's "Validating webhook deliveries".
        let secret = b"It's a Secret to Everybody".to_vec();
        let header = b"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify(
            std::slice::from_ref(&secret),
            Some(header),
            b"Hello, World!"
        ));
        assert_eq!(sign(&secret, b"Hello, World!").as_bytes(), header);
    }

    #[test]
    fn anything_else_fails() {
        let secret = b"s".to_vec();
        let good = sign(&secret, b"body");
        assert!(!verify(std::slice::from_ref(&secret), None, b"body"));
        assert!(!verify(
            std::slice::from_ref(&secret),
            Some(good.as_bytes()),
            b"body!"
        ));
        assert!(!verify(
            &[b"other".to_vec()],
            Some(good.as_bytes()),
            b"body"
        ));
        assert!(!verify(
            std::slice::from_ref(&secret),
            Some(b"sha1=abc"),
            b"body"
        ));
        assert!(!verify(
            std::slice::from_ref(&secret),
            Some(b"sha256=zz"),
            b"body"
        ));
        assert!(verify(
            &[b"old".to_vec(), secret],
            Some(good.as_bytes()),
            b"body"
        ));
    }
}
