//! Which files a run looks at: explicit files always, candidates found by walking directories.

use crate::analyze::is_candidate;
use crate::config::Config;
use crate::render::discover::lexical;
use ignore::WalkBuilder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The path as reported: relative to the working directory, forward slashes.
    pub path: String,
    /// Where to read it.
    pub fs_path: PathBuf,
    /// Named on the command line (not found by walking a directory).
    pub explicit: bool,
}

/// What the walk found: files to analyse, sorted by path, and problems with the arguments.
#[derive(Debug, Default)]
pub struct Walk {
    /// Files to analyse, without duplicates.
    pub targets: Vec<Target>,
    /// One message per argument or directory entry that could not be read.
    pub errors: Vec<String>,
}

/// Settings of a walk.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Include hidden files and directories.
    pub hidden: bool,
    /// The working directory; reported paths are relative to it.
    pub cwd: &'a Path,
    /// The directory `ignore_paths` globs are relative to.
    pub config_base: &'a Path,
}

/// The argument that means standard input.
pub const STDIN: &str = "-";
/// How standard input is named in reports.
pub const STDIN_PATH: &str = "<stdin>";

/// Expands `paths` into the files to analyse.
pub fn collect(paths: &[PathBuf], config: &Config, opts: Options<'_>) -> Walk {
    let mut found: BTreeMap<String, (PathBuf, bool)> = BTreeMap::new();
    let mut errors = Vec::new();
    for arg in paths {
        if arg.as_os_str() == STDIN {
            // `helm template . | immutabot check -`
            found.insert(STDIN_PATH.to_string(), (arg.clone(), true));
            continue;
        }
        let meta = match std::fs::metadata(arg) {
            Ok(m) => m,
            Err(e) => {
                errors.push(format!("{}: {e}", arg.display()));
                continue;
            }
        };
        if !meta.is_dir() {
            // Named explicitly: the user wants it checked, whatever its name or the config says.
            found.insert(report_path(arg, opts.cwd), (arg.clone(), true));
            continue;
        }
        let walker = WalkBuilder::new(arg)
            .hidden(!opts.hidden)
            // Honour .gitignore in an exported tree too, not only inside a git checkout.
            .require_git(false)
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let path = report_path(entry.path(), opts.cwd);
            // `Kustomization` (no extension) names a kustomization folder, to render.
            if !is_candidate(&path) && !path.ends_with("/Kustomization") && path != "Kustomization"
            {
                continue;
            }
            if config.is_ignored(&config_relative(entry.path(), opts)) {
                continue;
            }
            found.entry(path).or_insert((entry.into_path(), false));
        }
    }
    Walk {
        targets: found
            .into_iter()
            .map(|(path, (fs_path, explicit))| Target {
                path,
                fs_path,
                explicit,
            })
            .collect(),
        errors,
    }
}

/// `p` relative to `cwd` when it lies below it, with forward slashes and no leading `./`.
pub fn report_path(p: &Path, cwd: &Path) -> String {
    let rel = if p.is_absolute() {
        p.strip_prefix(cwd).unwrap_or(p)
    } else {
        p
    };
    let s = rel.to_string_lossy().replace('\\', "/");
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.trim_start_matches('/');
    }
    s.to_string()
}

/// The path as `ignore_paths` globs see it: relative to the settings file's directory.
fn config_relative(p: &Path, opts: Options<'_>) -> String {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        opts.cwd.join(p)
    };
    let abs = lexical(&abs);
    match abs.strip_prefix(lexical(opts.config_base)) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => report_path(p, opts.cwd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths_are_relative_and_clean() {
        let cwd = Path::new("/w");
        assert_eq!(report_path(Path::new("./a/b.yml"), cwd), "a/b.yml");
        assert_eq!(report_path(Path::new("/w/a/b.yml"), cwd), "a/b.yml");
        assert_eq!(report_path(Path::new("/x/b.yml"), cwd), "/x/b.yml");
        assert_eq!(report_path(Path::new("b.yml"), cwd), "b.yml");
    }
}
