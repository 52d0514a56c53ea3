//! Running a renderer (helm, kubectl) as an untrusted program: a clean environment, a private
//! `HOME`, no network, bounded time and output, and its whole process group killed when a
//! bound is hit. A chart is code from a pull request; its render must not outlive its budget
//! or read the invoking user's credentials.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How much a render may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Wall-clock time before the process group is killed.
    pub timeout: Duration,
    /// Bytes of standard output before the process group is killed.
    pub max_output: usize,
    /// Address space each process of the render may map (`RLIMIT_AS`); Go's runtime turns
    /// the limit into "out of memory", which is reported as such.
    pub max_memory: u64,
}

/// The default [`Bounds::max_memory`]: helm and kubectl render large charts in a few
/// hundred MiB, and two renders at once must leave the service its own memory.
pub const MAX_RENDER_MEMORY: u64 = 2 * 1024 * 1024 * 1024;

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            timeout: Duration::from_secs(60),
            max_output: 64 * 1024 * 1024,
            max_memory: MAX_RENDER_MEMORY,
        }
    }
}

/// Why a render produced no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The program could not be started (not installed, not executable).
    Spawn(String),
    /// It ran longer than the bound and was killed.
    TimedOut(Duration),
    /// It printed more than the bound and was killed.
    TooLarge(usize),
    /// It ran out of its memory bound.
    OutOfMemory(u64),
    /// It exited unsuccessfully; its own message.
    Failed(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Spawn(e) => write!(f, "cannot start: {e}"),
            RunError::TimedOut(d) => {
                write!(f, "did not finish within {} s and was stopped", d.as_secs())
            }
            RunError::TooLarge(n) => {
                write!(
                    f,
                    "printed more than {} MiB and was stopped",
                    n / (1024 * 1024)
                )
            }
            RunError::OutOfMemory(n) => {
                write!(
                    f,
                    "needed more than {} MiB of memory and was stopped",
                    n >> 20
                )
            }
            RunError::Failed(msg) => f.write_str(msg),
        }
    }
}

/// Standard error kept for the message: a renderer's error is a few lines.
const MAX_STDERR: usize = 16 * 1024;

/// Runs `program args…` in `cwd` within `bounds` and returns its standard output.
pub fn run(
    program: &Path,
    args: &[OsString],
    cwd: &Path,
    bounds: Bounds,
) -> Result<Vec<u8>, RunError> {
    let home = tempfile::Builder::new()
        .prefix("immutabot-home.")
        .tempdir()
        .map_err(|e| RunError::Spawn(format!("cannot make a temporary HOME: {e}")))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    clean_env(&mut cmd, home.path());
    limit_memory(&mut cmd, bounds.max_memory);
    let mut child = cmd.spawn().map_err(|e| RunError::Spawn(e.to_string()))?;
    let group = child.id() as libc::pid_t;
    let over = Arc::new(AtomicBool::new(false));
    let stdout = child
        .stdout
        .take()
        .map(|s| reader(s, bounds.max_output, over.clone()));
    let stderr = child
        .stderr
        .take()
        .map(|s| reader(s, MAX_STDERR, Arc::new(AtomicBool::new(false))));
    let waited = wait(&mut child, bounds, &over);
    // Always: a grandchild that kept our pipes open would block the readers forever.
    kill_group(group);
    let _ = child.wait();
    let out = stdout.map(join).unwrap_or_default();
    let err = stderr.map(join).unwrap_or_default();
    match waited {
        Waited::TimedOut => Err(RunError::TimedOut(bounds.timeout)),
        Waited::TooLarge => Err(RunError::TooLarge(bounds.max_output)),
        Waited::Exited(ok) if ok => Ok(out),
        Waited::Exited(_) if out_of_memory(&err) => Err(RunError::OutOfMemory(bounds.max_memory)),
        Waited::Exited(_) => Err(RunError::Failed(message(&err))),
    }
}

