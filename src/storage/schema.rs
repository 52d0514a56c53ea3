//! The schema's own bookkeeping: which migrations are applied.

use sqlx::PgPool;

/// Versions of the migrations applied successfully.
pub async fn applied_migrations(pool: &PgPool) -> sqlx::Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as("select version from _sqlx_migrations where success")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|(v,)| v).collect())
}
