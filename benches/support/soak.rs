//! Load and soak: `immutabot serve` (a child process) on loopback with its workers reviewing
//! against the fake GitHub (in this process), fed signed `pull_request` deliveries at a fixed
//! rate for a fixed time. Every second it writes one CSV line: deliveries sent and answered,
//! that second's p50/p99 intake latency, queue depth (queued and running jobs, from SQL),
//! reviews posted, and the serve process's resident memory and heap (bytes in use and held from
//! the system, from its `/metrics`). At the end it waits for the queue
//! to drain and prints a summary: nothing lost, nothing repeated. Used by `scripts/soak`.
//!
//! Settings come from the environment (`scripts/soak` sets them): `SOAK_BIN` (the `immutabot`
//! binary), `SOAK_DATABASE_URL` (a fresh database), `SOAK_SECONDS`, `SOAK_RATE` (deliveries per
//! second), `SOAK_CONNECTIONS`, `SOAK_WORKERS`, `SOAK_PORT`, `SOAK_CSV`, `SOAK_DRAIN_SECONDS`,
//! `SOAK_SERVE_LOG`.
//!
//! The load is open: delivery n is due at n / rate seconds, whether or not earlier answers
//! came back, and its latency counts from when it was due. A server that stalls therefore
//! shows its stall in the figures instead of slowing the generator down (no coordinated
//! omission). Each delivery is a new pull request with a new head: a new delivery row, a new
//! job and a full review of its three files (two with a writable container).

#[path = "../../tests/support/fake_github/mod.rs"]
mod fake_github;
mod soak_heap;

use fake_github::{FakeGitHub, FileChange, TEST_APP_KEY_PEM};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/payloads/github/pull_request/opened.payload.json"
);
const REPO: &str = "Codertocat/Hello-World";
const REPO_ID: u64 = 186853002;
const APP_ID: u64 = 1;
const SECRET: &str = "soak-secret";

struct Settings {
    bin: String,
    database_url: String,
    seconds: u64,
    rate: f64,
    connections: usize,
    workers: usize,
    port: u16,
    csv: String,
    drain_seconds: u64,
    serve_log: String,
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            bin: env("SOAK_BIN", "target/release/immutabot".to_string()),
            database_url: std::env::var("SOAK_DATABASE_URL").expect("SOAK_DATABASE_URL"),
            seconds: env("SOAK_SECONDS", 600),
            rate: env("SOAK_RATE", 50.0),
            connections: env("SOAK_CONNECTIONS", 16),
            workers: env("SOAK_WORKERS", 4),
            port: env("SOAK_PORT", 18090),
            csv: env("SOAK_CSV", "target/soak.csv".to_string()),
            drain_seconds: env("SOAK_DRAIN_SECONDS", 300),
            serve_log: env("SOAK_SERVE_LOG", "target/soak-serve.log".to_string()),
        }
    }
}

/// A Deployment whose first container is writable (one finding) and second is not.
fn manifest(n: u64, i: usize) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-{n}-{i}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/svc:{n}\n        - name: cache\n          image: redis:7\n          securityContext:\n            readOnlyRootFilesystem: true\n"
    )
}

const COMPOSE: &str = "services:\n  web:\n    image: nginx:1.27\n    read_only: true\n";

/// Registers pull request `n` in the fake: three files at its own head.
fn register(fake: &FakeGitHub, n: u64) {
    let head = head(n);
    let mut files = Vec::new();
    for i in 0..2 {
        let path = format!("deploy/svc-{i}.yaml");
        let text = manifest(n, i);
        fake.set_file(REPO, &head, &path, text.clone().into_bytes());
        files.push(FileChange::added(&path, &text));
    }
    fake.set_file(REPO, &head, "compose.yaml", COMPOSE.as_bytes().to_vec());
    files.push(FileChange::added("compose.yaml", COMPOSE));
    fake.add_pull_request(REPO, n, &base(), "master", &head, files);
}

fn head(n: u64) -> String {
    format!("{:040x}", 0x5000_0000_u64 + n)
}

