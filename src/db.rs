//! The Postgres connection and its migrations.

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{Connection, PgPool};
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
    match MIGRATOR.run(pool).await {
        Ok(()) => Ok(()),
        Err(sqlx::migrate::MigrateError::Execute(e)) if unreachable(&e) => {
            Err(explain(pool, e).await)
        }
        Err(e) => Err(anyhow::Error::new(e).context("could not apply the database migrations")),
    }
}

/// Whether `e` means that no connection could be made at all, rather than a failed query.
pub fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Refused at the door: authentication (class 28), or no such database.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("28") || c == "3D000"),
        _ => false,
    }
}

/// Whether `e` means the database could not be reached or dropped the connection, rather
/// than refusing one statement: then the next statement fails the same way until it is back.
pub fn connection_class(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        // Class 08 (connection exception), 57P01-57P03 (shutting down, starting up).
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
            }) =>
        {
            true
        }
        _ => unreachable(e),
    }
}

/// Says which database could not be reached and why, without the password. The pool only
/// knows that it "timed out while waiting for an open connection" (the connect error behind
/// it, such as a refused connection, is dropped), so then one direct connection brings the
/// reason back.
pub async fn explain(pool: &PgPool, error: sqlx::Error) -> anyhow::Error {
    let options = pool.connect_options();
    let reason = if matches!(error, sqlx::Error::PoolTimedOut) {
        let direct =
            tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&options))
                .await;
        match direct {
            Ok(Ok(conn)) => {
                // The database answers now: the pool was only busy, or it just came back.
                let _ = conn.close().await;
                return anyhow::Error::new(error)
                    .context("no database connection was free in time");
            }
            Ok(Err(e)) => why(&e),
            Err(_) => "no answer within 5 s (a firewall dropping packets, or a wrong host)".into(),
        }
    } else {
        why(&error)
    };
    anyhow::anyhow!(
        "cannot reach the database at {}: {reason} (DATABASE_URL={})",
        target(&options),
        redacted_url(&options)
    )
}

/// Whether the database answers and every embedded migration is applied.
pub async fn ready(pool: &PgPool) -> Result<(), String> {
    let applied = match crate::storage::schema::applied_migrations(pool).await {
        Ok(versions) => versions,
        Err(e) if unreachable(&e) => return Err(format!("{:#}", explain(pool, e).await)),
        Err(e) => return Err(format!("database: {e}")),
    };
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

/// What went wrong, in the words an operator searches for, with a hint where one helps.
fn why(e: &sqlx::Error) -> String {
    use std::io::ErrorKind;
    match e {
        sqlx::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => {
                "connection refused (is Postgres running and listening there?)".into()
            }
            ErrorKind::TimedOut => format!("connection timed out ({io})"),
            // sqlx's own wrapper only adds "error communicating with database".
            _ => chain(io),
        },
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01" | "28000") => format!("authentication failed ({})", db.message()),
            Some("3D000") => format!("{} (create it, or fix the URL's path)", db.message()),
            _ => db.message().to_string(),
        },
        _ => chain(e),
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        // sqlx often repeats its source in its own message.
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn target(o: &PgConnectOptions) -> String {
    match o.get_socket() {
        Some(dir) => format!("{} (Unix socket, port {})", dir.display(), o.get_port()),
        None => host_port(o),
    }
}

fn host_port(o: &PgConnectOptions) -> String {
    let host = o.get_host();
    // sqlx keeps an IPv6 literal's brackets when it came from a URL, not from PGHOST.
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{}", o.get_port())
    } else {
        format!("{host}:{}", o.get_port())
    }
}

/// The URL the options came from, rebuilt from its parts so that no password can be in it.
fn redacted_url(o: &PgConnectOptions) -> String {
    let host = match o.get_socket() {
        Some(_) => String::new(),
        None => host_port(o),
    };
    format!(
        "postgres://{}@{host}/{}",
        o.get_username(),
        o.get_database().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, String) {
        let o: PgConnectOptions = url.parse().unwrap();
        (target(&o), redacted_url(&o))
    }

    #[test]
    fn the_target_and_url_never_carry_the_password() {
        assert_eq!(
            parts("postgres://app:hunter2@db.internal:5433/immutabot?sslmode=require"),
            (
                "db.internal:5433".to_string(),
                "postgres://app@db.internal:5433/immutabot".to_string()
            )
        );
        assert_eq!(
            parts("postgresql://app:hunter2@[::1]/immutabot"),
            (
                "[::1]:5432".to_string(),
                "postgres://app@[::1]:5432/immutabot".to_string()
            )
        );
        let (target, url) = parts("postgres://app:hunter2@%2Frun%2Fpostgresql/immutabot");
        assert_eq!(target, "/run/postgresql (Unix socket, port 5432)");
        assert_eq!(url, "postgres://app@/immutabot");
    }
}
