//! Files for the analysis core, fetched from GitHub before it runs: the core does no I/O,
//! so files it asks for (`extends`, override files) are found by a first pass, fetched, and
//! the analysis is run again with them.

use crate::analyze::Resolver;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// Files already fetched, by path; records every path asked for that it does not have.
#[derive(Default)]
pub struct Prefetched {
    files: HashMap<String, Vec<u8>>,
    missing: Mutex<BTreeSet<String>>,
}

impl Prefetched {
    /// Adds a fetched file.
    pub fn insert(&mut self, path: String, bytes: Vec<u8>) {
        self.files.insert(path, bytes);
    }

    /// Marks a path as looked up and absent, so it is not asked for again.
    pub fn insert_absent(&mut self, path: String) {
        self.files.entry(path).or_default();
    }

    /// Paths asked for since the last call that were not fetched yet.
    pub fn take_missing(&self) -> Vec<String> {
        let mut missing = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *missing).into_iter().collect()
    }

    /// A fetched file's bytes.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }
}

impl Clone for Prefetched {
    fn clone(&self) -> Prefetched {
        let missing = self
            .missing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Prefetched {
            files: self.files.clone(),
            missing: Mutex::new(missing),
        }
    }
}

impl Resolver for Prefetched {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match self.files.get(path) {
            // An empty entry is a path we looked up and did not find.
            Some(bytes) if bytes.is_empty() => None,
            Some(bytes) => Some(bytes.clone()),
            None => {
                if !path.starts_with('/') && !path.split('/').any(|p| p == "..") {
                    self.missing
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(path.to_string());
                }
                None
            }
        }
    }
}
