//! Renderer tests on a hand-built report: each format's exact text is snapshotted.

mod common;

use immutabot::model::{Report, Severity};
use immutabot::output::diff::Change;
use immutabot::output::{diff, fingerprint, github, gitlab, json, rdjson, text};
use serde_json::Value;

fn text_opts() -> text::Options {
    text::Options::default()
}

#[test]
fn text_shows_findings_fixes_and_summary() {
    let out = text::render(&common::report(), &common::sources(), text_opts());
    insta::assert_snapshot!(out);
    assert!(!out.contains('\u{1b}'), "no colour unless asked");
    assert!(
        !out.contains("legacy image"),
        "suppressed findings hidden by default"
    );
    assert!(out.ends_with("3 files (1 skipped), 3 units, 1 read-only, 1 suppressed, 2 findings\n"));
}

#[test]
fn text_shows_suppressed_and_skipped_when_asked() {
    let opts = text::Options {
        show_suppressed: true,
        verbose: true,
        ..text_opts()
    };
    let out = text::render(&common::report(), &common::sources(), opts);
    insta::assert_snapshot!(out);
    assert!(out.contains("(suppressed: legacy image)"));
    assert!(out.contains("(suppressed: no reason given)"));
    assert!(out.contains("charts/web/templates/deploy.yaml: skipped: Helm template: not YAML"));
}

#[test]
fn text_colours_only_when_asked() {
    let opts = text::Options {
        color: true,
        ..text_opts()
    };
    let out = text::render(&common::report(), &common::sources(), opts);
    assert!(out.contains("\u{1b}["), "{out}");
    assert!(out.contains("\u{1b}[32m"), "added lines are green: {out}");
}

#[test]
fn json_is_the_documented_shape() {
    let out = json::render(&common::report());
    insta::assert_snapshot!(out);
    let back: Report = serde_json::from_str(&out).unwrap();
    assert_eq!(back, common::report());
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["findings"], 2);
    // Paths are sorted, whatever order the files were analysed in.
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "charts/web/templates/deploy.yaml",
            "compose.yml",
            "k8s/deploy, v1.yaml"
        ]
    );
}

#[test]
fn github_commands_escape_data_and_properties() {
    let out = github::render(&common::report());
    insta::assert_snapshot!(out);
    assert!(out.contains("::error file=compose.yml,line=2,endLine=3,col=3,title=writable-root-filesystem::Service `web`"));
    assert!(out.contains("::warning file=k8s/deploy%2C v1.yaml,line=9,"));
    // Suppressed findings are not annotations.
    assert!(!out.contains("tmpfs-owned-by-root"));
    assert_eq!(out.lines().count(), 2);
}

#[test]
fn github_escaping_follows_actions_toolkit() {
    assert_eq!(
        github::escape_data("100% a\r\nb:c,d"),
        "100%25 a%0D%0Ab:c,d"
    );
    assert_eq!(
        github::escape_property("100% a\r\nb:c,d"),
        "100%25 a%0D%0Ab%3Ac%2Cd"
    );
    // `%` first, so escapes are not escaped twice.
    assert_eq!(github::escape_data("%0A"), "%250A");
}

#[test]
fn github_severities_map_to_commands() {
    let mut r = common::report();
    r.files[1].findings[0].severity = Severity::Info;
    let out = github::render(&r);
    assert!(out.starts_with("::notice file=compose.yml"), "{out}");
}

#[test]
fn gitlab_code_quality_shape() {
    let out = gitlab::render(&common::report());
    insta::assert_snapshot!(out);
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(v.len(), 2, "suppressed findings are left out");
    for issue in &v {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(issue[key].is_string(), "{key} in {issue}");
        }
        assert!(issue["location"]["path"].is_string());
        assert!(issue["location"]["lines"]["begin"].is_u64());
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap())
        );
    }
    assert_eq!(v[0]["severity"], "critical");
    assert_eq!(v[1]["severity"], "major");
}

#[test]
fn fingerprints_survive_line_shifts() {
    let before = common::report();
    let mut after = common::report();
    for file in &mut after.files {
        for f in &mut file.findings {
            f.line += 7;
            f.end_line += 7;
            f.column += 2;
            f.message.push_str(" (reworded)");
        }
    }
    let prints = |r: &Report| -> Vec<Value> {
        let v: Vec<Value> = serde_json::from_str(&gitlab::render(r)).unwrap();
        v.into_iter().map(|i| i["fingerprint"].clone()).collect()
    };
    assert_eq!(prints(&before), prints(&after));
}

