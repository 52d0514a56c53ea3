//! The App's credentials at rest: what the `/setup` flow receives from GitHub, sealed with
//! ChaCha20-Poly1305 under `IMMUTABOT_SECRET_KEY` before it touches the database.

use crate::storage::credentials::{self, SealedRow};
use anyhow::Context;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

/// What GitHub hands over when an App is created from the manifest.
#[derive(Clone)]
pub struct AppCredentials {
    /// The App's id.
    pub app_id: u64,
    /// The App's URL name.
    pub slug: String,
    /// Its page on GitHub (where "Install" is).
    pub html_url: String,
    /// Private key, PEM.
    pub private_key: SecretString,
    /// Webhook secret.
    pub webhook_secret: SecretString,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    private_key: String,
    webhook_secret: String,
}

/// The 32-byte key from its 64 hex digits.
pub fn parse_key(hex_key: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| {
        "IMMUTABOT_SECRET_KEY must be 64 hex digits (openssl rand -hex 32)".to_string()
    })?;
    bytes.try_into().map_err(|_| {
        "IMMUTABOT_SECRET_KEY must be 64 hex digits (openssl rand -hex 32)".to_string()
    })
}

/// Seals and stores the credentials (one App per installation of immutabot).
pub async fn store(pool: &PgPool, key: &[u8; 32], c: &AppCredentials) -> anyhow::Result<()> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    // A nonce must never repeat under one key: from the operating system, not a seeded
    // fast generator.
    let mut nonce_bytes = [0u8; 12];
    getrandom::fill(&mut nonce_bytes)
        .map_err(|e| anyhow::anyhow!("the operating system gave no random bytes: {e}"))?;
    let plain = serde_json::to_vec(&Sealed {
        private_key: c.private_key.expose_secret().to_string(),
        webhook_secret: c.webhook_secret.expose_secret().to_string(),
    })?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce_bytes), plain.as_slice())
        .map_err(|_| anyhow::anyhow!("could not seal the App credentials"))?;
    let row = SealedRow {
        app_id: c.app_id as i64,
        slug: c.slug.clone(),
        html_url: c.html_url.clone(),
        nonce: nonce_bytes.to_vec(),
        sealed,
    };
    credentials::store(pool, &row)
        .await
        .context("could not store the App credentials")?;
    Ok(())
}

/// The stored credentials, if setup was done; an error when they cannot be opened (another
/// key).
pub async fn load(pool: &PgPool, key: &[u8; 32]) -> anyhow::Result<Option<AppCredentials>> {
    let Some(SealedRow {
        app_id,
        slug,
        html_url,
        nonce,
        sealed,
    }) = credentials::load(pool).await?
    else {
        return Ok(None);
    };
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let plain = cipher
        .decrypt(Nonce::from_slice(&nonce), sealed.as_slice())
        .map_err(|_| {
            anyhow::anyhow!(
                "the stored App credentials cannot be opened with this IMMUTABOT_SECRET_KEY"
            )
        })?;
    let s: Sealed = serde_json::from_slice(&plain)?;
    Ok(Some(AppCredentials {
        app_id: app_id as u64,
        slug,
        html_url,
        private_key: SecretString::from(s.private_key),
        webhook_secret: SecretString::from(s.webhook_secret),
    }))
}
