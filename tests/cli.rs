//! End-to-end tests of the `immutabot` binary on temporary directories.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
";

const READ_ONLY_COMPOSE: &str = "services:
  web:
    image: ghcr.io/acme/web:1.0
    read_only: true
";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A repository root: `.git` stops the search for `.immutabot.yml` from leaking upwards.
fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join(".git")).unwrap();
    t
}

fn json_paths(r: &Run) -> Vec<String> {
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn clean_tree_exits_0_with_a_summary() {
    let t = repo();
    write(t.path(), "compose.yml", READ_ONLY_COMPOSE);
    let r = run(t.path(), &["check"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("1 file, 1 unit, 1 read-only"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.trim_end().ends_with(" findings"), "{}", r.stdout);
    assert!(!r.stdout.contains('\u{1b}'), "no colour into a pipe");
}

#[test]
fn unknown_flag_exits_2() {
    let t = repo();
    let r = run(t.path(), &["check", "--no-such-flag"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--no-such-flag"), "{}", r.stderr);
}

#[test]
fn bad_flag_value_exits_2() {
    let t = repo();
    for args in [
        &["check", "--fail-on", "fatal"][..],
        &["check", "--format", "xml"][..],
        &["check", "--fix", "--diff"][..],
    ] {
        let r = run(t.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
}

#[test]
fn missing_path_exits_2_but_checks_the_rest() {
    let t = repo();
    write(t.path(), "compose.yml", READ_ONLY_COMPOSE);
    let r = run(
        t.path(),
        &["check", "--format", "json", "nope.yml", "compose.yml"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error: nope.yml: "), "{}", r.stderr);
    assert_eq!(json_paths(&r), ["compose.yml"]);
}

#[test]
fn bad_config_exits_2_with_file_line_and_column() {
    let t = repo();
    write(t.path(), "compose.yml", READ_ONLY_COMPOSE);
    write(
        t.path(),
        ".immutabot.yml",
        "fail_on: warning\nignore_path:\n  - x\n",
    );
    let r = run(t.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: .immutabot.yml:2:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("ignore_path"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn explicit_config_file_is_used_and_checked() {
    let t = repo();
    write(
        t.path(),
        "conf/strict.yml",
        "severity:\n  no-such-rule: info\n",
    );
    let r = run(t.path(), &["check", "--config", "conf/strict.yml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: conf/strict.yml:2:"),
        "{}",
        r.stderr
    );
    let r = run(t.path(), &["check", "--config", "conf/missing.yml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("conf/missing.yml"), "{}", r.stderr);
}

#[test]
fn config_is_found_in_a_parent_up_to_the_repository_root() {
    let t = repo();
    write(
        t.path(),
        ".immutabot.yml",
        "ignore_paths: ['sub/skip/**']\n",
    );
    write(t.path(), "sub/a.yml", READ_ONLY_COMPOSE);
    write(t.path(), "sub/skip/b.yml", READ_ONLY_COMPOSE);
    let r = run(&t.path().join("sub"), &["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // ignore_paths are relative to the settings file, not to the working directory.
    assert_eq!(json_paths(&r), ["a.yml"]);
}

#[test]
fn walk_honours_gitignore_hidden_extensions_and_ignore_paths() {
    let t = repo();
    for f in [
        "a.yml",
        "b.yaml",
        "c.json",
        "README.md",
        "generated/x.yml",
        ".hidden/h.yml",
        "vendor/v.yml",
    ] {
        write(t.path(), f, READ_ONLY_COMPOSE);
    }
    write(t.path(), ".gitignore", "generated/\n");
    write(t.path(), ".immutabot.yml", "ignore_paths: ['vendor/**']\n");

    let r = run(t.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_paths(&r), ["a.yml", "b.yaml", "c.json"]);

    let r = run(t.path(), &["check", "--format", "json", "--hidden"]);
    assert_eq!(
        json_paths(&r),
        [".hidden/h.yml", "a.yml", "b.yaml", "c.json"]
    );

    // Named files are always checked, whatever their name or the settings say.
    let r = run(
        t.path(),
        &[
            "check",
            "--format",
            "json",
            "README.md",
            "vendor/v.yml",
            "./a.yml",
        ],
    );
    assert_eq!(json_paths(&r), ["README.md", "a.yml", "vendor/v.yml"]);
}

#[test]
fn many_files_are_reported_in_path_order() {
    let t = repo();
    for i in (0..60).rev() {
        write(
            t.path(),
            &format!("d{}/f{i:02}.yml", i % 3),
            READ_ONLY_COMPOSE,
        );
    }
    let r = run(t.path(), &["check", "--format", "json", "d2", "d0", "d1"]);
    let paths = json_paths(&r);
    assert_eq!(paths.len(), 60);
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

#[test]
fn every_format_has_its_shape() {
    let t = repo();
    write(t.path(), "compose.yml", READ_ONLY_COMPOSE);

    let r = run(t.path(), &["check", "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["files"], 1);

    let r = run(t.path(), &["check", "--format", "sarif"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "immutabot");

    let r = run(t.path(), &["check", "--format", "gitlab"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v.is_array());

    let r = run(t.path(), &["check", "--format", "rdjson"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["source"]["name"], "immutabot");
    assert!(v["diagnostics"].is_array());

    let r = run(t.path(), &["check", "--format", "github"]);
    assert!(
        r.stdout.lines().all(|l| l.starts_with("::")),
        "{}",
        r.stdout
    );
}

#[test]
fn output_flag_writes_the_report_to_a_file() {
    let t = repo();
    write(t.path(), "compose.yml", READ_ONLY_COMPOSE);
    let r = run(
        t.path(),
        &["check", "--format", "json", "--output", "report.json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(v["version"], 1);
}

#[test]
fn fix_and_diff_leave_a_clean_file_alone() {
    let t = repo();
    write(t.path(), "compose.yml", READ_ONLY_COMPOSE);
    let r = run(t.path(), &["check", "--diff"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let r = run(t.path(), &["check", "--fix"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(t.path().join("compose.yml")).unwrap(),
        READ_ONLY_COMPOSE
    );
}

// ---- Behaviour of the real analysis core, seen through the CLI. ----

#[test]
fn writable_deployment_is_a_finding_and_exits_1() {
    let t = repo();
    write(t.path(), "deploy.yaml", DEPLOYMENT);
    let r = run(t.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = v["files"][0]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "writable-root-filesystem"
                && f["container"] == "web"
                && f["fix"].is_object()),
        "{findings:#?}"
    );

    let r = run(t.path(), &["check"]);
    assert!(
        r.stdout.contains("deploy.yaml:") && r.stdout.contains("error[writable-root-filesystem]"),
        "{}",
        r.stdout
    );
    // Errors fail by default and with an explicit `--fail-on error`.
    let r = run(t.path(), &["check", "--fail-on", "error"]);
    assert_eq!(r.code, 1);
}

#[test]
fn fix_patches_in_place_and_a_rerun_is_clean() {
    let t = repo();
    write(t.path(), "deploy.yaml", DEPLOYMENT);
    let r = run(t.path(), &["check", "--fix"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let fixed = std::fs::read_to_string(t.path().join("deploy.yaml")).unwrap();
    assert!(fixed.contains("readOnlyRootFilesystem: true"), "{fixed}");
    assert!(
        fixed.starts_with("apiVersion: apps/v1\nkind: Deployment\n"),
        "{fixed}"
    );

    let r = run(t.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let again = run(t.path(), &["check", "--fix"]);
    assert_eq!(again.code, 0);
    assert_eq!(
        std::fs::read_to_string(t.path().join("deploy.yaml")).unwrap(),
        fixed,
        "a second --fix changes nothing"
    );
}

#[test]
fn fix_keeps_bom_and_crlf() {
    let t = repo();
    let crlf = format!("\u{feff}{}", DEPLOYMENT.replace('\n', "\r\n"));
    write(t.path(), "deploy.yaml", &crlf);
    let r = run(t.path(), &["check", "--fix"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let fixed = std::fs::read_to_string(t.path().join("deploy.yaml")).unwrap();
    assert!(
        fixed.starts_with("\u{feff}apiVersion: apps/v1\r\n"),
        "{fixed:?}"
    );
    assert!(
        fixed.contains("readOnlyRootFilesystem: true\r\n"),
        "{fixed:?}"
    );
    assert!(!fixed.replace("\r\n", "").contains('\n'), "{fixed:?}");
}

#[test]
fn diff_prints_the_patch_and_writes_nothing() {
    let t = repo();
    write(t.path(), "k8s/deploy.yaml", DEPLOYMENT);
    let r = run(t.path(), &["check", "--diff"]);
    assert_eq!(r.code, 1, "findings still fail: {}", r.stderr);
    assert!(
        r.stdout
            .starts_with("--- a/k8s/deploy.yaml\n+++ b/k8s/deploy.yaml\n@@ "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with('+') && l.contains("readOnlyRootFilesystem: true")),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(t.path().join("k8s/deploy.yaml")).unwrap(),
        DEPLOYMENT
    );
}

#[test]
fn strict_ignores_suppressions() {
    let t = repo();
    let suppressed = DEPLOYMENT.replace(
        "        - name: web\n",
        "        # immutabot:ignore writable-root-filesystem legacy image writes to /\n        - name: web\n",
    );
    write(t.path(), "deploy.yaml", &suppressed);
    let r = run(t.path(), &["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 1);

    let r = run(t.path(), &["check", "--format", "json", "--strict"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 0);
    assert!(
        v["files"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("suppressed").is_none())
    );
}

#[test]
fn writable_compose_service_fails_and_config_fail_on_applies() {
    let t = repo();
    write(
        t.path(),
        "compose.yml",
        "services:\n  web:\n    image: nginx\n",
    );
    assert_eq!(run(t.path(), &["check"]).code, 1);
    write(
        t.path(),
        ".immutabot.yml",
        "severity:\n  writable-root-filesystem: info\nfail_on: warning\n",
    );
    assert_eq!(run(t.path(), &["check"]).code, 0);
    assert_eq!(run(t.path(), &["check", "--fail-on", "info"]).code, 1);
}

#[test]
fn other_yaml_in_a_directory_is_left_out_unless_named() {
    let dir = repo();
    write(dir.path(), "compose.yaml", READ_ONLY_COMPOSE);
    write(dir.path(), "ci/workflow.yml", "on: push\njobs: {}\n");
    let r = run(dir.path(), &["check", "--format", "json", "."]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 1, "{}", r.stdout);
    let r = run(
        dir.path(),
        &["check", "--format", "json", "ci/workflow.yml"],
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["files"][0]["format"], "skipped");
    assert_eq!(r.code, 0);
}

#[test]
fn standard_input_is_checked_and_diffed_but_not_fixed() {
    use std::io::Write as _;
    let dir = repo();
    let check = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_immutabot"))
            .args(args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // `--fix -` is refused before standard input is read, so the pipe may be closed.
        let _ = child.stdin.take().unwrap().write_all(DEPLOYMENT.as_bytes());
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    let (code, out) = check(&["check", "--format", "json", "-"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"][0]["path"], "<stdin>");
    assert_eq!(
        v["files"][0]["findings"][0]["rule"],
        "writable-root-filesystem"
    );
    let (code, out) = check(&["check", "--diff", "-"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("+++ b/<stdin>") && out.contains("readOnlyRootFilesystem: true"),
        "{out}"
    );
    let (code, _) = check(&["check", "--fix", "-"]);
    assert_eq!(code, 2);
}

#[test]
fn completions_are_generated_for_every_shell() {
    let t = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _immutabot"),
        ("zsh", "#compdef immutabot"),
        ("fish", "complete -c immutabot"),
        ("elvish", "edit:completion:arg-completer[immutabot]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = run(t.path(), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains(marker), "{shell}: {marker} missing");
        // Flags of subcommands are completed too.
        assert!(
            r.stdout.contains("fail-on"),
            "{shell}: check's flags missing"
        );
    }
    assert_eq!(run(t.path(), &["completions", "tcsh"]).code, 2);
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let t = tempfile::tempdir().unwrap();
    let script = run(t.path(), &["completions", "bash"]).stdout;
    write(t.path(), "immutabot.bash", &script);
    let ok = Command::new("bash")
        .args(["-n", "immutabot.bash"])
        .current_dir(t.path())
        .status()
        .expect("bash runs");
    assert!(ok.success());
}

#[test]
fn man_pages_are_generated_from_the_cli() {
    let t = tempfile::tempdir().unwrap();
    let r = run(t.path(), &["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(".TH immutabot 1"), "{}", r.stdout);
    assert!(r.stdout.contains("immutabot\\-check(1)"), "{}", r.stdout);

    let r = run(t.path(), &["man", "--out-dir", "pages"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let check = std::fs::read_to_string(t.path().join("pages/immutabot-check.1")).unwrap();
    assert!(check.contains(".TH immutabot-check 1"), "{check}");
    for flag in ["strict", "fail\\-on", "rdjson"] {
        assert!(check.contains(flag), "{flag} missing from the page");
    }
    for page in ["immutabot.1", "immutabot-serve.1", "immutabot-migrate.1"] {
        assert!(t.path().join("pages").join(page).is_file(), "{page}");
    }
}

/// A one-shot HTTP server on loopback answering `status`; returns its port.
fn answer_once(status: &'static str) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 512];
        while !request.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the request ended early");
            request.extend_from_slice(&buf[..n]);
        }
        assert!(request.starts_with(b"GET /readyz HTTP/1.0\r\n"));
        write!(s, "HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n").unwrap();
    });
    port
}

#[test]
fn probe_exits_0_on_2xx_and_1_otherwise() {
    let t = tempfile::tempdir().unwrap();
    let url = |port: u16| format!("http://127.0.0.1:{port}/readyz");
    assert_eq!(
        run(t.path(), &["probe", &url(answer_once("200 OK"))]).code,
        0
    );
    let r = run(
        t.path(),
        &["probe", &url(answer_once("503 Service Unavailable"))],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("answered 503"), "{}", r.stderr);
    // Nothing listening: a free port, closed again.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_eq!(
        run(t.path(), &["probe", "--timeout", "1", &url(port)]).code,
        1
    );
    assert_eq!(
        run(t.path(), &["probe", "https://127.0.0.1/readyz"]).code,
        2
    );
}

/// A file of `n` writable Deployments: one finding with a patch each.
fn deployments(n: usize) -> String {
    (0..n)
        .map(|i| DEPLOYMENT.replace("name: web\nspec", &format!("name: web-{i}\nspec")))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn skipped_files_are_counted_and_said_why_without_changing_the_exit_code() {
    let t = repo();
    write(
        t.path(),
        "chart/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  {{- if .Values.x }}\n  name: x\n  {{- end }}\n",
    );
    let r = run(t.path(), &["check", "chart"]);
    assert_eq!(
        r.code, 0,
        "a template skipped is not a failure: {}",
        r.stderr
    );
    insta::assert_snapshot!("skipped_files_text", r.stdout);
    assert_eq!(r.stderr, "");
    let r = run(t.path(), &["check", "--format", "json", "chart"]);
    assert_eq!(r.code, 0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["skipped"], 1);
    insta::assert_snapshot!("skipped_files_json_stderr", r.stderr);
}

#[test]
fn many_skipped_files_point_at_verbose() {
    let t = repo();
    for i in 0..12 {
        write(
            t.path(),
            &format!("t/{i:02}.yaml"),
            "kind: Deployment\napiVersion: apps/v1\nmetadata:\n  name: {{ .Values.name }}\n  {{- if .Values.x }}\n",
        );
    }
    let r = run(t.path(), &["check", "t"]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!("many_skipped_files_text", r.stdout);
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_findings_exit_code() {
    use std::io::Read as _;
    let t = repo();
    write(t.path(), "big.yaml", &deployments(2000));
    let mut child = Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .args(["check", "big.yaml"])
        .current_dir(t.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `head -1` does.
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
    assert_eq!(out.status.code(), Some(1), "the findings decide");
}

#[test]
fn an_unknown_rule_in_an_ignore_comment_is_a_warning_at_its_line() {
    let t = repo();
    write(
        t.path(),
        "compose.yml",
        "services:\n  # immutabot:ignore writeable-root-filesystem legacy app\n  web:\n    image: x\n    read_only: true\n",
    );
    let r = run(t.path(), &["check"]);
    assert_eq!(r.code, 0, "a warning does not fail by default");
    insta::assert_snapshot!("unknown_rule_in_comment", r.stdout);
    let r = run(t.path(), &["check", "--fail-on", "warning"]);
    assert_eq!(r.code, 1);
}

#[test]
fn a_usage_or_io_error_prints_only_the_error() {
    let t = repo();
    let r = run(t.path(), &["check", "--fix", "-"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    insta::assert_snapshot!("fix_stdin_error", r.stderr);
    let r = run(t.path(), &["check", "nope.yml"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    insta::assert_snapshot!("missing_path_error", r.stderr);
    let r = run(t.path(), &["check", "--fix", "nope.yml"]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn a_token_is_never_made_for_an_owner_no_forge_allows() {
    let dir = tempfile::tempdir().unwrap();
    let long = "a".repeat(300);
    for owner in ["a\"b", "50%off", long.as_str()] {
        let r = run(
            dir.path(),
            &[
                "token",
                "create",
                "--owner",
                owner,
                "--database-url",
                "postgres://127.0.0.1:1/none",
            ],
        );
        assert_eq!(r.code, 2, "{owner}: {}", r.stderr);
        assert!(
            r.stderr.contains("not an owner name a forge allows"),
            "{}",
            r.stderr
        );
    }
}
