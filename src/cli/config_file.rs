//! Finding and loading `.immutabot.yml` for a command-line run.

use crate::config::{Config, FILE_NAME};
use std::path::{Path, PathBuf};

/// A loaded configuration and the directory its `ignore_paths` are relative to.
#[derive(Debug)]
pub struct Loaded {
    /// The parsed settings (defaults when no file was found).
    pub config: Config,
    /// The directory holding the file, or the working directory when there is none.
    pub base: PathBuf,
}

/// `--config FILE`, or the nearest `.immutabot.yml` from `cwd` upwards, stopping at the
/// directory that holds `.git` so that a repository never picks up a stranger's settings.
///
/// Errors are complete messages, e.g. `.immutabot.yml:3:1: unknown field …`.
pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Loaded, String> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => discover(cwd),
    };
    let Some(path) = path else {
        return Ok(Loaded {
            config: Config::default(),
            base: cwd.to_path_buf(),
        });
    };
    let shown = display(&path, cwd);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{shown}: {e}"))?;
    let config = Config::parse(&text).map_err(|e| {
        let message = &e.message;
        if e.line == 0 {
            format!("{shown}: {message}")
        } else {
            format!("{shown}:{}:{}: {message}", e.line, e.column)
        }
    })?;
    let abs = if path.is_absolute() {
        path.clone()
    } else {
        cwd.join(&path)
    };
    let base = abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.to_path_buf());
    Ok(Loaded { config, base })
}

/// The nearest settings file at or above `start`, not looking past the repository root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// A path as the user would recognise it: relative to `cwd` when it lies below it.
fn display(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_repository_root() {
        let t = tempfile::tempdir().unwrap();
        let outer = t.path();
        std::fs::write(outer.join(FILE_NAME), "fail_on: info\n").unwrap();
        let repo = outer.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        assert_eq!(discover(&repo.join("sub")), None);
        std::fs::write(repo.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&repo.join("sub")), Some(repo.join(FILE_NAME)));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(FILE_NAME), "fail_on: warning\nbogus: 1\n").unwrap();
        let err = load(None, t.path()).unwrap_err();
        assert!(err.starts_with(".immutabot.yml:2:"), "{err}");
        assert!(!err.contains("error:"), "{err}");
        assert!(err.contains("bogus"), "{err}");
    }
}
