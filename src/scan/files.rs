//! The files of one scanned commit, as the analysis core's resolver: what was fetched is
//! answered, and every path the core asks for is recorded, so a report can be cached under
//! the ids of everything it read.

use crate::analyze::Resolver;
use crate::forge::{ObjectId, Tree};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// The commit's regular files by path, and the bytes of those fetched so far.
#[derive(Debug, Default, Clone)]
pub struct TreeFiles {
    ids: HashMap<String, ObjectId>,
    bytes: HashMap<String, Vec<u8>>,
}

impl TreeFiles {
    /// The regular files of `tree` (links, folders and submodules are not files to read).
    pub fn new(tree: &Tree) -> TreeFiles {
        TreeFiles {
            ids: tree
                .entries
                .iter()
                .filter(|e| e.is_file())
                .map(|e| (e.path.clone(), e.sha.clone()))
                .collect(),
            bytes: HashMap::new(),
        }
    }

    /// The blob id of `path` in the commit, if it is a file there.
    pub fn id_of(&self, path: &str) -> Option<&ObjectId> {
        self.ids.get(path)
    }

    /// Adds a fetched file.
    pub fn insert(&mut self, path: String, bytes: Vec<u8>) {
        self.bytes.insert(path, bytes);
    }

    /// A fetched file's bytes.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.bytes.get(path).map(Vec::as_slice)
    }

    /// Whether `path` is a file of the commit that was not fetched yet.
    pub fn needs_fetch(&self, path: &str) -> bool {
        self.ids.contains_key(path) && !self.bytes.contains_key(path)
    }
}

/// A resolver for one analysis that remembers what it was asked.
pub struct Recording<'a> {
    files: &'a TreeFiles,
    asked: Mutex<BTreeSet<String>>,
}

impl<'a> Recording<'a> {
    /// Wraps the commit's files.
    pub fn new(files: &'a TreeFiles) -> Recording<'a> {
        Recording {
            files,
            asked: Mutex::default(),
        }
    }

    /// Every path asked for, sorted.
    pub fn asked(self) -> Vec<String> {
        let asked = self.asked.into_inner().unwrap_or_else(|e| e.into_inner());
        asked.into_iter().collect()
    }
}

impl Resolver for Recording<'_> {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_string());
        self.files.bytes.get(path).cloned()
    }

    fn exists(&self, path: &str) -> bool {
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_string());
        self.files.ids.contains_key(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::{EntryKind, TreeEntry};

    fn entry(path: &str, mode: &str, sha: char) -> TreeEntry {
        TreeEntry {
            path: path.into(),
            mode: mode.into(),
            kind: EntryKind::Blob,
            sha: ObjectId::parse(&sha.to_string().repeat(40)).unwrap(),
            size: Some(1),
        }
    }

    #[test]
    fn links_are_not_files_and_lookups_are_recorded() {
        let tree = Tree {
            entries: vec![
                entry("compose.yaml", "100644", 'a'),
                entry("link.yaml", "120000", 'b'),
            ],
            truncated: false,
        };
        let mut files = TreeFiles::new(&tree);
        assert!(files.id_of("link.yaml").is_none());
        assert!(files.needs_fetch("compose.yaml"));
        files.insert("compose.yaml".into(), b"services: {}\n".to_vec());
        let rec = Recording::new(&files);
        assert!(rec.read("compose.override.yaml").is_none());
        assert!(rec.read("compose.yaml").is_some());
        assert_eq!(rec.asked(), ["compose.override.yaml", "compose.yaml"]);
    }
}
