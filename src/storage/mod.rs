//! Every SQL statement of the service, one file per group of tables. Callers keep their
//! logic and pass our own small types; what sqlx shows of itself is the pool, a transaction
//! and its error.
//!
//! Queries use `sqlx::query_as` at run time (README, design notes), and every one of them
//! runs in the test suite against a real Postgres.

/// The end of a weekly trend statement: from `per_week` (each week's differences of repos,
/// units, read_only, suppressed, writable, unknown) to one row per week from the first to
/// the week of `$now` (a placeholder such as `"$2"`), with the running sums (`WeekRow`).
/// A macro, so that the statements stay literals.
macro_rules! weekly_running_sums {
    ($now:literal) => {
        concat!(
            "weeks as (
             select generate_series(
                        (select min(week) from per_week),
                        date_trunc('week', ",
            $now,
            " at time zone 'UTC')::date,
                        interval '7 days')::date as week
         )
         select weeks.week + 6 as week_end,
                (sum(coalesce(p.repos, 0)) over run)::bigint as repositories,
                (sum(coalesce(p.units, 0)) over run)::bigint as units,
                (sum(coalesce(p.read_only, 0)) over run)::bigint as read_only,
                (sum(coalesce(p.suppressed, 0)) over run)::bigint as suppressed,
                (sum(coalesce(p.writable, 0)) over run)::bigint as writable,
                (sum(coalesce(p.unknown, 0)) over run)::bigint as unknown
         from weeks left join per_week p on p.week = weeks.week
         window run as (order by weeks.week)
         order by weeks.week"
        )
    };
}

pub mod blobs;
pub mod checks;
pub mod credentials;
pub mod deliveries;
pub mod exemptions;
pub mod fix_pulls;
pub mod jobs;
pub mod owners;
pub mod report;
pub mod repositories;
pub mod scans;
pub mod schema;
pub mod sign_in_states;
pub mod tokens;

/// A transaction on the service's database.
pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Postgres>;

/// Runs a delete that takes an age in seconds (`$1`) and a row limit (`$2`); returns the
/// rows deleted. Retention deletes in chunks, so that no statement holds its locks for long.
async fn delete_older(
    pool: &sqlx::PgPool,
    delete: &'static str,
    keep: std::time::Duration,
    limit: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(delete)
        .bind(keep.as_secs_f64())
        .bind(limit)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Serialises work on one key (a pull request, a repository) until the transaction ends.
pub async fn lock_key(tx: &mut Tx<'_>, key: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtext($1))")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
