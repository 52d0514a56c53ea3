//! Report access tokens: 32 random bytes shown once, stored only as their SHA-256.
//!
//! A lookup compares hashes inside the database's unique index, so neither the stored value
//! nor the comparison's timing reveals a usable token.

use crate::storage;
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// Listing and revoking are plain storage.
pub use crate::storage::tokens::{TokenInfo, list, revoke};

/// Prefix of every token, so a leaked one is recognisable (secret scanners, logs).
pub const PREFIX: &str = "imbt_";

/// A token just created: the only time its text exists outside the caller's hands.
#[derive(Debug)]
pub struct NewToken {
    /// Row id in `api_tokens`.
    pub id: i64,
    /// The owner it reads.
    pub owner: String,
    /// The bearer token itself.
    pub token: String,
}

/// A fresh random token: the prefix and 64 hex digits (32 bytes from the OS).
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system gave no random bytes: {e}"))?;
    Ok(format!("{PREFIX}{}", hex::encode(bytes)))
}

/// The stored form: SHA-256 of the token text, lowercase hex.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token for `owner` and stores its hash.
pub async fn create(pool: &PgPool, owner: &str, label: Option<&str>) -> anyhow::Result<NewToken> {
    let owner = owner.trim();
    anyhow::ensure!(
        !owner.is_empty() && !owner.contains('/'),
        "the owner must be an organisation or user login, e.g. acme"
    );
    let token = generate()?;
    let id = storage::tokens::insert(pool, owner, &hash(&token), label)
        .await
        .context("could not store the token")?;
    Ok(NewToken {
        id,
        owner: owner.to_string(),
        token,
    })
}

/// The owner a token reads, when it exists and is not revoked; records its use.
pub async fn owner_of(pool: &PgPool, token: &str) -> sqlx::Result<Option<String>> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    storage::tokens::use_by_hash(pool, &hash(token)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_to_64_hex_digits() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), PREFIX.len() + 64);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