fn base() -> String {
    "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into()
}

/// One complete HTTP/1.1 request: headers and a body of its own, signed.
fn request(port: u16, template: &serde_json::Value, n: u64) -> Vec<u8> {
    let mut v = template.clone();
    v["number"] = n.into();
    v["pull_request"]["number"] = n.into();
    v["pull_request"]["head"]["sha"] = head(n).into();
    let body = serde_json::to_vec(&v).unwrap();
    let sig = immutabot::forge::github::webhook::signature::sign(SECRET.as_bytes(), &body);
    let mut request = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: soak-{n}\r\n\
         X-Hub-Signature-256: {sig}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

/// One answered delivery: how long after it was due, and its status (0: no answer).
struct Answer {
    latency: Duration,
    status: u16,
}

struct Due {
    at: Instant,
    request: Vec<u8>,
}

async fn connect(port: u16) -> BufReader<TcpStream> {
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)).await {
            s.set_nodelay(true).unwrap();
            return BufReader::new(s);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends one request on a keep-alive connection and reads the answer; the status, or an I/O
/// error when the connection broke.
async fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<u16> {
    stream.get_mut().write_all(request).await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut rest = vec![0; length];
    stream.read_exact(&mut rest).await?;
    Ok(status)
}

async fn connection(
    port: u16,
    due: Arc<Mutex<mpsc::Receiver<Due>>>,
    answers: mpsc::UnboundedSender<Answer>,
) {
    let mut stream = connect(port).await;
    loop {
        let next = due.lock().await.recv().await;
        let Some(d) = next else { return };
        let status = match exchange(&mut stream, &d.request).await {
            Ok(s) => s,
            Err(_) => {
                stream = connect(port).await;
                0
            }
        };
        let _ = answers.send(Answer {
            latency: d.at.elapsed(),
            status,
        });
    }
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn load1() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .next()
        .unwrap_or("")
        .to_string()
}

async fn queue_depth(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "select count(*) filter (where state = 'queued'), count(*) filter (where state = 'running') \
         from jobs where state in ('queued', 'running')",
    )
    .fetch_one(pool)
    .await
    .unwrap_or((-1, -1))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1e3
}

fn start_serve(s: &Settings, api_url: &str) -> std::process::Child {
    let log = std::fs::File::create(&s.serve_log).expect("serve log");
    std::process::Command::new(&s.bin)
        .arg("serve")
        .env("DATABASE_URL", &s.database_url)
        .env("IMMUTABOT_BIND", format!("127.0.0.1:{}", s.port))
        .env("GITHUB_APP_ID", APP_ID.to_string())
        .env("GITHUB_PRIVATE_KEY_FILE", TEST_APP_KEY_PEM)
        .env("GITHUB_WEBHOOK_SECRET", SECRET)
        .env("GITHUB_API_URL", api_url)
        .env("IMMUTABOT_WORKERS", s.workers.to_string())
        // One installation receives everything here; GitHub's 1 s between writes per
        // installation would make the run measure the pacing, not the service.
        .env("IMMUTABOT_GITHUB_WRITE_INTERVAL_MS", "0")
        .env("RUST_LOG", "warn")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("immutabot serve starts")
}

