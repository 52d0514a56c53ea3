//! The process's heap as glibc's allocator sees it, for `/metrics`. RSS alone cannot tell a
//! leak (bytes in use grow) from an allocator that keeps freed pages in its arenas (bytes
//! from the system grow, bytes in use do not). Read in-process at scrape time: attaching a
//! debugger to ask the same question stops the whole service for seconds.

/// Bytes handed out and not yet freed, and bytes the allocator holds from the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heap {
    /// Bytes in use by the program (arena chunks and mmapped chunks).
    pub in_use: u64,
    /// Bytes the allocator got from the kernel (arenas and mmapped chunks).
    pub system: u64,
}

/// The heap now; `None` where the C library is not glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn read() -> Option<Heap> {
    // SAFETY: mallinfo2 takes no arguments and only reads the allocator's own statistics
    // under its arena locks; glibc has had it since 2.33.
    let m = unsafe { libc::mallinfo2() };
    Some(Heap {
        in_use: (m.uordblks + m.hblkhd) as u64,
        system: (m.arena + m.hblkhd) as u64,
    })
}

/// The heap now; `None` where the C library is not glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn read() -> Option<Heap> {
    None
}

/// Sets the heap gauges of `/metrics`.
pub fn record() {
    if let Some(h) = read() {
        metrics::gauge!("immutabot_heap_in_use_bytes").set(h.in_use as f64);
        metrics::gauge!("immutabot_heap_system_bytes").set(h.system as f64);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn an_allocation_shows_in_the_bytes_in_use() {
        let before = super::read().unwrap();
        let held = vec![1u8; 8 << 20];
        let during = super::read().unwrap();
        assert!(
            during.in_use >= before.in_use + (8 << 20),
            "{before:?} {during:?}"
        );
        assert!(during.system >= during.in_use);
        drop(held);
    }
}