/// Caps the child's address space before it runs.
fn limit_memory(cmd: &mut Command, bytes: u64) {
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: between fork and exec only async-signal-safe calls are allowed; setrlimit is
    // one, and nothing here allocates.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// Whether a renderer's standard error says it ran out of memory (Go's runtime words).
fn out_of_memory(stderr: &[u8]) -> bool {
    let text = String::from_utf8_lossy(stderr);
    text.contains("out of memory") || text.contains("cannot allocate memory")
}

/// Nothing of the caller's environment: no tokens, no kubeconfig, no proxy settings of ours.
/// The proxy points at a closed port so that any network access fails at once.
fn clean_env(cmd: &mut Command, home: &Path) {
    let dead_proxy = "http://127.0.0.1:9";
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("KUBECONFIG", home.join("kubeconfig"))
        .env("HTTP_PROXY", dead_proxy)
        .env("HTTPS_PROXY", dead_proxy)
        .env("http_proxy", dead_proxy)
        .env("https_proxy", dead_proxy)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("HELM_NO_PLUGINS", "1");
}

enum Waited {
    Exited(bool),
    TimedOut,
    TooLarge,
}

fn wait(child: &mut std::process::Child, bounds: Bounds, over: &AtomicBool) -> Waited {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Waited::Exited(status.success()),
            Ok(None) => {}
            Err(_) => return Waited::Exited(false),
        }
        if over.load(Ordering::Relaxed) {
            return Waited::TooLarge;
        }
        if start.elapsed() >= bounds.timeout {
            return Waited::TimedOut;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn kill_group(group: libc::pid_t) {
    // SAFETY: kill(2) with a negative pid signals the process group we created for the child;
    // it touches no memory of ours.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// Reads up to `limit` bytes, then keeps draining (so the writer never blocks) and raises
/// `over`.
fn reader(
    mut r: impl Read + Send + 'static,
    limit: usize,
    over: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = limit.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    if n > room {
                        over.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        kept
    })
}

fn join(h: std::thread::JoinHandle<Vec<u8>>) -> Vec<u8> {
    h.join().unwrap_or_default()
}

/// The tool's own message: its standard error, trimmed, without a leading `Error: `.
fn message(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    let text = text.strip_prefix("Error: ").unwrap_or(text);
    let text = text.strip_prefix("error: ").unwrap_or(text);
    // helm's hint names a flag of its own, which a user of ours cannot pass.
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("Use --debug flag"))
        .collect();
    let text = kept.join("\n");
    if text.is_empty() {
        "exited unsuccessfully and printed nothing".to_string()
    } else {
        text.to_string()
    }
}

/// A renderer: `flag` when given, else the environment variable `var`, else `name` on
/// `PATH`. A path that names no file is a tool not found (the chart is then reported as not
/// rendered, with a hint), rather than one that fails to start.
pub fn find_tool(flag: Option<&Path>, var: &str, name: &str) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| on_path(name))
        .filter(|p| p.is_file())
}

/// `name` found on `PATH`, as a shell would.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, bounds: Bounds) -> Result<Vec<u8>, RunError> {
        let args = vec![OsString::from("-c"), OsString::from(script)];
        run(Path::new("/bin/sh"), &args, Path::new("/"), bounds)
    }

    #[test]
    fn output_and_the_tools_own_message() {
        assert_eq!(sh("echo hi", Bounds::default()).unwrap(), b"hi\n");
        assert_eq!(
            sh(
                "echo 'Error: values don'\\''t meet the schema' >&2; exit 1",
                Bounds::default()
            ),
            Err(RunError::Failed("values don't meet the schema".into()))
        );
    }

    #[test]
    fn the_environment_is_clean_and_home_is_private() {
        // SAFETY: tests in this module do not read this variable concurrently.
        unsafe { std::env::set_var("IMMUTABOT_SECRET_FOR_TEST", "s3cret") };
        let out = sh("env", Bounds::default()).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("s3cret"), "{out}");
        assert!(
            out.contains("HOME=/tmp") || out.contains("immutabot-home."),
            "{out}"
        );
    }

    #[test]
    fn a_render_that_never_ends_is_killed_with_its_children() {
        let bounds = Bounds {
            timeout: Duration::from_millis(300),
            max_output: 1024,
            ..Bounds::default()
        };
        // The grandchild holds stdout open: without killing the group, reading would hang.
        let r = sh("sleep 30 & sleep 30", bounds);
        assert_eq!(r, Err(RunError::TimedOut(bounds.timeout)));
    }

    #[test]
    fn a_render_that_prints_too_much_is_stopped() {
        let bounds = Bounds {
            timeout: Duration::from_secs(30),
            max_output: 1024 * 1024,
            ..Bounds::default()
        };
        let r = sh("yes immutabot", bounds);
        assert_eq!(r, Err(RunError::TooLarge(bounds.max_output)));
    }

    #[test]
    fn a_missing_tool_is_a_spawn_error() {
        let r = run(
            Path::new("/nonexistent/helm"),
            &[],
            Path::new("/"),
            Bounds::default(),
        );
        assert!(matches!(r, Err(RunError::Spawn(_))), "{r:?}");
    }
}
