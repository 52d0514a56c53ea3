//! `immutabot probe URL`: a health check for images without a shell or curl (ours is
//! distroless). One plain-HTTP GET with a timeout; exit 0 on a 2xx answer, 1 otherwise.
//! Meant for loopback (`http://127.0.0.1:8080/readyz` in a Compose `healthcheck`), so it
//! speaks neither TLS nor redirects on purpose.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Arguments of `immutabot probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The URL to GET, plain http (e.g. http://127.0.0.1:8080/readyz).
    pub url: String,
    /// Seconds to wait for the connection and the answer.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
}

/// Exit code 0 when the URL answers 2xx, 1 when it answers otherwise or not at all, 2 on a
/// URL this probe cannot use.
pub fn run(args: &ProbeArgs) -> u8 {
    let Some((authority, path)) = split(&args.url) else {
        eprintln!("immutabot probe: `{}` is not an http:// URL", args.url);
        return 2;
    };
    match get(authority, path, Duration::from_secs(args.timeout.max(1))) {
        Ok(status) if (200..300).contains(&status) => 0,
        Ok(status) => {
            eprintln!("immutabot probe: {} answered {status}", args.url);
            1
        }
        Err(e) => {
            eprintln!("immutabot probe: {}: {e}", args.url);
            1
        }
    }
}

/// `http://host:port/path` into (`host:port`, `/path`); the port defaults to 80.
fn split(url: &str) -> Option<(String, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return None;
    }
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok());
    Some((
        if has_port {
            authority.to_string()
        } else {
            format!("{authority}:80")
        },
        path,
    ))
}

fn get(authority: String, path: &str, timeout: Duration) -> std::io::Result<u16> {
    let addr = authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )?;
    // The status line is all we need: "HTTP/1.1 200 OK".
    let mut head = [0u8; 64];
    let mut n = 0;
    while n < 12 {
        match stream.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    std::str::from_utf8(&head[..n])
        .ok()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP answer"))
}