async fn wait_ready(port: u16) {
    for _ in 0..300 {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await {
            let req = format!(
                "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            );
            let mut answer = String::new();
            if s.write_all(req.as_bytes()).await.is_ok()
                && s.read_to_string(&mut answer).await.is_ok()
                && answer.starts_with("HTTP/1.1 200")
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("immutabot serve did not become ready");
}

/// What the run counted, for the summary.
#[derive(Default)]
struct Totals {
    sent: u64,
    answered: u64,
    statuses: BTreeMap<u16, u64>,
    latencies: Vec<Duration>,
    reviewed: BTreeMap<u64, usize>,
    requests_to_github: u64,
    rss_first: u64,
    rss_last_loaded: u64,
    rss_peak: u64,
    depth_peak: i64,
    /// (second, heap) at the first second, every `HEAP_EVERY` seconds of load and after the drain.
    heap: Vec<(u64, soak_heap::Heap)>,
}

/// How often the summary shows the heap (the CSV has it every second).
const HEAP_EVERY: u64 = 60;

#[tokio::main]
async fn main() {
    let s = Settings::from_env();
    let fake = Arc::new(FakeGitHub::start(APP_ID).await);
    fake.add_repo(REPO, REPO_ID).add_installation(1, &[REPO]);
    // GitHub gives an installation 5,000 calls an hour (more for large organisations): about
    // 400 reviews. The soak measures the service, not that budget.
    let reset = chrono::Utc::now().timestamp() + 86_400;
    fake.set_rate_limit("core", u64::MAX / 4, reset)
        .set_rate_limit("graphql", u64::MAX / 4, reset);
    let mut serve = start_serve(&s, &fake.url());
    let pid = serve.id();
    wait_ready(s.port).await;
    let pool = immutabot::db::pool(&s.database_url, 2).unwrap();
    let template: serde_json::Value =
        serde_json::from_slice(&std::fs::read(FIXTURE).unwrap()).unwrap();

    let (due_tx, due_rx) = mpsc::channel::<Due>(100_000);
    let due_rx = Arc::new(Mutex::new(due_rx));
    let (answer_tx, mut answers) = mpsc::unbounded_channel::<Answer>();
    for _ in 0..s.connections {
        tokio::spawn(connection(s.port, due_rx.clone(), answer_tx.clone()));
    }
    drop(answer_tx);

    let sent = Arc::new(AtomicU64::new(0));
    let total = (s.rate * s.seconds as f64) as u64;
    let started = Instant::now();
    let dispatcher = {
        let (fake, sent, port) = (fake.clone(), sent.clone(), s.port);
        tokio::spawn(async move {
            for n in 0..total {
                let at = started + Duration::from_secs_f64(n as f64 / s.rate);
                tokio::time::sleep_until(at.into()).await;
                register(&fake, n + 1);
                let request = request(port, &template, n + 1);
                if due_tx.send(Due { at, request }).await.is_err() {
                    return;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let mut csv = std::fs::File::create(&s.csv).expect("CSV file");
    writeln!(
        csv,
        "second,phase,sent,answered,non_2xx,p50_ms,p99_ms,queued,running,reviews_total,rss_kb,load1,heap_in_use_kb,heap_system_kb"
    )
    .unwrap();
    let mut t = Totals::default();
    let mut tick = tokio::time::interval_at(
        (started + Duration::from_secs(1)).into(),
        Duration::from_secs(1),
    );
    // A sample that took longer than a second (a saturated database) is not made up for.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let deadline = started + Duration::from_secs(s.seconds + s.drain_seconds);
    let mut last_sent = 0;
    loop {
        tick.tick().await;
        let mut this = Vec::new();
        let mut non_2xx = 0;
        while let Ok(a) = answers.try_recv() {
            if !(200..300).contains(&a.status) {
                non_2xx += 1;
            }
            *t.statuses.entry(a.status).or_default() += 1;
            this.push(a.latency);
        }
        this.sort();
        let sent_now = sent.load(Ordering::Relaxed);
        let (forgotten, requests) = fake.forget_reviewed(REPO);
        t.requests_to_github += requests as u64;
        for (n, reviews) in forgotten {
            *t.reviewed.entry(n).or_default() += reviews;
        }
        let (queued, running) = queue_depth(&pool).await;
        let rss = rss_kb(pid);
        let loading = Instant::now() < started + Duration::from_secs(s.seconds);
        if t.rss_first == 0 {
            t.rss_first = rss;
        }
        if loading {
            t.rss_last_loaded = rss;
        }
        t.rss_peak = t.rss_peak.max(rss);
        let second = started.elapsed().as_secs();
        let heap = soak_heap::read(pid, s.port).await;
        if let Some(h) = heap
            && (second == 1 || (loading && second.is_multiple_of(HEAP_EVERY)))
        {
            t.heap.push((second, h));
        }
        t.depth_peak = t.depth_peak.max(queued + running);
        t.answered += this.len() as u64;
        writeln!(
            csv,
            "{:.1},{},{},{},{non_2xx},{:.2},{:.2},{queued},{running},{},{rss},{},{},{}",
            started.elapsed().as_secs_f64(),
            if loading { "load" } else { "drain" },
            sent_now - last_sent,
            this.len(),
            percentile(&this, 0.50),
            percentile(&this, 0.99),
            t.reviewed.len(),
            load1(),
            heap.map_or(String::new(), |h| (h.in_use / 1024).to_string()),
            heap.map_or(String::new(), |h| (h.system / 1024).to_string()),
        )
        .unwrap();
        csv.flush().unwrap();
        last_sent = sent_now;
        t.latencies.extend(this);
        t.sent = sent_now;
        let drained = !loading
            && dispatcher.is_finished()
            && t.answered == t.sent
            && queued == 0
            && running == 0
            && t.reviewed.len() as u64 >= t.sent;
        if drained || Instant::now() > deadline {
            break;
        }
    }
    let drained_after = started.elapsed().as_secs_f64() - s.seconds as f64;
    if let Some(h) = soak_heap::read(pid, s.port).await {
        t.heap.push((started.elapsed().as_secs(), h));
    }
    let (queued, running) = queue_depth(&pool).await;
    // Review jobs only: the service's own periodic scan of the repository finds no default
    // branch in the fake and is dead at once, which says nothing of the load.
    let dead: (i64,) = sqlx::query_as(
        "select count(*) from jobs where state = 'dead' and kind = 'review_pull_request'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let _ = serve.wait();
    summary(&s, &t, drained_after, queued + running, dead.0);
}

fn summary(s: &Settings, t: &Totals, drained_after: f64, left: i64, dead: i64) {
    let mut lat = t.latencies.clone();
    lat.sort();
    let duplicates = t.reviewed.values().filter(|&&c| c > 1).count();
    // Not reviewed and not queued either: lost. Still queued when the drain time ran out is
    // said apart.
    let lost = t
        .sent
        .saturating_sub(t.reviewed.len() as u64)
        .saturating_sub(left.max(0) as u64);
    let ok: u64 = t
        .statuses
        .iter()
        .filter(|(c, _)| (200..300).contains(*c))
        .map(|(_, n)| n)
        .sum();
    println!(
        "soak: {} s at {} deliveries/s over {} connections, {} workers",
        s.seconds, s.rate, s.connections, s.workers
    );
    println!(
        "deliveries: sent {}, answered {} ({} 2xx), statuses {:?}; {:.1} answered/s",
        t.sent,
        t.answered,
        ok,
        t.statuses,
        t.answered as f64 / s.seconds as f64
    );
    println!(
        "intake latency (from when each delivery was due): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
        percentile(&lat, 0.50),
        percentile(&lat, 0.90),
        percentile(&lat, 0.99),
        percentile(&lat, 0.999),
        lat.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
    );
    println!(
        "reviews: {} pull requests reviewed, duplicates {duplicates}, lost {lost}, dead review jobs {dead}, still queued {left}; drained {drained_after:.1} s after the load stopped; GitHub calls per review {:.1}",
        t.reviewed.len(),
        t.requests_to_github as f64 / t.reviewed.len().max(1) as f64,
    );
    println!(
        "serve RSS: first second {} MB, last second of load {} MB, peak {} MB; queue depth peak {}",
        t.rss_first / 1024,
        t.rss_last_loaded / 1024,
        t.rss_peak / 1024,
        t.depth_peak
    );
    if t.heap.is_empty() {
        println!("heap: not read (/metrics has no heap gauges: not glibc?)");
    }
    for (second, h) in &t.heap {
        println!(
            "heap at {second} s: in use {:.1} MB, from the system {:.1} MB; {} threads, {} open files",
            h.in_use as f64 / 1e6,
            h.system as f64 / 1e6,
            h.threads,
            h.fds
        );
    }
}
