//! The `api_tokens` table: report tokens, stored only as their SHA-256.

use sqlx::PgPool;

/// A stored token as `immutabot token list` shows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenInfo {
    /// Its id, for `immutabot token revoke`.
    pub id: i64,
    /// The owner whose report it reads.
    pub owner: String,
    /// Who or what uses it.
    pub label: Option<String>,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last accepted.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Stores a token's hash for `owner`; returns its id.
pub async fn insert(
    pool: &PgPool,
    owner: &str,
    sha256: &str,
    label: Option<&str>,
) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "insert into api_tokens (owner, token_sha256, label) values ($1, $2, $3) returning id",
    )
    .bind(owner)
    .bind(sha256)
    .bind(label)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Every token, oldest first.
pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<TokenInfo>> {
    sqlx::query_as(
        "select id, owner, label, created_at, last_used_at, revoked_at from api_tokens order by id",
    )
    .fetch_all(pool)
    .await
}

/// Revokes a token at once. `false` when no token has this id or it was already revoked.
pub async fn revoke(pool: &PgPool, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update api_tokens set revoked_at = now() where id = $1 and revoked_at is null",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The owner of the live token with this hash, recording its use.
pub async fn use_by_hash(pool: &PgPool, sha256: &str) -> sqlx::Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as(
        "update api_tokens set last_used_at = now()
         where token_sha256 = $1 and revoked_at is null
         returning owner",
    )
    .bind(sha256)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(owner,)| owner))
}
