//! The `blob_analyses` and `blob_dependencies` tables: the analysis cache by blob id.

use sqlx::PgPool;

/// Where a cached report is kept: the blob, its path and a settings key.
#[derive(Debug, Clone, Copy)]
pub struct BlobKey<'a> {
    /// The blob's id.
    pub blob: &'a str,
    /// The file's path.
    pub path: &'a str,
    /// The settings part of the key.
    pub config_hash: &'a str,
}

/// The paths a cached analysis of this blob read besides the blob itself, if it read any.
pub async fn dependencies(pool: &PgPool, k: BlobKey<'_>) -> sqlx::Result<Option<Vec<String>>> {
    let row: Option<(Vec<String>,)> = sqlx::query_as(
        "select paths from blob_dependencies
          where blob_sha = $1 and path = $2 and config_hash = $3",
    )
    .bind(k.blob)
    .bind(k.path)
    .bind(k.config_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(paths,)| paths))
}

/// The cached report under this key, as stored.
pub async fn report(pool: &PgPool, k: BlobKey<'_>) -> sqlx::Result<Option<serde_json::Value>> {
    let row: Option<(serde_json::Value,)> = sqlx::query_as(
        "select report from blob_analyses where blob_sha = $1 and path = $2 and config_hash = $3",
    )
    .bind(k.blob)
    .bind(k.path)
    .bind(k.config_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(report,)| report))
}

/// Remembers the paths an analysis of this blob read.
pub async fn store_dependencies(pool: &PgPool, k: BlobKey<'_>, paths: &[&str]) -> sqlx::Result<()> {
    sqlx::query(
        "insert into blob_dependencies (blob_sha, path, config_hash, paths)
         values ($1, $2, $3, $4)
         on conflict (blob_sha, path, config_hash) do update set paths = excluded.paths",
    )
    .bind(k.blob)
    .bind(k.path)
    .bind(k.config_hash)
    .bind(paths)
    .execute(pool)
    .await?;
    Ok(())
}

/// Caches a report under this key (the first one stays: equal keys mean equal reports).
pub async fn store_report(
    pool: &PgPool,
    k: BlobKey<'_>,
    report: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into blob_analyses (blob_sha, path, config_hash, report) values ($1, $2, $3, $4)
         on conflict (blob_sha, path, config_hash) do nothing",
    )
    .bind(k.blob)
    .bind(k.path)
    .bind(k.config_hash)
    .bind(report)
    .execute(pool)
    .await?;
    Ok(())
}
