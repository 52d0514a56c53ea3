//! Load + rules + patch: any bytes, analysed as Compose, Kubernetes or JSON; every suggested
//! patch must apply, and the patched text must analyse without panicking.
//!
//! The first byte picks the path (and so the format hint); the rest is the file.
//!
//! Also differential: whenever the fast YAML scanner accepts the text, its tree must equal
//! the full parser's.

#![no_main]

use immutabot_core::analyze::{NoFiles, analyze};
use immutabot_core::config::Config;
use immutabot_core::yaml::{Limits, Stream, fast};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 3] = ["compose.yaml", "k8s.yaml", "x.json"];

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let path = PATHS[first as usize % PATHS.len()];
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Some(got) = fast::parse(text, Limits::default())
    {
        assert_eq!(
            got,
            Stream::parse_full(text, Limits::default()),
            "fast scanner differs"
        );
    }
    let config = Config::default();
    let report = analyze(path, bytes, &config, &NoFiles);
    // Fixes are whole-line ranges; a lossy decode keeps every line where it was.
    let text = String::from_utf8_lossy(bytes);
    let utf8 = matches!(text, std::borrow::Cow::Borrowed(_));
    for finding in &report.findings {
        let Some(fix) = &finding.fix else { continue };
        let patched = immutabot_core::patch::apply(&text, fix).unwrap_or_else(|| {
            panic!(
                "fix for {} at lines {}..={} does not apply",
                finding.rule, fix.start_line, fix.end_line
            )
        });
        if utf8 {
            let _ = analyze(path, patched.as_bytes(), &config, &NoFiles);
        }
    }
});
