//! One installation's access token, minted on demand and reused until shortly before it
//! expires (tokens live an hour; minting costs a request and an RSA signature).

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use tokio::sync::Mutex;

/// A token is replaced this long before GitHub's `expires_at`, so a request that starts with
/// it (and may wait out a retry) does not arrive with an expired one.
const REFRESH_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// A minted installation token and its expiry.
#[derive(Debug, Clone)]
pub(crate) struct Minted {
    /// The `ghs_…` token.
    pub(crate) secret: SecretString,
    /// GitHub's `expires_at`.
    pub(crate) expires_at: DateTime<Utc>,
}

/// The cache; the lock is held while minting so concurrent requests mint one token, not many.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    slot: Mutex<Option<Minted>>,
}

impl TokenCache {
    /// The cached token when still good, else a fresh one from `mint`.
    pub(crate) async fn get<E, F, Fut>(&self, mint: F) -> Result<SecretString, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Minted, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref()
            && token.expires_at - Utc::now() > REFRESH_MARGIN
        {
            return Ok(token.secret.clone());
        }
        let minted = mint().await?;
        let secret = minted.secret.clone();
        *slot = Some(minted);
        Ok(secret)
    }

    /// Forgets `refused` after a 401, unless another request already replaced it.
    pub(crate) async fn invalidate(&self, refused: &SecretString) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|t| {
            crate::auth::constant_time::eq(
                t.secret.expose_secret().as_bytes(),
                refused.expose_secret().as_bytes(),
            )
        }) {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn minted(name: &str, minutes: i64) -> Minted {
        Minted {
            secret: SecretString::from(name.to_string()),
            expires_at: Utc::now() + chrono::TimeDelta::minutes(minutes),
        }
    }

    async fn get(cache: &TokenCache, mints: &AtomicUsize, minutes: i64) -> String {
        cache
            .get(|| async {
                let n = mints.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(minted(&format!("t{n}"), minutes))
            })
            .await
            .unwrap()
            .expose_secret()
            .to_string()
    }

    #[tokio::test]
    async fn a_good_token_is_reused() {
        let (cache, mints) = (TokenCache::default(), AtomicUsize::new(0));
        assert_eq!(get(&cache, &mints, 60).await, "t0");
        assert_eq!(get(&cache, &mints, 60).await, "t0");
        assert_eq!(mints.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_about_to_expire_is_replaced() {
        let (cache, mints) = (TokenCache::default(), AtomicUsize::new(0));
        assert_eq!(get(&cache, &mints, 1).await, "t0");
        assert_eq!(get(&cache, &mints, 60).await, "t1");
        assert_eq!(get(&cache, &mints, 60).await, "t1");
    }

    #[tokio::test]
    async fn invalidation_forgets_only_the_refused_token() {
        let (cache, mints) = (TokenCache::default(), AtomicUsize::new(0));
        assert_eq!(get(&cache, &mints, 60).await, "t0");
        cache
            .invalidate(&SecretString::from("other".to_string()))
            .await;
        assert_eq!(get(&cache, &mints, 60).await, "t0");
        cache
            .invalidate(&SecretString::from("t0".to_string()))
            .await;
        assert_eq!(get(&cache, &mints, 60).await, "t1");
    }

    #[tokio::test]
    async fn a_failed_mint_caches_nothing() {
        let cache = TokenCache::default();
        let failed = cache.get(|| async { Err::<Minted, _>("down") }).await;
        assert_eq!(failed.unwrap_err(), "down");
        let mints = AtomicUsize::new(0);
        assert_eq!(get(&cache, &mints, 60).await, "t0");
    }
}
