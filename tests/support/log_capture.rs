//! Every log line of the test process, at trace level, kept in memory: ours and the
//! dependencies' (`tracing` events, and `log` records through the bridge), so that a test
//! can prove what never reaches an operator's logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The shared buffer every log line goes to.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything logged so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the process-wide subscriber on first call (trace level for every target, span
/// fields included, as an operator with `RUST_LOG=trace` would see it) and returns its buffer.
pub fn capture() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            tracing_subscriber::fmt()
                .with_env_filter(EnvFilter::new("trace"))
                .with_ansi(false)
                .with_writer(captured.clone())
                .try_init()
                .expect("no other subscriber in this test process");
            captured
        })
        .clone()
}

/// Every place `secret` shows in `log`, with a little context, for the failure message.
fn sightings(log: &str, secret: &str) -> Vec<String> {
    log.match_indices(secret)
        .take(3)
        .map(|(i, _)| {
            let start = log[..i].rfind('\n').map_or(0, |n| n + 1);
            let end = log[i..].find('\n').map_or(log.len(), |n| i + n);
            log[start..end].chars().take(300).collect()
        })
        .collect()
}

/// Fails when any of `secrets` (name, value) appears in `log`.
pub fn assert_absent(log: &str, secrets: &[(&str, &str)]) {
    for (name, value) in secrets {
        assert!(!value.is_empty(), "{name}: an empty secret proves nothing");
        let seen = sightings(log, value);
        assert!(
            seen.is_empty(),
            "the {name} appears in the logs:\n{seen:#?}"
        );
    }
}

/// The base64 lines of a PEM file (its key material), each long enough to be unmistakable.
pub fn pem_body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect()
}

/// Anything shaped like a JSON web token (`eyJ….eyJ….…`: a base64url JSON header and
/// payload), whoever made it.
pub fn jwt_like(log: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in log.match_indices("eyJ") {
        let token: String = log[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() >= 3 && parts[1].starts_with("eyJ") {
            found.push(token);
        }
    }
    found
}
