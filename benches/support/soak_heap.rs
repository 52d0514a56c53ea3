//! The serve process's heap as glibc's allocator sees it, read from outside: `gdb` attaches for
//! a moment and calls `malloc_stats()`, which prints to the process's own standard error (the
//! serve log). "in use" is what the program holds; "system" is what the allocator got from the
//! kernel. RSS alone cannot tell a leak (in use grows) from an allocator that keeps freed pages
//! in its arenas (system grows, in use does not).

use std::io::{Read, Seek, SeekFrom};
use std::process::{Command, Stdio};

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

/// Reads the heap of `pid`, whose standard error goes to `log`; `None` without gdb.
pub fn read(pid: u32, log: &str) -> Option<Heap> {
    let before = std::fs::metadata(log).ok()?.len();
    let ok = Command::new("gdb")
        .args(["-batch", "-nx", "-p", &pid.to_string(), "-ex"])
        .arg("call (void) malloc_stats()")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    let mut text = String::new();
    let mut f = std::fs::File::open(log).ok()?;
    f.seek(SeekFrom::Start(before)).ok()?;
    f.read_to_string(&mut text).ok()?;
    let total = &text[text.rfind("Total (incl. mmap):")?..];
    let field = |name: &str| -> Option<u64> {
        let at = total.find(name)? + name.len();
        total[at..]
            .trim_start_matches([' ', '='])
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some(Heap {
        system: field("system bytes")?,
        in_use: field("in use bytes")?,
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
