//! A real `immutabot serve` process (the built binary) for the process-level fault tests:
//! configured with environment variables as a deployment would, talking to a fake forge in
//! the test process, killed with SIGKILL when the test says so or when it ends.

use immutabot::forge::github::webhook::signature;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `immutabot serve`.
pub struct Replica {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Where its log goes (kept for a failing test to read).
    pub log: PathBuf,
}

/// A lease short enough that a killed process's job is taken again within a test.
pub const LEASE_SECS: &str = "3";

impl Replica {
    /// Starts a replica on a free port against `database_url` and the fake GitHub at
    /// `github_api`; `env` adds or overrides variables. Returns once `/readyz` answers 200.
    pub async fn start(
        database_url: &str,
        github_api: &str,
        secret: &str,
        env: &[(&str, &str)],
    ) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = std::env::temp_dir().join(format!("immutabot-faults-{port}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_immutabot"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("IMMUTABOT_BIND", &addr)
            .env("GITHUB_APP_ID", "4242")
            .env(
                "GITHUB_PRIVATE_KEY_FILE",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/test-app-key.pem"),
            )
            .env("GITHUB_WEBHOOK_SECRET", secret)
            .env("GITHUB_API_URL", github_api)
            .env("IMMUTABOT_WORKERS", "2")
            .env("IMMUTABOT_JOB_LEASE", LEASE_SECS)
            .env("IMMUTABOT_GITHUB_WRITE_INTERVAL_MS", "0")
            .env("IMMUTABOT_RECONCILE_INTERVAL", "10")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("immutabot serve starts");
        let replica = Replica { child, addr, log };
        replica.wait_ready().await;
        replica
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The webhook URL.
    pub fn webhook_url(&self) -> String {
        format!("http://{}/webhooks/github", self.addr)
    }

    async fn wait_ready(&self) {
        let url = format!("http://{}/readyz", self.addr);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(&url).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("serve did not become ready; log:\n{}", self.log_text());
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no bookkeeping, leases left as they are.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a signed delivery straight to this replica; its status (0: no answer in 10 s).
    pub async fn deliver(&self, secret: &str, event: &str, guid: &str, body: Vec<u8>) -> u16 {
        let sig = signature::sign(secret.as_bytes(), &body);
        let sent = reqwest::Client::new()
            .post(self.webhook_url())
            .timeout(Duration::from_secs(10))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", guid)
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
            .await;
        sent.map_or(0, |r| r.status().as_u16())
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The URL of `pool`'s database (the test databases need no password), reached at
/// `host:port` (a relay in front of it, or the database itself).
pub fn url_at(pool: &sqlx::PgPool, host: &str, port: u16) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{host}:{port}/{}",
        o.get_username(),
        o.get_database().unwrap_or("postgres")
    )
}
