//! The serve process's heap as glibc's allocator sees it, read from its own `/metrics`
//! (`immutabot_heap_in_use_bytes`, `immutabot_heap_system_bytes`; src/server/heap.rs). "in use"
//! is what the program holds; "system" is what the allocator got from the kernel. RSS alone
//! cannot tell a leak (in use grows) from an allocator that keeps freed pages in its arenas
//! (system grows, in use does not). An earlier version attached gdb to call `malloc_stats()`:
//! that stopped the service for 2 to 30 s each time and showed in the latency as stalls.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One reading of the heap.
#[derive(Debug, Clone, Copy)]
pub struct Heap {
    /// Bytes the allocator got from the kernel (arenas and mmapped chunks).
    pub system: u64,
    /// Bytes handed out to the program and not yet freed.
    pub in_use: u64,
    /// Threads of the process.
    pub threads: u64,
    /// Open file descriptors (sockets included).
    pub fds: u64,
}

/// Reads the heap of the serve process `pid` listening on `port`; `None` when `/metrics` has
/// no heap gauges (not glibc) or did not answer.
pub async fn read(pid: u32, port: u16) -> Option<Heap> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let req =
        format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).await.ok()?;
    let gauge = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|v| v as u64)
    };
    Some(Heap {
        system: gauge("immutabot_heap_system_bytes")?,
        in_use: gauge("immutabot_heap_in_use_bytes")?,
        threads: status_field(pid, "Threads:"),
        fds: std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64),
    })
}

fn status_field(pid: u32, name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
