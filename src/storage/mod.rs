//! Every SQL statement of the service, one file per group of tables. Callers keep their
//! logic and pass our own small types; what sqlx shows of itself is the pool, a transaction
//! and its error.
//!
//! Queries use `sqlx::query_as` at run time (README, design notes), and every one of them
//! runs in the test suite against a real Postgres.

pub mod blobs;
pub mod checks;
pub mod credentials;
pub mod deliveries;
pub mod jobs;
pub mod report;
pub mod repositories;
pub mod scans;
pub mod schema;
pub mod tokens;

/// A transaction on the service's database.
pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Postgres>;

/// Serialises work on one key (a pull request, a repository) until the transaction ends.
pub async fn lock_key(tx: &mut Tx<'_>, key: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtext($1))")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
