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

/// A loopback port with nothing listening: bound, then closed again.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn assert_says_why(text: &str, port: u16) {
    assert!(
        text.contains(&format!("cannot reach the database at 127.0.0.1:{port}")),
        "{text}"
    );
    assert!(text.contains("connection refused"), "{text}");
    assert!(
        text.contains(&format!(
            "DATABASE_URL=postgres://immutabot@127.0.0.1:{port}/app"
        )),
        "{text}"
    );
    assert!(
        !text.contains("hunter2"),
        "the password was printed: {text}"
    );
}

#[test]
fn migrate_says_why_it_cannot_reach_the_database() {
    let port = closed_port();
    let out = immutabot()
        .args(["migrate"])
        .env(
            "DATABASE_URL",
            format!("postgres://immutabot:hunter2@127.0.0.1:{port}/app"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("immutabot migrate: "), "{stderr}");
    assert_says_why(&stderr, port);
}

#[test]
fn serve_logs_why_it_cannot_reach_the_database_and_keeps_trying() {
    use std::io::BufRead;
    let port = closed_port();
    let mut server = Server(
        immutabot()
            .args(["serve"])
            .env(
                "DATABASE_URL",
                format!("postgres://immutabot:hunter2@127.0.0.1:{port}/app"),
            )
            .env("IMMUTABOT_BIND", format!("127.0.0.1:{}", closed_port()))
            .env("GITHUB_APP_ID", "7")
            .env("GITHUB_PRIVATE_KEY_FILE", fake_github::TEST_APP_KEY_PEM)
            .env("GITHUB_WEBHOOK_SECRET", "s3cret-value")
            .env("GITHUB_API_URL", "http://127.0.0.1:9")
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = server.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let line = wait_for_line(&rx, "database not ready");
    assert_says_why(&line, port);
    // Still running: the service waits for its database rather than exiting.
    assert!(matches!(server.0.try_wait(), Ok(None)));
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
    // It migrates, then listens: no delivery meets a server without its schema.
    let at = |needle: &str| status.1.lines().position(|l| l.contains(needle));
    let (migrated, listening) = (at("database schema is current"), at("\"listening\""));
    assert!(
        migrated.is_some() && listening.is_some() && migrated < listening,
        "{}",
        status.1
    );
    assert!(!status.1.contains("s3cret-value") && !status.1.contains("PRIVATE KEY"));
}

/// A server that is killed if the test fails before stopping it: no process outlives a test.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn send_sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Reads the process's standard error until a line contains `needle`; returns that line.
fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no log line with {needle:?}");
}

fn html_unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of `attr="…"` after `marker` in `html`.
fn attribute(html: &str, marker: &str, attr: &str) -> String {
    let from = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {html}"));
    let rest = &html[from..];
    let start = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    let end = rest[start..].find('"').unwrap();
    html_unescape(&rest[start..start + end])
}

/// docs/github-app.md, "With the manifest", step by step against the fake GitHub: start in
/// setup mode, open the link from the log, send the manifest, come back from GitHub, install,
/// and the next pull request gets its review, without a restart.
#[sqlx::test(migrations = false)]
async fn a_newcomer_sets_up_the_app_from_the_manifest_without_a_restart(pool: PgPool) {
    use std::io::BufRead;
    let fake = fake_github::FakeGitHub::start(31337).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let public = format!("http://{addr}");
    let start = || {
        immutabot()
            .args(["serve"])
            .env("DATABASE_URL", url_of(&pool))
            .env("IMMUTABOT_BIND", &addr)
            .env(
                "IMMUTABOT_SECRET_KEY",
                "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            )
            .env("IMMUTABOT_PUBLIC_URL", &public)
            .env("GITHUB_API_URL", fake.url())
            .env("IMMUTABOT_GITHUB_WRITE_INTERVAL_MS", "0")
            .stderr(Stdio::piped())
            .spawn()
            .map(Server)
            .unwrap()
    };
    let follow = |server: &mut Server| {
        let child = &mut server.0;
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        rx
    };
    let mut child = start();
    let log = follow(&mut child);

    // 1. The log says where to go.
    let line = wait_for_line(&log, "create it at ");
    let link = line
        .split("create it at ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert!(
        link.starts_with(&format!("{public}/setup?token=")),
        "{link}"
    );
    let path = link.trim_start_matches(&public).to_string();
    // Without the token from the log, nobody can register an App in our name.
    assert_eq!(get(&addr, "/setup").await.unwrap().0, 403);
    let token = path.split("token=").nth(1).unwrap();
    assert_eq!(token.len(), 32, "16 random bytes in hex: {token}");
    let last = if token.ends_with('0') { '1' } else { '0' };
    let near_miss = format!("/setup?token={}{last}", &token[..token.len() - 1]);
    assert_eq!(get(&addr, &near_miss).await.unwrap().0, 403);

    // 2. The page's button posts the manifest to GitHub.
    let (status, html) = get(&addr, &path).await.unwrap();
    assert_eq!(status, 200, "{html}");
    let action = attribute(&html, "<form method=\"post\"", "action");
    let state = action.split("state=").nth(1).unwrap().to_string();
    assert_eq!(
        action,
        format!("{}/settings/apps/new?state={state}", fake.url())
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&attribute(&html, "name=\"manifest\"", "value")).unwrap();
    assert_eq!(
        manifest["hook_attributes"]["url"],
        format!("{public}/webhooks/github")
    );
    assert_eq!(manifest["redirect_url"], format!("{public}/setup/callback"));
    assert_eq!(
        manifest["default_permissions"],
        serde_json::json!({"checks": "write", "contents": "write", "metadata": "read", "pull_requests": "write"})
    );
    assert_eq!(
        manifest["default_events"],
        serde_json::json!(["pull_request", "push", "check_run", "check_suite"])
    );

    // 3. GitHub creates the App and sends the browser back with a code.
    let code = fake.confirm_manifest(&manifest);
    assert_eq!(
        get(&addr, &format!("/setup/callback?code={code}&state=forged"))
            .await
            .unwrap()
            .0,
        403
    );
    let (status, done) = get(&addr, &format!("/setup/callback?code={code}&state={state}"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{done}");
    assert!(
        done.contains("https://github.com/apps/immutabot-test/installations/new"),
        "{done}"
    );
    assert_eq!(get(&addr, &path).await.unwrap().0, 410, "setup is over");
    // Sealed at rest: the key is not in the database in clear.
    let (sealed,): (Vec<u8>,) = sqlx::query_as("select sealed from app_credentials")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("PRIVATE KEY"));

    // 4. Install it; the next pull request is reviewed by the running service.
    const REPO: &str = "Codertocat/Hello-World";
    fake.add_repo(REPO, 186853002).add_installation(1, &[REPO]);
    let head = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
    let deployment = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: busybox\n";
    fake.set_file(REPO, head, "pod.yaml", deployment.as_bytes().to_vec());
    fake.add_pull_request(
        REPO,
        2,
        "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        "master",
        head,
        vec![fake_github::FileChange::added("pod.yaml", deployment)],
    );
    fake.set_webhook(
        &format!("{public}/webhooks/github"),
        fake_github::MANIFEST_WEBHOOK_SECRET,
    );
    let payload = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/payloads/github/pull_request/opened.payload.json"
    ))
    .unwrap();
    assert_eq!(
        fake.deliver("pull_request", "after-setup", payload).await,
        202
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.reviews(REPO, 2).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        fake.reviews(REPO, 2).len(),
        1,
        "the review came from the App created by /setup"
    );

    // 5. After a restart the stored credentials are used again.
    send_sigterm(child.0.id());
    let _ = tokio::task::spawn_blocking(move || child.0.wait()).await;
    let mut again = start();
    let log = follow(&mut again);
    wait_for_line(&log, "GitHub App credentials loaded");
    assert_eq!(get(&addr, &path).await.map(|r| r.0), Some(410));
    send_sigterm(again.0.id());
    let _ = tokio::task::spawn_blocking(move || again.0.wait()).await;
}
