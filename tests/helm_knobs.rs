//! Finding a chart's knobs by rendering, over the real charts in ../shared/charts: which
//! values keys reach which containers, and whether the values.yaml fix renders read-only
//! containers that differ from the default render only in the fields the fix is about.

#[path = "support/tools.rs"]
mod tools;

use immutabot::patch::apply_all;
use immutabot::yaml::{Kind, Limits, NodeId, Stream};
use immutabot_core::render::knobs::{
    Knob, KnobKind, Reached, ScratchMount, candidates, probe_values, probe_values_bool,
    probe_values_subset, reached, reached_bool, rendered_security_context, values_fix,
};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

const CHARTS: &[&str] = &[
    "external-secrets",
    "external-dns",
    "keda",
    "jenkins",
    "linkerd-control-plane",
    "vault",
    "tigera-operator",
    "hello-world",
];

struct Helm {
    home: tempfile::TempDir,
}

impl Helm {
    /// `helm template t CHART -f REQUIRED… -f VALUES…`, offline and without the user's
    /// settings; `required` are the values the chart needs to render at all.
    fn render(
        &self,
        chart: &Path,
        values: &[&Path],
        required: &[PathBuf],
    ) -> Result<String, String> {
        let mut cmd = Command::new(tools::helm());
        cmd.env_clear()
            .env("HOME", self.home.path())
            .arg("template")
            .arg("t")
            .arg(chart);
        for v in required {
            cmd.arg("-f").arg(v);
        }
        for v in values {
            cmd.arg("-f").arg(v);
        }
        let out = cmd.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8(out.stdout).expect("helm writes UTF-8"))
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.home.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// Which knobs reach which containers: one render with string sentinels; when the render
/// fails, one render per knob, and for a security context knob whose string the chart's
/// schema rejects, a pair of boolean renders. Knobs whose probe breaks the chart are left out.
fn probe(h: &Helm, chart: &Path, set: &[PathBuf], knobs: &[Knob]) -> (Vec<Reached>, String) {
    let p = h.write("probe.yaml", &probe_values(knobs));
    let e = match h.render(chart, &[&p], set) {
        Ok(out) => return (reached(&out), "one render".into()),
        Err(e) => e,
    };
    let first = e.lines().next().unwrap_or("").to_string();
    eprintln!(
        "{}: one probe render failed ({first}): one knob at a time",
        chart.display()
    );
    let mut all: Option<Vec<Reached>> = None;
    let (mut bools, mut broken) = (0, Vec::new());
    for (i, k) in knobs.iter().enumerate() {
        let one = h.write("one.yaml", &probe_values_subset(knobs, &[i]));
        let got = match h.render(chart, &[&one], set) {
            Ok(out) => reached(&out),
            Err(e) if k.kind == KnobKind::SecurityContext && e.contains("want boolean") => {
                bools += 1;
                let on = h.write("on.yaml", &probe_values_bool(knobs, i, true));
                let off = h.write("off.yaml", &probe_values_bool(knobs, i, false));
                match (h.render(chart, &[&on], set), h.render(chart, &[&off], set)) {
                    (Ok(on), Ok(off)) => reached_bool(&on, &off, i),
                    _ => continue,
                }
            }
            Err(_) => {
                broken.push(k.path.join("."));
                continue;
            }
        };
        merge(&mut all, got);
    }
    let how = format!(
        "per knob ({bools} boolean; broke the render: {})",
        broken.join(", ")
    );
    (all.unwrap_or_default(), how)
}

fn merge(all: &mut Option<Vec<Reached>>, got: Vec<Reached>) {
    let Some(all) = all else {
        *all = Some(got);
        return;
    };
    for (a, r) in all.iter_mut().zip(got) {
        assert_eq!((&a.workload, &a.container), (&r.workload, &r.container));
        a.security_context = a.security_context.or(r.security_context);
        a.volumes = a.volumes.or(r.volumes);
        a.volume_mounts = a.volume_mounts.or(r.volume_mounts);
    }
}

/// A document as JSON, scalars as their text: enough to compare two renders.
fn to_json(s: &Stream, n: NodeId) -> Json {
    match &s.node(s.resolve(n)).kind {
        Kind::Scalar { value, .. } => Json::String(value.to_string()),
        Kind::Seq { items, .. } => Json::Array(items.iter().map(|&i| to_json(s, i)).collect()),
        Kind::Map { entries, .. } => Json::Object(
            entries
                .iter()
                .map(|&(k, v)| (s.scalar(k).unwrap_or("").to_string(), to_json(s, v)))
                .collect(),
        ),
        Kind::Alias(_) => Json::Null,
    }
}

fn docs(rendered: &str) -> Vec<Json> {
    let s = Stream::parse(rendered, Limits::default());
    assert!(s.error.is_none(), "{:?}", s.error);
    s.docs.iter().flatten().map(|&d| to_json(&s, d)).collect()
}

/// Removes what the fix adds (read-only switches, the scratch volumes and mounts), and what
/// only exists to hold them, anywhere in the document.
fn strip(v: &mut Json) {
    match v {
        Json::Object(m) => {
            if let Some(Json::Object(sc)) = m.get_mut("securityContext") {
                sc.remove("readOnlyRootFilesystem");
            }
            for list in ["volumes", "volumeMounts"] {
                if let Some(Json::Array(items)) = m.get_mut(list) {
                    items.retain(|i| i.get("name").and_then(Json::as_str) != Some("tmp"));
                }
            }
            m.values_mut().for_each(strip);
            m.retain(|k, v| {
                let empty = v.as_object().is_some_and(|o| o.is_empty())
                    || v.as_array().is_some_and(|a| a.is_empty());
                !(empty && matches!(k.as_str(), "securityContext" | "volumes" | "volumeMounts"))
            });
        }
        Json::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

/// The read-only switch and the /tmp mount of each container of a render.
fn container_state(rendered: &str) -> Vec<(String, String, bool, bool)> {
    let s = Stream::parse(rendered, Limits::default());
    let mut out = Vec::new();
    for d in s.docs.iter().flatten() {
        let j = to_json(&s, *d);
        let kind = j["kind"].as_str().unwrap_or("").to_string();
        let name = j["metadata"]["name"].as_str().unwrap_or("").to_string();
        let spec = match kind.as_str() {
            "Pod" => &j["spec"],
            "CronJob" => &j["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => &j["spec"]["template"]["spec"],
        };
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for c in spec[list].as_array().into_iter().flatten() {
                let ro = c["securityContext"]["readOnlyRootFilesystem"] == "true";
                let tmp = c["volumeMounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|m| m["name"] == "tmp" && m["mountPath"] == "/tmp");
                let cname = c["name"].as_str().unwrap_or("").to_string();
                out.push((format!("{kind}/{name}"), cname, ro, tmp));
            }
        }
    }
    out
}

fn name(knobs: &[Knob], i: Option<usize>) -> String {
    i.map_or("-".into(), |i| knobs[i].path.join("."))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// One group of containers that share their knobs: security context, volumes, mounts.
type Group = (usize, Option<usize>, Option<usize>);

/// Patches a copy of the chart's values.yaml for one group of containers, renders it and
/// checks them: read-only, /tmp mounted where a mounts knob reaches them, and the render
/// otherwise equal to the default one. Returns what differs beyond those fields.
fn check_fix(
    h: &Helm,
    chart: &str,
    set: &[PathBuf],
    knobs: &[Knob],
    g: Group,
    members: &[&Reached],
    default: &str,
) -> Vec<String> {
    let dir = tools::shared("charts").join(chart);
    let values = std::fs::read_to_string(dir.join("values.yaml")).unwrap();
    let tmp = [ScratchMount {
        name: "tmp".into(),
        path: "/tmp".into(),
    }];
    let (sc, vols, mounts) = g;
    let first = members[0];
    let keep = rendered_security_context(default, &first.workload, &first.container);
    let fixes = values_fix(
        &values,
        &knobs[sc],
        vols.map(|i| &knobs[i]),
        mounts.map(|i| &knobs[i]),
        &tmp,
        &keep,
    );
    assert!(
        !fixes.is_empty(),
        "{chart}: no values fix for {}",
        name(knobs, Some(sc))
    );
    let (patched, n) = apply_all(&values, &fixes);
    assert_eq!(n, fixes.len());
    let copy = h.home.path().join(format!("chart-{chart}-{sc}"));
    copy_dir(&dir, &copy);
    std::fs::write(copy.join("values.yaml"), &patched).unwrap();
    let fixed = h.render(&copy, &[], set).expect("patched chart renders");
    let state = container_state(&fixed);
    for r in members {
        let (_, _, ro, tmp) = state
            .iter()
            .find(|(w, c, _, _)| *w == r.workload && *c == r.container)
            .unwrap_or_else(|| {
                panic!("{chart}: {}/{} gone after the fix", r.workload, r.container)
            });
        assert!(
            ro,
            "{chart}: {} {} not read-only after the fix",
            r.workload, r.container
        );
        if mounts.is_some() {
            assert!(
                tmp,
                "{chart}: {} {} has no /tmp mount after the fix",
                r.workload, r.container
            );
        }
    }
    let (mut b, mut a) = (docs(default), docs(&fixed));
    b.iter_mut().for_each(strip);
    a.iter_mut().for_each(strip);
    assert_eq!(a.len(), b.len(), "{chart}: documents added or lost");
    a.iter()
        .zip(&b)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| {
            format!(
                "{}/{}:\n  before {}\n  after  {}",
                a["kind"], a["metadata"]["name"], b, a
            )
        })
        .collect()
}

#[test]
fn knobs_of_real_charts() {
    let h = Helm {
        home: tempfile::tempdir().unwrap(),
    };
    let mut table = vec!["| chart | probe | workload | container | default ro | securityContext knob | volumes knob | mounts knob | values fix |".to_string(), "|---|---|---|---|---|---|---|---|---|".to_string()];
    let mut fixed_charts = Vec::new();
    for &chart in CHARTS {
        let set: Vec<PathBuf> = tools::required_values(chart).into_iter().collect();
        let set = set.as_slice();
        let dir = tools::shared("charts").join(chart);
        let values = std::fs::read_to_string(dir.join("values.yaml")).unwrap();
        let knobs = candidates(&values);
        let default = h
            .render(&dir, &[], set)
            .unwrap_or_else(|e| panic!("{chart}: {e}"));
        let ro: Vec<_> = container_state(&default);
        let (reach, how) = probe(&h, &dir, set, &knobs);
        assert_eq!(
            reach.len(),
            ro.len(),
            "{chart}: the probe changed the containers"
        );
        let mut groups: Vec<(Group, Vec<&Reached>)> = Vec::new();
        for r in &reach {
            let default_ro = ro
                .iter()
                .any(|(w, c, ro, _)| *w == r.workload && *c == r.container && *ro);
            let mut outcome = String::from("-");
            if let (Some(sc), false) = (r.security_context, default_ro) {
                let g = (sc, r.volumes, r.volume_mounts);
                match groups.iter_mut().find(|(k, _)| *k == g) {
                    Some((_, m)) => m.push(r),
                    None => groups.push((g, vec![r])),
                }
                outcome = format!("group {sc}");
            }
            table.push(format!(
                "| {chart} | {how} | {} | {} | {default_ro} | {} | {} | {} | {outcome} |",
                r.workload,
                r.container,
                name(&knobs, r.security_context),
                name(&knobs, r.volumes),
                name(&knobs, r.volume_mounts)
            ));
        }
        for (g, members) in &groups {
            let diffs = check_fix(&h, chart, set, &knobs, *g, members, &default);
            let verdict = if diffs.is_empty() {
                "clean".to_string()
            } else {
                format!("differs: {}", diffs.join("; "))
            };
            eprintln!(
                "{chart}: fix via {} / {} / {}: {verdict}",
                name(&knobs, Some(g.0)),
                name(&knobs, g.1),
                name(&knobs, g.2)
            );
            fixed_charts.push((chart, diffs));
        }
    }
    eprintln!("{}", table.join("\n"));
    for chart in ["vault", "tigera-operator"] {
        assert!(
            fixed_charts.iter().any(|(c, _)| *c == chart),
            "{chart}: no writable container with a knob"
        );
    }
    let unclean: Vec<_> = fixed_charts.iter().filter(|(_, d)| !d.is_empty()).collect();
    assert!(
        unclean.is_empty(),
        "fixes that change more than their fields: {unclean:#?}"
    );
}