#[test]
fn fingerprints_tell_units_and_repeats_apart() {
    let r = common::report();
    let file = &r.files[1];
    let a = fingerprint::of(&file.path, &file.findings[0]);
    let mut other = file.findings[0].clone();
    other.workload = Some("api".into());
    assert_ne!(a, fingerprint::of(&file.path, &other));
    assert_ne!(a, fingerprint::of("other.yml", &file.findings[0]));

    let mut twice = file.clone();
    twice.findings.push(file.findings[0].clone());
    let all = fingerprint::all(&twice);
    assert_eq!(all[0], a);
    assert_ne!(
        all[0], all[2],
        "a repeated identity gets its own fingerprint"
    );
    assert_eq!(all[0].len(), 64);
}

#[test]
fn diff_is_a_git_style_unified_diff() {
    let changes = vec![
        Change {
            path: "compose.yml".into(),
            before: common::COMPOSE.into(),
            after: common::COMPOSE.replace("image: nginx\n", "image: nginx\n    read_only: true\n"),
        },
        Change {
            path: "same.yml".into(),
            before: "a: 1\n".into(),
            after: "a: 1\n".into(),
        },
    ];
    let out = diff::render(&changes);
    insta::assert_snapshot!(out);
    assert!(out.starts_with("--- a/compose.yml\n+++ b/compose.yml\n@@ "));
    assert!(out.contains("\n+    read_only: true\n"));
    assert!(
        !out.contains("same.yml"),
        "unchanged files are not in the diff"
    );
}

/// The CLI writes reports file by file; the bytes must be those of the whole report.
#[test]
fn streamed_json_and_gitlab_are_the_whole_report_serialised() {
    for report in [common::report(), Report::new(Vec::new())] {
        let whole = serde_json::to_string_pretty(&report).unwrap() + "\n";
        assert_eq!(json::render(&report), whole);
        let issues: Vec<Value> = report.files.iter().flat_map(gitlab::issues).collect();
        let whole = serde_json::to_string_pretty(&issues).unwrap() + "\n";
        assert_eq!(gitlab::render(&report), whole);
    }
}

#[test]
fn streamed_sarif_is_the_whole_log_serialised() {
    use immutabot::output::sarif;
    for report in [common::report(), Report::new(Vec::new())] {
        let sources = common::sources();
        let whole = serde_json::to_string_pretty(&sarif::log(&report, &sources)).unwrap() + "\n";
        assert_eq!(sarif::render(&report, &sources), whole);
    }
}

#[test]
fn rdjson_is_reviewdogs_diagnostic_result() {
    let out = rdjson::render(&common::report(), &common::sources());
    insta::assert_snapshot!(out);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["source"]["name"], "immutabot");
    assert_eq!(v["severity"], "ERROR", "the worst unsuppressed severity");
    let diags = v["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 2, "suppressed findings are left out");
    for d in diags {
        assert!(d["message"].is_string());
        assert!(["ERROR", "WARNING", "INFO"].contains(&d["severity"].as_str().unwrap()));
        assert!(d["location"]["range"]["start"]["line"].as_u64().unwrap() >= 1);
        assert!(
            d["code"]["url"]
                .as_str()
                .unwrap()
                .ends_with(d["code"]["value"].as_str().unwrap())
        );
    }
    let s = &diags[0]["suggestions"][0];
    assert_eq!(
        s["range"]["start"],
        serde_json::json!({"line": 2, "column": 1})
    );
    assert_eq!(
        s["range"]["end"],
        serde_json::json!({"line": 4, "column": 1})
    );
    assert!(
        diags[1].get("suggestions").is_none(),
        "no fix, no suggestion"
    );
    // Streaming writes the same bytes as the whole value; no findings: no overall severity.
    let empty: Value = serde_json::from_str(&rdjson::render(
        &Report::new(Vec::new()),
        &common::sources(),
    ))
    .unwrap();
    assert_eq!(
        empty,
        serde_json::json!({"source": rdjson::source(), "diagnostics": []})
    );
}

