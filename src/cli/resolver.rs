//! Files a Compose file refers to (`extends`, overrides), read from disk under one root.

use crate::analyze::Resolver;
use std::path::{Component, Path, PathBuf};

/// Reads paths relative to a root directory and refuses any that leave it.
#[derive(Debug, Clone)]
pub struct FsResolver {
    root: PathBuf,
}

impl FsResolver {
    /// A resolver rooted at `root` (normally the working directory).
    pub fn new(root: impl Into<PathBuf>) -> FsResolver {
        FsResolver { root: root.into() }
    }

    /// Where `path` lies under the root, or `None` when it is absolute or climbs out with `..`.
    pub fn locate(&self, path: &str) -> Option<PathBuf> {
        let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
        for c in Path::new(path).components() {
            match c {
                Component::Normal(p) => parts.push(p),
                Component::CurDir => {}
                // A file under review must not make us read outside the checkout.
                Component::ParentDir => {
                    parts.pop()?;
                }
                Component::RootDir | Component::Prefix(_) => return None,
            }
        }
        let mut out = self.root.clone();
        out.extend(parts);
        Some(out)
    }
}

impl Resolver for FsResolver {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.locate(path)?).ok()
    }

    /// Unlike reading, looking whether a file exists may climb out of the root: a path the
    /// user named (`../charts/x/values.yaml`) lies in the chart it lies in.
    fn exists(&self, path: &str) -> bool {
        self.root.join(path).is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_under_the_root() {
        let r = FsResolver::new("/repo");
        assert_eq!(r.locate("a/b.yml"), Some(PathBuf::from("/repo/a/b.yml")));
        assert_eq!(r.locate("a/../b.yml"), Some(PathBuf::from("/repo/b.yml")));
        assert_eq!(r.locate("./b.yml"), Some(PathBuf::from("/repo/b.yml")));
        assert_eq!(r.locate("../b.yml"), None);
        assert_eq!(r.locate("a/../../b.yml"), None);
        assert_eq!(r.locate("/etc/passwd"), None);
    }
}
