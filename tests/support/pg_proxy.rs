//! A TCP relay in front of Postgres that a test can cut and restore: from the service's side
//! this is exactly a database that goes down and comes back on the same address.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The relay.
pub struct PgProxy {
    addr: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

/// A relay in front of `pool`'s database, and a lazy pool that reaches it through the relay
/// with this acquire timeout.
pub async fn in_front_of(
    pool: &sqlx::PgPool,
    acquire_timeout: std::time::Duration,
) -> (PgProxy, sqlx::PgPool) {
    let opts = pool.connect_options();
    let target = tokio::net::lookup_host(format!("{}:{}", opts.get_host(), opts.get_port()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = PgProxy::start(target).await;
    let via = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with((*opts).clone().host("127.0.0.1").port(proxy.addr().port()));
    (proxy, via)
}

impl PgProxy {
    /// Starts relaying 127.0.0.1:<free port> to `target`.
    pub async fn start(target: SocketAddr) -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let proxy = PgProxy {
            addr,
            target,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Cuts every connection and stops listening: the database is "down".
    pub fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listens again on the same address: the database is "back".
    pub async fn resume(&self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("could not listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }
}
