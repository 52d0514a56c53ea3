//! The entry point of the analysis core: one file's bytes in, its report out. No I/O here:
//! files that `extends` or an override names are asked of a [`Resolver`].

use crate::config::Config;
use crate::model::{FileReport, Format};

/// Supplies other files a Compose file refers to (`extends: {file: …}`, override files).
///
/// Paths are relative to the root the caller analyses, with forward slashes, already joined
/// and normalised by the core (`a/b/../c.yml` becomes `a/c.yml`).
pub trait Resolver: Sync {
    /// The bytes of `path`, or `None` when it does not exist or cannot be read.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
}

/// A resolver that knows no other file.
pub struct NoFiles;

impl Resolver for NoFiles {
    fn read(&self, _path: &str) -> Option<Vec<u8>> {
        None
    }
}

/// Analyses one file. `path` is relative to the analysed root, with forward slashes.
pub fn analyze(path: &str, bytes: &[u8], config: &Config, resolver: &dyn Resolver) -> FileReport {
    let _ = (bytes, config, resolver);
    FileReport {
        path: path.to_string(),
        format: Format::Skipped,
        skipped_reason: Some("not yet implemented".into()),
        units: Vec::new(),
        findings: Vec::new(),
    }
}

/// Whether a file is a candidate by name and extension (content decides the rest).
pub fn is_candidate(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
}
