//! The App's own credential: a short-lived RS256 JWT, as GitHub asks for App-level calls.

use octocrab::jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::{Deserialize, Serialize};

/// Claims GitHub reads from an App JWT.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Claims {
    /// Issued 60 s in the past, against clock drift between us and GitHub.
    iat: i64,
    /// GitHub refuses an expiry more than 10 minutes ahead; 9 leaves room for drift.
    exp: i64,
    /// The App id (GitHub also accepts the client id; the id is what we configure).
    iss: u64,
}

/// Signs an App JWT valid from `now - 60 s` to `now + 9 min` (`now` in Unix seconds).
pub(crate) fn app_jwt(
    app_id: u64,
    key: &EncodingKey,
    now: i64,
) -> Result<String, octocrab::jsonwebtoken::errors::Error> {
    let claims = Claims {
        iat: now - 60,
        exp: now + 9 * 60,
        iss: app_id,
    };
    encode(&Header::new(Algorithm::RS256), &claims, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use octocrab::jsonwebtoken::{DecodingKey, Validation, decode};

    const KEY: &str = include_str!("../../../tests/data/test-app-key.pem");
    const PUBLIC: &str = include_str!("../../../tests/data/test-app-key.pub.pem");

    #[test]
    fn claims_meet_githubs_rules_and_verify_with_the_public_key() {
        let key = EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap();
        let now = chrono::Utc::now().timestamp();
        let jwt = app_jwt(12345, &key, now).unwrap();

        let mut validation = Validation::new(Algorithm::RS256);
        // jsonwebtoken only sees a string `iss`; ours is GitHub's number, checked below.
        validation.set_required_spec_claims(&["exp"]);
        let public = DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap();
        let decoded = decode::<Claims>(&jwt, &public, &validation).unwrap();

        assert_eq!(decoded.header.alg, Algorithm::RS256);
        assert_eq!(
            decoded.claims,
            Claims {
                iat: now - 60,
                exp: now + 540,
                iss: 12345
            }
        );
        assert!(decoded.claims.exp - now <= 600);
    }

    #[test]
    fn a_token_signed_by_another_key_does_not_verify() {
        let key = EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap();
        let jwt = app_jwt(1, &key, chrono::Utc::now().timestamp()).unwrap();
        let mut tampered = jwt.clone();
        tampered.pop();
        tampered.push(if jwt.ends_with('A') { 'B' } else { 'A' });
        let public = DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap();
        assert!(decode::<Claims>(&tampered, &public, &Validation::new(Algorithm::RS256)).is_err());
    }
}
