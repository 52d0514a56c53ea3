//! The `app_credentials` table: the App's sealed credentials from `/setup` (one row).

use sqlx::PgPool;

/// The stored row: what is public, and the sealed secrets with their nonce.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SealedRow {
    /// The App's id.
    pub app_id: i64,
    /// Its URL name.
    pub slug: String,
    /// Its page on GitHub.
    pub html_url: String,
    /// The ChaCha20-Poly1305 nonce.
    pub nonce: Vec<u8>,
    /// The sealed secrets.
    pub sealed: Vec<u8>,
}

/// Stores the credentials, replacing any before.
pub async fn store(pool: &PgPool, row: &SealedRow) -> sqlx::Result<()> {
    sqlx::query(
        "insert into app_credentials (id, app_id, slug, html_url, nonce, sealed) values (1, $1, $2, $3, $4, $5)
         on conflict (id) do update set app_id = $1, slug = $2, html_url = $3, nonce = $4, sealed = $5,
             created_at = now()",
    )
    .bind(row.app_id)
    .bind(&row.slug)
    .bind(&row.html_url)
    .bind(&row.nonce)
    .bind(&row.sealed)
    .execute(pool)
    .await?;
    Ok(())
}

/// The stored credentials, if setup was done.
pub async fn load(pool: &PgPool) -> sqlx::Result<Option<SealedRow>> {
    sqlx::query_as("select app_id, slug, html_url, nonce, sealed from app_credentials where id = 1")
        .fetch_optional(pool)
        .await
}
