//! Load generator for the webhook endpoint: signed `pull_request` deliveries, each for its
//! own pull request and head commit (so every one is a new job: the full durable insert),
//! over keep-alive HTTP/1.1 connections on loopback. Prints deliveries per second and the
//! latency distribution. Used by `scripts/bench-service`.
//!
//!   cargo run --release --example intake-load -- ADDR SECRET REQUESTS CONNECTIONS [FIRST]
//!
//! Every request has its own body and its own HMAC signature, as GitHub sends them. They are
//! built before the clock starts, as `wrk` sends prepared requests: on a 2-core machine the
//! generator's own JSON and HMAC work would otherwise take CPU from the server it measures.

use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/payloads/github/pull_request/opened.payload.json"
);

fn body(template: &serde_json::Value, n: u64) -> Vec<u8> {
    let mut v = template.clone();
    v["number"] = (n + 1).into();
    v["pull_request"]["number"] = (n + 1).into();
    v["pull_request"]["head"]["sha"] = format!("{:040x}", n + 1).into();
    serde_json::to_vec(&v).unwrap()
}

/// One complete HTTP/1.1 request: headers and a signed body of its own.
fn request(addr: &str, secret: &str, template: &serde_json::Value, n: u64, run: u64) -> Vec<u8> {
    let body = body(template, n);
    let sig = immutabot::forge::github::webhook::signature::sign(secret.as_bytes(), &body);
    let mut request = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: load-{run}-{n}\r\n\
         X-Hub-Signature-256: {sig}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

async fn connection(addr: String, requests: Vec<Vec<u8>>) -> (Vec<Duration>, Vec<u16>) {
    let stream = TcpStream::connect(&addr).await.expect("server reachable");
    stream.set_nodelay(true).unwrap();
    let mut stream = BufReader::new(stream);
    let mut latencies = Vec::with_capacity(requests.len());
    let mut statuses = Vec::with_capacity(requests.len());
    for request in requests {
        let started = Instant::now();
        stream.get_mut().write_all(&request).await.unwrap();
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut rest = vec![0; length];
        stream.read_exact(&mut rest).await.unwrap();
        latencies.push(started.elapsed());
        statuses.push(status);
    }
    (latencies, statuses)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: intake-load ADDR SECRET REQUESTS CONNECTIONS [RUN-ID]");
        std::process::exit(2);
    }
    let (addr, secret) = (args[1].clone(), args[2].clone());
    let total: u64 = args[3].parse().unwrap();
    let conns: u64 = args[4].parse().unwrap();
    let run: u64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(0);
    let template: serde_json::Value =
        serde_json::from_slice(&std::fs::read(FIXTURE).unwrap()).unwrap();
    let prepared: Vec<Vec<Vec<u8>>> = (0..conns)
        .map(|c| {
            (0..total)
                .filter(|n| n % conns == c)
                .map(|n| request(&addr, &secret, &template, run * 10_000_000 + n, run))
                .collect()
        })
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|requests| tokio::spawn(connection(addr.clone(), requests)))
        .collect();
    let mut latencies = Vec::new();
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        let (l, s) = t.await.unwrap();
        latencies.extend(l);
        for code in s {
            *statuses.entry(code).or_insert(0u64) += 1;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{total} deliveries over {conns} connections in {:.2} s: {:.0} deliveries/s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; statuses {statuses:?}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(latencies[latencies.len() - 1]),
    );
}
