//! `.immutabot.yml`: any bytes, read as the service and the CLI read them (lossy UTF-8, then
//! `Config::parse`). Never a panic or a hang; an error points at a line of the text; a config
//! that parses answers its questions (ignored paths, exemptions, severities) without panicking.

#![no_main]

use immutabot_core::config::Config;
use immutabot_core::rules::RuleId;
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 5] = [
    "compose.yaml",
    "./deploy/k8s/app.yaml",
    "charts/x/templates/deployment.yaml",
    "",
    "a/../b.yml",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Config::parse(&text) {
        Ok(config) => {
            for path in PATHS {
                let _ = config.is_ignored(path);
            }
            for rule in RuleId::ALL {
                let _ = config.severity_of(rule);
                let _ = config.exemption(rule, Some("web"), Some("nginx:1.27"));
                let _ = config.exemption(rule, None, None);
            }
        }
        Err(e) => {
            // Line 0 means "unknown"; otherwise the line must exist (one past the end is the
            // end of the input). Lines as YAML counts them: a lone `\r` breaks a line too.
            let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
            assert!(
                e.line <= lines + 1,
                "error line {} past the text's {lines} lines: {e}",
                e.line
            );
            assert!(!e.message.is_empty(), "an error without words");
        }
    }
});
