//! The four promises of every patch, checked the same way for fixtures and generated files.

use immutabot::analyze::{NoFiles, analyze};
use immutabot::config::Config;
use immutabot::model::{FileReport, Finding, Fix};
use immutabot::patch;
use immutabot::yaml::{Limits, Stream};

/// Analyses `text` as the file `name`, with no other files and the default config.
pub fn run(name: &str, text: &str) -> FileReport {
    analyze(name, text.as_bytes(), &Config::default(), &NoFiles)
}

/// Applies `fix` (from `finding`) and panics unless: the patched file parses; nothing outside
/// the replaced lines changed; the rule no longer fires on that unit; and applying the
/// patched file's fixes for that rule and unit changes nothing.
pub fn assert_patch_keeps_promises(name: &str, text: &str, finding: &Finding, fix: &Fix) {
    let patched = patch::apply(text, fix).expect("the fix applies");
    let s = Stream::parse(&patched, Limits::default());
    assert!(
        s.error.is_none(),
        "{name}: does not parse after `{}`: {:?}\n{patched}",
        fix.description,
        s.error
    );
    let before: Vec<&str> = text.split_inclusive('\n').collect();
    let after: Vec<&str> = patched.split_inclusive('\n').collect();
    let head = fix.start_line - 1;
    let tail = before.len() - fix.end_line;
    assert_eq!(before[..head], after[..head], "{name}: lines above changed");
    assert_eq!(
        before[before.len() - tail..],
        after[after.len() - tail..],
        "{name}: lines below changed"
    );
    let again = run(name, &patched);
    assert!(
        !again.findings.iter().any(|g| g.rule == "invalid-file"),
        "{name}: the patch broke the file:\n{patched}"
    );
    let same_unit = |g: &&Finding| {
        g.rule == finding.rule && g.workload == finding.workload && g.container == finding.container
    };
    // tmpfs-owned-by-root is per entry: only the patched entry must be clean.
    let still: Vec<&Finding> = again
        .findings
        .iter()
        .filter(same_unit)
        .filter(|g| finding.rule != "tmpfs-owned-by-root" || g.line == finding.line)
        .collect();
    assert!(
        still.is_empty(),
        "{name}: {} still fires after its fix:\n{patched}\n{still:?}",
        finding.rule
    );
    let (twice, applied) = patch::apply_all(
        &patched,
        again
            .findings
            .iter()
            .filter(same_unit)
            .filter(|g| finding.rule != "tmpfs-owned-by-root" || g.line == finding.line)
            .filter_map(|g| g.fix.as_ref()),
    );
    assert_eq!(applied, 0, "{name}: a second application changes the file");
    assert_eq!(twice, patched);
}
