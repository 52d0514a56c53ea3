//! `immutabot serve` and `immutabot migrate` as a process: settings checked at start, one
//! line per problem; a real start that migrates, answers health checks and stops cleanly.

#[path = "support/fake_github/mod.rs"]
mod fake_github;

use sqlx::PgPool;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn immutabot() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_immutabot"));
    // Nothing from the developer's or CI's environment may leak into these tests.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn missing_and_malformed_settings_stop_the_start_one_line_each() {
    let out = immutabot()
        .args(["serve"])
        .env("GITHUB_APP_ID", "twelve")
        .env("GITHUB_PRIVATE_KEY", "-----BEGIN NOT A KEY-----")
        .env("IMMUTABOT_BIND", "everywhere")
        .env("GITHUB_API_URL", "api.github.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "immutabot serve: DATABASE_URL is not set (e.g. postgres://user@host:5432/immutabot)",
            "immutabot serve: IMMUTABOT_BIND `everywhere` is not an address:port (e.g. 0.0.0.0:8080)",
            "immutabot serve: GITHUB_APP_ID `twelve` is not a positive number",
            "immutabot serve: the GitHub App private key is not an RSA key in PEM form",
            "immutabot serve: GITHUB_WEBHOOK_SECRET is not set (the secret entered in the App's webhook settings)",
            "immutabot serve: GITHUB_API_URL `api.github.com` is not an http(s) URL (e.g. https://api.github.com)",
        ]
    );
    assert!(!stderr.contains("BEGIN NOT A KEY"), "a secret was echoed");
}

#[test]
fn migrate_needs_a_postgres_url() {
    let out = immutabot()
        .args(["migrate"])
        .env("DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "immutabot migrate: DATABASE_URL must start with postgres:// or postgresql://\n"
    );
}

async fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((
        status,
        text.split("\r\n\r\n").nth(1).unwrap_or("").to_string(),
    ))
}

fn url_of(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    )
}

#[sqlx::test(migrations = false)]
async fn serve_migrates_answers_health_checks_and_stops_on_sigterm(pool: PgPool) {
    let fake = fake_github::FakeGitHub::start(7).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = immutabot()
        .args(["serve", "--log-format", "json"])
        .env("DATABASE_URL", url_of(&pool))
        .env("IMMUTABOT_BIND", &addr)
        .env("GITHUB_APP_ID", "7")
        .env("GITHUB_PRIVATE_KEY_FILE", fake_github::TEST_APP_KEY_PEM)
        .env("GITHUB_WEBHOOK_SECRET", "s3cret-value")
        .env("GITHUB_API_URL", fake.url())
        .env("IMMUTABOT_WORKERS", "2")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ready = None;
    while Instant::now() < deadline {
        if let Some((200, body)) = get(&addr, "/readyz").await {
            ready = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        ready.as_deref(),
        Some("ready\n"),
        "serve did not become ready"
    );
    assert_eq!(get(&addr, "/healthz").await.map(|r| r.0), Some(200));
    let (status, metrics) = get(&addr, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("immutabot_queue_depth 0"), "{metrics}");
    let (n,): (i64,) = sqlx::query_as("select count(*) from _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(n >= 1);

    send_sigterm(child.id());
    let status = tokio::task::spawn_blocking(move || {
        let out = child.wait_with_output().unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    assert!(status.0.success(), "exit: {:?}\n{}", status.0, status.1);
    // JSON logs, and no secret in them.
    let first = status.1.lines().next().unwrap_or("");
    assert!(first.starts_with('{'), "{first}");
    assert!(!status.1.contains("s3cret-value") && !status.1.contains("PRIVATE KEY"));
}

fn send_sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}
