//! The Postgres connection and its migrations.

use anyhow::Context;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

/// Every migration in `migrations/`, embedded once for the binary and the tests.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Opens a pool without waiting for the database: the service must start (and answer 503)
/// while Postgres is down, and connect once it is back.
pub fn pool(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(url)
        .context("DATABASE_URL is not a usable Postgres URL")
}

/// Applies every pending migration. Safe to run from several replicas at once: sqlx takes an
/// advisory lock.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("could not apply the database migrations")
}

/// Whether the database answers and every embedded migration is applied.
pub async fn ready(pool: &PgPool) -> Result<(), String> {
    let applied = crate::storage::schema::applied_migrations(pool)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let missing = MIGRATOR
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .count();
    if missing == 0 {
        Ok(())
    } else {
        Err(format!(
            "{missing} migration(s) not applied; run `immutabot migrate`"
        ))
    }
}
