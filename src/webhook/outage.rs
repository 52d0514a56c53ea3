//! "The database is unavailable", shared by every delivery. A delivery that finds the
//! database gone must be answered 503 at once, so that the forge records it as failed and the
//! reconciler asks for it again: one that waits for the pool's acquire timeout behind the
//! others is answered after the forge's own timeout (GitHub's is 10 s), or held until the
//! restart. Once one delivery has seen a connection-class error, the next ones do not queue
//! for a connection: they share one cheap probe (a direct connection, refused at once while
//! Postgres is down) and are answered 503 when it fails, recorded as usual as soon as it
//! succeeds.

pub use crate::db::connection_class;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, PgPool, Postgres};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

/// Longest wait for a pooled connection at intake: well inside the forges' timeouts, and
/// far below the pool's own acquire timeout, which workers may spend.
pub const ACQUIRE: Duration = Duration::from_secs(1);

/// Longest wait for the probe's connection (a host that drops packets never refuses).
const PROBE: Duration = Duration::from_millis(500);

/// Whether intake may use the database, and the probe that says when it is back.
pub struct Outage {
    pool: PgPool,
    down: AtomicBool,
    /// Probes finished so far; waiters that arrive during a probe use its result.
    probes: AtomicU64,
    probing: Mutex<()>,
}

impl Outage {
    /// No outage known yet.
    pub fn new(pool: PgPool) -> Outage {
        Outage {
            pool,
            down: AtomicBool::new(false),
            probes: AtomicU64::new(0),
            probing: Mutex::new(()),
        }
    }

    /// Whether a connection-class error was seen and no probe has succeeded since.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Whether intake may go ahead: at once when no outage is known, else after one probe
    /// shared with every delivery that asks while it runs.
    pub async fn available(&self) -> bool {
        if !self.is_down() {
            return true;
        }
        let seen = self.probes.load(Ordering::SeqCst);
        let _probing = self.probing.lock().await;
        if self.probes.load(Ordering::SeqCst) == seen {
            if probe(&self.pool).await {
                self.down.store(false, Ordering::SeqCst);
                tracing::info!("the database answers again; taking deliveries");
            }
            self.probes.fetch_add(1, Ordering::SeqCst);
        }
        !self.is_down()
    }

    /// Marks the database down when `e` says it cannot be reached.
    pub fn note(&self, e: &sqlx::Error) {
        if connection_class(e) && !self.down.swap(true, Ordering::SeqCst) {
            tracing::warn!(error = %e, "database unavailable; answering deliveries 503 until it is back");
        }
    }

    /// A pooled connection within [`ACQUIRE`]; a connection-class error marks the outage.
    pub async fn acquire(&self) -> sqlx::Result<PoolConnection<Postgres>> {
        let got = match tokio::time::timeout(ACQUIRE, self.pool.acquire()).await {
            Ok(got) => got,
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        };
        if let Err(e) = &got {
            self.note(e);
        }
        got
    }
}

/// Whether the database answers: one direct connection, outside the pool (whose acquire
/// keeps retrying a refused connection until its own timeout).
async fn probe(pool: &PgPool) -> bool {
    let options = pool.connect_options();
    match tokio::time::timeout(PROBE, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            true
        }
        _ => false,
    }
}

/// What a delivery refused during a known outage is told.
pub fn unavailable() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "the database is unavailable (it did not answer the last probe)",
    ))
}

/// The same error for each of several waiters (a `sqlx::Error` cannot be cloned): its text,
/// kept connection-class.
pub fn shared(e: &sqlx::Error) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        e.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_are_connection_class_and_a_bad_row_is_not() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(connection_class(&io));
        assert!(connection_class(&sqlx::Error::PoolTimedOut));
        assert!(connection_class(&shared(&sqlx::Error::PoolTimedOut)));
        assert!(!connection_class(&sqlx::Error::RowNotFound));
        assert!(!connection_class(&sqlx::Error::Protocol("bad".into())));
    }
}