/// Applying a suggestion the way reviewdog's format defines it (byte columns, exclusive end)
/// must give exactly what applying our own fix gives, with and without a final newline.
#[test]
fn rdjson_suggestions_apply_like_our_fixes() {
    use immutabot::analyze;
    for text in [
        "services:\n  web:\n    image: nginx:1.27\n",
        "services:\n  web:\n    image: nginx:1.27 # caf\u{e9} \u{1f600}",
        "services:\r\n  h\u{e9}:\r\n    image: redis:7\r\n",
    ] {
        let config = immutabot::config::Config::default();
        let report = analyze::analyze("compose.yml", text.as_bytes(), &config, &analyze::NoFiles);
        let fix = report
            .findings
            .iter()
            .find_map(|f| f.fix.clone())
            .expect("a fix");
        let mut sources = immutabot::output::Sources::new();
        sources.insert("compose.yml".into(), text.into());
        let out = rdjson::render(&Report::new(vec![report]), &sources);
        let v: Value = serde_json::from_str(&out).unwrap();
        let s = &v["diagnostics"][0]["suggestions"][0];
        let at = |p: &Value| {
            offset(
                text,
                p["line"].as_u64().unwrap(),
                p["column"].as_u64().unwrap(),
            )
        };
        let (start, end) = (at(&s["range"]["start"]), at(&s["range"]["end"]));
        // A range never names a line the file does not have (without a final newline there
        // is no "start of the next line" after the last one).
        let lines = text.lines().count() + usize::from(text.ends_with('\n'));
        assert!(
            s["range"]["end"]["line"].as_u64().unwrap() as usize <= lines,
            "{s}"
        );
        let applied = format!(
            "{}{}{}",
            &text[..start],
            s["text"].as_str().unwrap(),
            &text[end..]
        );
        assert_eq!(
            Some(applied),
            immutabot::patch::apply(text, &fix),
            "{text:?}"
        );
    }
}

/// The byte offset of a 1-based line and byte column; the line after the last is the end.
fn offset(text: &str, line: u64, column: u64) -> usize {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..]
            .find('\n')
            .map_or(text.len() - start, |i| i + 1);
    }
    start + column as usize - 1
}

/// `n` writable Deployments in one file: one finding with a patch each.
fn deployments(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:1.0\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// A file's text and its report.
type Checked = (String, immutabot::model::FileReport);
/// Work done on a checked file, timed at two sizes.
type Job = Box<dyn Fn(&Checked)>;

/// The fastest of five runs of `work` (the least disturbed by the rest of the machine).
fn fastest(work: &dyn Fn()) -> std::time::Duration {
    (0..5)
        .map(|_| {
            let t = std::time::Instant::now();
            work();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn every_format_the_diff_and_the_fix_cost_linear_time_in_the_findings() {
    use immutabot::analyze::{NoFiles, analyze};
    use immutabot::config::Config;
    use immutabot::output::{OutputFormat, stream};
    let setup = |n: usize| {
        let text = deployments(n);
        let report = analyze("big.yaml", text.as_bytes(), &Config::default(), &NoFiles);
        assert_eq!(report.findings.len(), n);
        (text, report)
    };
    let (small, large) = (setup(1000), setup(4000));
    let formats = [
        OutputFormat::Text,
        OutputFormat::Json,
        OutputFormat::Sarif,
        OutputFormat::Github,
        OutputFormat::Gitlab,
        OutputFormat::Rdjson,
    ];
    let mut jobs: Vec<(String, Job)> = formats
        .iter()
        .map(|&format| {
            let job: Job = Box::new(move |(text, report)| {
                let out = stream::render_all(format, text_opts(), [(report, Some(text.as_str()))]);
                assert!(!out.is_empty());
            });
            (format!("{format:?}"), job)
        })
        .collect();
    jobs.push((
        "patch every finding (the core of --fix)".into(),
        Box::new(|(text, report)| {
            let fixes = report.findings.iter().filter_map(|f| f.fix.as_ref());
            let (patched, n) = immutabot::patch::apply_all(text, fixes);
            assert_eq!(n, report.findings.len());
            assert!(patched.len() > text.len());
        }),
    ));
    jobs.push((
        "--diff".into(),
        Box::new(|(text, report)| {
            let fixes = report.findings.iter().filter_map(|f| f.fix.as_ref());
            let (after, _) = immutabot::patch::apply_all(text, fixes);
            let change = Change {
                path: "big.yaml".into(),
                before: text.clone(),
                after,
            };
            assert!(!diff::render(&[change]).is_empty());
        }),
    ));
    for (name, job) in &jobs {
        // The small file four times against the large one once: the same amount of work
        // when linear (ratio about 1), four times more when quadratic.
        let t1 = fastest(&|| (0..4).for_each(|_| job(&small)));
        let t4 = fastest(&|| job(&large));
        let ratio = t4.as_secs_f64() / t1.as_secs_f64().max(1e-9);
        eprintln!("{name}: 4 x N {t1:?}, 4N {t4:?}: {ratio:.2}");
        assert!(ratio < 2.5, "{name}: 4 x N {t1:?}, 4N {t4:?}: {ratio:.2}");
    }
}
