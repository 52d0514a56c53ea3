//! `immutabot check` on real Helm charts (../shared/charts) and real Kustomize setups
//! (../shared/kustomize), rendered with the real, pinned helm and kubectl: what it finds is
//! what `helm template | immutabot check -` finds, each unit points into the chart's own
//! files, and every suggested patch, applied and rendered again, fixes what it says and
//! changes nothing else.

#[path = "support/tools.rs"]
mod tools;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CHARTS: [&str; 8] = [
    "external-dns",
    "external-secrets",
    "hello-world",
    "jenkins",
    "keda",
    "linkerd-control-plane",
    "tigera-operator",
    "vault",
];

fn immutabot(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> (String, String, i32) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_immutabot"));
    cmd.current_dir(dir)
        .arg("check")
        .args(["--helm".as_ref(), tools::helm().as_os_str()])
        .args(["--kubectl".as_ref(), tools::kubectl().as_os_str()])
        .args(["--color", "never"])
        .args(args)
        .env_remove("IMMUTABOT_HELM")
        .env_remove("IMMUTABOT_KUBECTL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("immutabot runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn helm_template(chart: &Path, values: &[PathBuf]) -> Vec<u8> {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(tools::helm());
    cmd.arg("template")
        .arg(chart)
        .env_clear()
        .env("HOME", home.path());
    for v in values {
        cmd.arg("--values").arg(v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A copy of `src` (a folder) at `dst`, recursively.
fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap().flatten() {
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// The chart copied without the values files it ships for testing: only its defaults render.
fn defaults_only(chart: &str, into: &Path) -> PathBuf {
    let dst = into.join(chart);
    copy_tree(&tools::shared("charts").join(chart), &dst);
    let _ = std::fs::remove_dir_all(dst.join("ci"));
    for e in std::fs::read_dir(&dst).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("values") && name != "values.yaml" && !name.ends_with(".json") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    dst
}

type Containers = BTreeMap<(String, String, String), usize>;

/// (kind, container, read-only) of every unit of a JSON report, counted.
fn containers(json: &str) -> Containers {
    let r: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let mut out = Containers::new();
    for f in r["files"].as_array().unwrap() {
        for u in f["units"].as_array().unwrap() {
            let kind = u["workload"]
                .as_str()
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_string();
            let key = (
                kind,
                u["container"].as_str().unwrap_or("").to_string(),
                u["read_only"].as_str().unwrap().to_string(),
            );
            *out.entry(key).or_default() += 1;
        }
    }
    out
}

#[test]
fn each_chart_finds_exactly_the_containers_that_helm_template_piped_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let mut table = Vec::new();
    for chart in CHARTS {
        let dir = defaults_only(chart, tmp.path());
        let values: Vec<PathBuf> = tools::required_values(chart).into_iter().collect();
        let mut args = vec!["--format", "json", chart];
        let v = values.first().map(|v| v.to_string_lossy().into_owned());
        if let Some(v) = &v {
            args.extend(["--values", v.as_str()]);
        }
        let (ours, err, _) = immutabot(tmp.path(), &args, None);
        let piped = helm_template(&dir, &values);
        let (theirs, _, _) = immutabot(tmp.path(), &["--format", "json", "-"], Some(&piped));
        let (ours_c, theirs_c) = (containers(&ours), containers(&theirs));
        assert_eq!(ours_c, theirs_c, "{chart}: {err}");
        assert!(!ours_c.is_empty(), "{chart}: no container found");
        points_into_the_chart(&ours, &tmp.path().join(chart), chart);
        table.push(format!(
            "{chart}: {} containers",
            ours_c.values().sum::<usize>()
        ));
    }
    eprintln!("{}", table.join("\n"));
}

/// Every unit's file is a file of the chart, and its line is a line of that file that
/// writes the container (its `name:`) or the action that prints it.
fn points_into_the_chart(json: &str, chart_dir: &Path, chart: &str) {
    let r: Value = serde_json::from_str(json).unwrap();
    for f in r["files"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        assert!(path.starts_with(&format!("{chart}/")), "{path}");
        let text = std::fs::read_to_string(chart_dir.join(&path[chart.len() + 1..]))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let lines: Vec<&str> = text.lines().collect();
        for u in f["units"].as_array().unwrap() {
            let line = u["line"].as_u64().unwrap() as usize;
            let at = lines
                .get(line - 1)
                .unwrap_or_else(|| panic!("{path}:{line}"));
            assert!(
                at.contains("name") || at.contains("{{"),
                "{path}:{line} `{at}` does not write container {}",
                u["container"]
            );
        }
    }
}

/// The rendered documents with what a read-only patch may add taken out: every
/// `readOnlyRootFilesystem`, `emptyDir` volumes and the mounts of them. Values helm makes up
/// at random (jenkins' test pod name, linkerd's heartbeat schedule) are masked.
fn normalised(rendered: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(rendered);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{e}"));
    docs.into_iter()
        .filter(|d| !d.is_null())
        .map(|mut d| {
            strip_patchable(&mut d);
            d
        })
        .collect()
}

fn strip_patchable(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(vols)) = map.get("volumes") {
                let scratch: Vec<String> = vols
                    .iter()
                    .filter(|v| v.get("emptyDir").is_some())
                    .filter_map(|v| v["name"].as_str().map(str::to_string))
                    .collect();
                drop_named(map, "volumes", &scratch);
                for list in ["containers", "initContainers"] {
                    if let Some(Value::Array(cs)) = map.get_mut(list) {
                        for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                            drop_named(c, "volumeMounts", &scratch);
                        }
                    }
                }
            }
            if let Some(Value::Object(sc)) = map.get_mut("securityContext") {
                sc.remove("readOnlyRootFilesystem");
                if sc.is_empty() {
                    map.remove("securityContext");
                }
            }
            map.remove("schedule");
            if let Some(Value::String(n)) = map.get_mut("name")
                && n.contains("-ui-test-")
            {
                *n = "ui-test".into();
            }
            map.values_mut().for_each(strip_patchable);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_patchable),
        _ => {}
    }
}

fn drop_named(map: &mut serde_json::Map<String, Value>, key: &str, names: &[String]) {
    if let Some(Value::Array(items)) = map.get_mut(key) {
        items.retain(|i| {
            !i["name"]
                .as_str()
                .is_some_and(|n| names.iter().any(|s| s == n))
        });
        if items.is_empty() {
            map.remove(key);
        }
    }
}

/// (workload, container, has a patch) of a writable-root finding.
type Writable = (String, String, bool);

/// The unsuppressed writable-root findings of a JSON report.
fn writable(json: &str) -> Vec<Writable> {
    let r: Value = serde_json::from_str(json).unwrap();
    let mut out = Vec::new();
    for f in r["files"].as_array().unwrap() {
        for g in f["findings"].as_array().unwrap() {
            if g["rule"] == "writable-root-filesystem" && g.get("suppressed").is_none() {
                out.push((
                    g["workload"].as_str().unwrap_or("").to_string(),
                    g["container"].as_str().unwrap_or("").to_string(),
                    !g["fix"].is_null(),
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Runs `check --fix` on a copy and returns (findings before, findings after).
fn fixed_copy(root: &Path, target: &str, extra: &[&str]) -> (Vec<Writable>, Vec<Writable>) {
    let json = |root: &Path| {
        let mut args = vec!["--format", "json", target];
        args.extend(extra);
        immutabot(root, &args, None).0
    };
    let before = writable(&json(root));
    let mut args = vec!["--fix", target];
    args.extend(extra);
    let (_, err, _) = immutabot(root, &args, None);
    assert!(!err.contains("error:"), "{err}");
    (before, writable(&json(root)))
}

#[test]
fn chart_patches_rendered_again_fix_what_they_say_and_change_nothing_else() {
    let mut table = Vec::new();
    for chart in CHARTS {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(chart);
        copy_tree(&tools::shared("charts").join(chart), &dir);
        let mut values: Vec<PathBuf> = tools::required_values(chart).into_iter().collect();
        let pinned = tmp.path().join("pinned.yaml");
        // jenkins makes up its admin password on every render.
        std::fs::write(&pinned, "controller:\n  admin:\n    password: pinned\n").unwrap();
        if chart == "jenkins" {
            values.push(pinned.clone());
        }
        let before_render = normalised(&helm_template(&dir, &values));
        let v: Vec<String> = values
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let extra: Vec<&str> = v.iter().flat_map(|v| ["--values", v.as_str()]).collect();
        let (before, after) = fixed_copy(tmp.path(), chart, &extra);
        let patched: Vec<_> = before.iter().filter(|f| f.2).collect();
        for f in &patched {
            assert!(
                !after.iter().any(|a| (&a.0, &a.1) == (&f.0, &f.1)),
                "{chart}: {f:?} was patched but is still writable: {after:?}"
            );
        }
        let after_render = normalised(&helm_template(&dir, &values));
        assert_eq!(
            before_render, after_render,
            "{chart}: the patch changed more than it should"
        );
        table.push(format!(
            "{chart}: {} writable, {} patched, {} left",
            before.len(),
            patched.len(),
            after.len()
        ));
    }
    eprintln!("{}", table.join("\n"));
}

fn kubectl_kustomize(dir: &Path) -> Vec<u8> {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(tools::kubectl())
        .arg("kustomize")
        .arg(dir)
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Folders of a setup that hold a kustomization file.
fn kustomizations(root: &Path, out: &mut Vec<PathBuf>) {
    if root.join("kustomization.yaml").is_file() || root.join("kustomization.yml").is_file() {
        out.push(root.to_path_buf());
    }
    for e in std::fs::read_dir(root).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            kustomizations(&e.path(), out);
        }
    }
}

#[test]
fn kustomize_patches_rendered_again_fix_what_they_say_and_change_nothing_else() {
    let setups = [
        "argo-rollouts",
        "descheduler",
        "kustomize-example-ldap",
        "kustomize-example-springboot",
        "node-feature-discovery",
    ];
    let mut table = Vec::new();
    for setup in setups {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(setup);
        copy_tree(&tools::shared("kustomize").join(setup), &dir);
        let mut folders = Vec::new();
        kustomizations(&dir, &mut folders);
        folders.sort();
        let is_component = |d: &Path| {
            std::fs::read_to_string(d.join("kustomization.yaml"))
                .is_ok_and(|t| t.contains("kind: Component"))
        };
        folders.retain(|d| !is_component(d));
        let before_renders: Vec<Vec<Value>> = folders
            .iter()
            .map(|d| normalised(&kubectl_kustomize(d)))
            .collect();
        let (before, after) = fixed_copy(tmp.path(), setup, &[]);
        let patched: Vec<_> = before.iter().filter(|f| f.2).collect();
        for f in &patched {
            assert!(
                !after.iter().any(|a| (&a.0, &a.1) == (&f.0, &f.1)),
                "{setup}: {f:?} was patched but is still writable: {after:?}"
            );
        }
        for (d, before_render) in folders.iter().zip(&before_renders) {
            let after_render = normalised(&kubectl_kustomize(d));
            assert_eq!(
                before_render,
                &after_render,
                "{}: the patch changed more than it should",
                d.display()
            );
        }
        table.push(format!(
            "{setup}: {} writable, {} patched, {} left",
            before.len(),
            patched.len(),
            after.len()
        ));
    }
    eprintln!("{}", table.join("\n"));
}

/// The exact text a user sees, findings and patches, for real charts and overlays.
#[test]
fn findings_and_patches_as_a_user_sees_them() {
    let shared = tools::shared("");
    for (name, target) in [
        ("vault", "charts/vault"),
        ("tigera_operator", "charts/tigera-operator"),
        ("hello_world", "charts/hello-world"),
        ("ldap", "kustomize/kustomize-example-ldap"),
        ("descheduler", "kustomize/descheduler"),
        ("node_feature_discovery", "kustomize/node-feature-discovery"),
    ] {
        let (text, err, _) = immutabot(&shared, &[target], None);
        let (diff, _, _) = immutabot(&shared, &["--diff", target], None);
        insta::assert_snapshot!(
            format!("render_{name}"),
            format!(
                "$ immutabot check {target}\n{text}{err}\n$ immutabot check --diff {target}\n{diff}"
            )
        );
    }
}

#[test]
fn a_chart_that_does_not_render_says_why_and_its_other_values_files_are_still_checked() {
    let (text, _, code) = immutabot(&tools::shared(""), &["charts/external-dns"], None);
    assert!(
        text.contains("charts/external-dns/Chart.yaml:1:1: error[render-failed]"),
        "{text}"
    );
    assert!(
        text.contains("at '/policy': got null, want string"),
        "{text}"
    );
    // ci/ci-values.yaml sets the policy: its render is checked.
    assert!(text.contains("1 unit"), "{text}");
    assert_eq!(code, 1);
}

#[test]
fn without_helm_a_chart_is_skipped_with_a_hint_and_the_rest_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(
        &tools::shared("charts/hello-world"),
        &tmp.path().join("chart"),
    );
    std::fs::write(
        tmp.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: busybox\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_immutabot"))
        .current_dir(tmp.path())
        .args([
            "check",
            "--color",
            "never",
            "--helm",
            "/nonexistent/helm",
            ".",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("pod.yaml:7:"), "{text}");
    assert!(
        text.contains("chart/Chart.yaml: skipped: Helm chart not rendered"),
        "{text}"
    );
}

#[test]
fn no_render_keeps_checking_charts_as_files() {
    let (text, _, _) = immutabot(
        &tools::shared(""),
        &["--no-render", "-v", "charts/hello-world"],
        None,
    );
    assert!(text.contains("skipped: template"), "{text}");
    assert!(!text.contains("writable-root-filesystem"), "{text}");
}

#[test]
fn a_chart_whose_render_never_ends_is_stopped_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("loop");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: loop\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n{{- range $i := until 2000000000 }}\n  k{{ $i }}: v\n{{- end }}\n",
    )
    .unwrap();
    let (text, _, code) = immutabot(tmp.path(), &["--render-timeout", "2", "loop"], None);
    assert!(
        text.contains("loop/Chart.yaml:1:1: error[render-failed] `helm template` with its default values: did not finish within 2 s and was stopped")
            || text.contains("printed more than 64 MiB and was stopped")
            // helm builds the whole output in memory before printing it.
            || text.contains("needed more than 2048 MiB of memory and was stopped"),
        "{text}"
    );
    assert_eq!(code, 1);
}

#[test]
fn a_chart_whose_templates_build_gigabytes_in_memory_is_stopped_at_its_memory_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("bomb");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: bomb\nversion: 0.1.0\n",
    )
    .unwrap();
    // Doubling a string 32 times wants 4 GiB and prints nothing: only the memory bound stops it.
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "{{- $s := \"x\" }}\n{{- range until 32 }}{{ $s = print $s $s }}{{ end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  n: \"{{ len $s }}\"\n",
    )
    .unwrap();
    let (text, _, code) = immutabot(tmp.path(), &["--render-timeout", "120", "bomb"], None);
    assert!(
        text.contains("bomb/Chart.yaml:1:1: error[render-failed] `helm template` with its default values: needed more than 2048 MiB of memory and was stopped"),
        "{text}"
    );
    assert_eq!(code, 1);
}

#[test]
fn what_cannot_render_offline_is_a_finding_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // A dependency that is not vendored into charts/: helm would have to download it.
    std::fs::create_dir_all(root.join("dep/templates")).unwrap();
    std::fs::write(
        root.join("dep/Chart.yaml"),
        "apiVersion: v2\nname: dep\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 17.0.0\n    repository: https://charts.bitnami.com/bitnami\n",
    )
    .unwrap();
    // A library chart renders only through the charts that use it.
    std::fs::create_dir_all(root.join("lib/templates")).unwrap();
    std::fs::write(
        root.join("lib/Chart.yaml"),
        "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
    )
    .unwrap();
    // A kustomization on a remote base: rendering is offline.
    std::fs::create_dir_all(root.join("remote")).unwrap();
    std::fs::write(
        root.join("remote/kustomization.yaml"),
        "resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0\n",
    )
    .unwrap();
    let (text, _, _) = immutabot(root, &["."], None);
    assert!(
        text.contains("dep/Chart.yaml:1:1: error[render-failed]")
            && text.contains("missing in charts/"),
        "{text}"
    );
    assert!(
        text.contains("lib/Chart.yaml: skipped: library chart"),
        "{text}"
    );
    assert!(
        text.contains("remote/kustomization.yaml:1:1: error[render-failed] not rendered: it builds on a remote base (https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0), and rendering is offline"),
        "{text}"
    );
}

#[test]
fn a_symbolic_link_in_a_chart_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("leak");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: leak\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "s3cret-outside-the-chart").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), chart.join("secret.txt")).unwrap();
    // The file's content becomes the container's name, so the report shows what was read.
    std::fs::write(
        chart.join("templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c{{ .Files.Get \"secret.txt\" }}\n      image: busybox\n",
    )
    .unwrap();
    let (text, _, _) = immutabot(tmp.path(), &["--format", "json", "leak"], None);
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("\"container\": \"c\""), "{text}");
}
