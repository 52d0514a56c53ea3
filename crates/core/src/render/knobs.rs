//! A Helm chart's values knobs, found by rendering rather than by a list of names.
//!
//! Chart authors name their knobs freely (`containerSecurityContext`,
//! `server.statefulSet.securityContext.container`, `extraVolumeMounts`), so a list of known
//! names misses most charts. Instead every key that could be one is set to a sentinel in a
//! probe values file; the caller renders the chart with it, and the rendered containers say
//! which sentinel reached which field. The fix is then written into `values.yaml` itself,
//! line-exact, so the person edits the file they own instead of the rendered output.

use crate::inventory::{Inventory, UnitFacts, kubernetes};
use crate::model::Fix;
use crate::patch::Planner;
use crate::patch::edit::{Edit, Editor, Style};
use crate::patch::render::Value;
use crate::yaml::{Kind, Limits, NodeId, Source, Stream};
use serde_json::{Map, Value as Json, json};

/// What a values key controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnobKind {
    /// A mapping rendered as a container's (or pod's) `securityContext`.
    SecurityContext,
    /// A list rendered into a pod's `volumes`.
    Volumes,
    /// A list rendered into a container's `volumeMounts`.
    VolumeMounts,
}

/// A candidate key in a values file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knob {
    /// Keys from the root of the values file to this one.
    pub path: Vec<String>,
    /// What the key would control, judged by its name and value.
    pub kind: KnobKind,
    /// 1-based line of the key.
    pub line: usize,
}

/// Which knobs reached one rendered container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    /// `Kind/name`, as the inventory names Kubernetes workloads.
    pub workload: String,
    /// The container's name.
    pub container: String,
    /// The knob whose sentinel is the container's `securityContext.readOnlyRootFilesystem`.
    pub security_context: Option<usize>,
    /// The first knob whose sentinel volume is in the container's pod.
    pub volumes: Option<usize>,
    /// The first knob whose sentinel mount is in the container's `volumeMounts`.
    pub volume_mounts: Option<usize>,
}

/// A scratch directory the fix mounts as an `emptyDir` volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScratchMount {
    /// The volume's name.
    pub name: String,
    /// Where the container mounts it.
    pub path: String,
}

const SENTINEL: &str = "immutabot-probe-";

/// Mappings inside a security context that are fields of it, not per-container blocks: a
/// probe key inside them can never land in `readOnlyRootFilesystem`.
const SC_FIELDS: &[&str] = &[
    "capabilities",
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
    "sysctls",
];

fn sentinel(i: usize) -> String {
    format!("{SENTINEL}{i}")
}

fn sentinel_index(text: &str) -> Option<usize> {
    text.strip_prefix(SENTINEL)?.parse().ok()
}

/// Every candidate key of a values.yaml text: mapping keys (at any depth, through mappings
/// only, never inside lists) whose name contains `securityContext` (case-insensitive) and
/// whose value is a mapping, `{}` or null, plus such mappings' own mapping-or-null children
/// (`securityContext: {pod: {}, container: {}}` is how some charts split pod and container
/// level); and keys whose name contains `volumeMounts` or `volumes` whose value is a
/// sequence, `[]` or null. Pod-level contexts are candidates too: the probe tells.
pub fn candidates(values_yaml: &str) -> Vec<Knob> {
    let s = Stream::parse(values_yaml, Limits::default());
    let mut out = Vec::new();
    if let Some(Some(root)) = s.docs.first() {
        walk(&s, *root, &mut Vec::new(), false, &mut out);
    }
    out
}

fn walk(s: &Stream, map: NodeId, path: &mut Vec<String>, in_sc: bool, out: &mut Vec<Knob>) {
    // An alias's target is edited for every place that uses it: not a knob of this key.
    if path.len() > 32 || !matches!(s.node(map).kind, Kind::Map { .. }) {
        return;
    }
    for (k, v) in s.own_entries(map) {
        let Some(name) = s.scalar(k) else { continue };
        let own_value =
            matches!(s.node(v).kind, Kind::Map { .. } | Kind::Seq { .. }) || s.is_null(v);
        let kind = own_value.then(|| classify(s, name, v, in_sc)).flatten();
        path.push(name.to_string());
        if let Some(kind) = kind {
            out.push(Knob {
                path: path.clone(),
                kind,
                line: s.node(k).start.line,
            });
        }
        let sc_here = kind == Some(KnobKind::SecurityContext) && !in_sc;
        if !in_sc || sc_here {
            walk(s, v, path, sc_here, out);
        }
        path.pop();
    }
}

fn classify(s: &Stream, name: &str, v: NodeId, in_sc: bool) -> Option<KnobKind> {
    let lower = name.to_ascii_lowercase();
    let map_like = s.is_map(v) || s.is_null(v);
    let seq_like = s.is_seq(v) || s.is_null(v);
    if map_like && (lower.contains("securitycontext") || in_sc && !SC_FIELDS.contains(&name)) {
        Some(KnobKind::SecurityContext)
    } else if seq_like && lower.contains("volumemounts") {
        Some(KnobKind::VolumeMounts)
    } else if seq_like && lower.contains("volumes") {
        Some(KnobKind::Volumes)
    } else {
        None
    }
}

/// A values file that sets each knob to its sentinel `immutabot-probe-<i>` (`i` its index
/// in `knobs`): SecurityContext knobs get `readOnlyRootFilesystem: "immutabot-probe-<i>"`
/// (a string, so one render tells all knobs apart; helm deep-merges it with the chart's own
/// values), Volumes knobs one `emptyDir` volume named by the sentinel, VolumeMounts knobs
/// one mount named by it at `/immutabot-probe-<i>`. Written as JSON, which is YAML.
///
/// A chart whose `values.schema.json` types `readOnlyRootFilesystem` as a boolean rejects
/// this file: use [`probe_values_bool`] and [`reached_bool`] for it. A chart whose templates
/// break on one knob's sentinel (a list the template expects in its own shape) fails the
/// whole render: probe the knobs one at a time with [`probe_values_subset`] then.
pub fn probe_values(knobs: &[Knob]) -> String {
    let all: Vec<usize> = (0..knobs.len()).collect();
    probe_values_subset(knobs, &all)
}

/// [`probe_values`] for the knobs at indexes `only`; sentinels keep the indexes in `knobs`,
/// so the results of several renders can be put together.
pub fn probe_values_subset(knobs: &[Knob], only: &[usize]) -> String {
    probe(knobs, |i| only.contains(&i), |i| Json::String(sentinel(i)))
}

/// The fallback probe for charts whose schema wants a boolean: only SecurityContext knob
/// `sc` is set, to `readOnlyRootFilesystem: value`. Render once with `true` and once with
/// `false`: the containers that follow ([`reached_bool`]) are the ones the knob reaches.
/// One pair of renders per knob.
pub fn probe_values_bool(knobs: &[Knob], sc: usize, value: bool) -> String {
    probe(knobs, |i| i == sc, |_| Json::Bool(value))
}

fn probe(
    knobs: &[Knob],
    include: impl Fn(usize) -> bool,
    read_only: impl Fn(usize) -> Json,
) -> String {
    let mut root = Map::new();
    for (i, k) in knobs.iter().enumerate().filter(|(i, _)| include(*i)) {
        let leaf = match k.kind {
            KnobKind::SecurityContext => json!({ "readOnlyRootFilesystem": read_only(i) }),
            KnobKind::Volumes => json!([{ "name": sentinel(i), "emptyDir": {} }]),
            KnobKind::VolumeMounts => {
                json!([{ "name": sentinel(i), "mountPath": format!("/{}", sentinel(i)) }])
            }
        };
        set(&mut root, &k.path, leaf);
    }
    let mut text = serde_json::to_string_pretty(&Json::Object(root)).unwrap_or_default();
    text.push('\n');
    text
}

/// Sets `path` to `leaf`, merging mappings: a security context and a knob nested in it
/// (`securityContext` and `securityContext.container`) both keep their keys.
fn set(map: &mut Map<String, Json>, path: &[String], leaf: Json) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        match (map.get_mut(first), leaf) {
            (Some(Json::Object(have)), Json::Object(new)) => have.extend(new),
            (_, leaf) => {
                map.insert(first.clone(), leaf);
            }
        }
        return;
    }
    let child = map
        .entry(first.clone())
        .or_insert_with(|| Json::Object(Map::new()));
    if !child.is_object() {
        *child = Json::Object(Map::new());
    }
    if let Json::Object(child) = child {
        set(child, rest, leaf);
    }
}

/// Which knob reached which container: reads the rendered (marker-free) `helm template`
/// output of the probe render, a multi-document stream, and returns every container of its
/// workloads with the knob indexes found in its `securityContext.readOnlyRootFilesystem`,
/// its pod's `volumes` and its `volumeMounts`.
pub fn reached(rendered: &str) -> Vec<Reached> {
    let s = Stream::parse(rendered, Limits::default());
    units(&s)
        .iter()
        .map(|u| Reached {
            workload: u.unit.workload.clone(),
            container: u.unit.container.clone().unwrap_or_default(),
            security_context: read_only_text(&s, u).and_then(sentinel_index),
            volumes: u.pod_spec.and_then(|p| first_sentinel(&s, p, "volumes")),
            volume_mounts: u.map.and_then(|m| first_sentinel(&s, m, "volumeMounts")),
        })
        .collect()
}

/// [`reached`] for the boolean fallback: `on` and `off` are renders with
/// [`probe_values_bool`] of knob `sc` set to `true` and `false`. A container is reached
/// when its `readOnlyRootFilesystem` follows the knob; the list knobs are read from `on`.
pub fn reached_bool(on: &str, off: &str, sc: usize) -> Vec<Reached> {
    let off_s = Stream::parse(off, Limits::default());
    let off_units = units(&off_s);
    let is_false = |r: &Reached| {
        off_units.iter().any(|u| {
            u.unit.workload == r.workload
                && u.unit.container.as_deref() == Some(r.container.as_str())
                && read_only_text(&off_s, u) == Some("false")
        })
    };
    let on_s = Stream::parse(on, Limits::default());
    let on_units = units(&on_s);
    let mut out = reached(on);
    for (r, u) in out.iter_mut().zip(&on_units) {
        let follows = read_only_text(&on_s, u) == Some("true") && is_false(r);
        r.security_context = follows.then_some(sc);
    }
    out
}

/// The entries of a container's `securityContext` in a render, as lines indented from
/// column 0, without `readOnlyRootFilesystem`: what the chart writes when its knob is empty.
/// Charts such as vault render built-in defaults only while the knob is empty, so a fix that
/// fills the knob must carry them (pass them to [`values_fix`] as `keep`) or drop them.
/// Empty when the container has none, or writes it in flow style.
pub fn rendered_security_context(rendered: &str, workload: &str, container: &str) -> Vec<String> {
    let s = Stream::parse(rendered, Limits::default());
    let src = Source::new(rendered);
    let unit = units(&s)
        .into_iter()
        .find(|u| u.unit.workload == workload && u.unit.container.as_deref() == Some(container));
    let Some(sc) = unit.and_then(|u| u.security_context) else {
        return Vec::new();
    };
    if !matches!(s.node(sc).kind, Kind::Map { flow: false, .. }) {
        return Vec::new();
    }
    let col = s.node(sc).start.col;
    let mut out = Vec::new();
    for (k, v) in s.own_entries(sc) {
        if s.scalar(k) == Some("readOnlyRootFilesystem") {
            continue;
        }
        let last = src
            .last_content_line(s.node(v).end.byte)
            .max(s.node(k).start.line);
        for line in s.node(k).start.line..=last {
            let l = src.line(line);
            out.push(
                l.get(col.min(l.len())..)
                    .unwrap_or("")
                    .trim_end()
                    .to_string(),
            );
        }
    }
    out
}

fn units(s: &Stream) -> Vec<UnitFacts> {
    let mut inv = Inventory::default();
    for root in s.docs.iter().flatten() {
        if kubernetes::is_manifest(s, *root) {
            kubernetes::inventory(s, *root, &mut inv);
        }
    }
    inv.units
}

fn read_only_text<'s>(s: &'s Stream, u: &UnitFacts) -> Option<&'s str> {
    s.get_str(u.security_context?, "readOnlyRootFilesystem")
}

fn first_sentinel(s: &Stream, map: NodeId, key: &str) -> Option<usize> {
    let (_, list) = s.get(map, key)?;
    s.items(list)
        .iter()
        .find_map(|&i| s.get_str(i, "name").and_then(sentinel_index))
}

/// The line-exact fix in values.yaml: `readOnlyRootFilesystem: true` in the security
/// context knob (replacing a `false`, filling `{}` or null, or adding a key to a block
/// mapping, keeping comments, order and indentation), the `emptyDir` volumes of `scratch`
/// appended to the volumes knob and their mounts to the mounts knob (either may be `None`
/// when the chart has no such knob). One fix per knob edited, so a review can take them
/// apart; one fix for all when their lines touch. Empty when a knob is not found as a plain
/// key (an alias, a merge) or already says `true` and nothing is to be mounted.
///
/// `keep` are lines (from [`rendered_security_context`]) written next to the switch when
/// the knob is empty (`{}` or null on a block mapping's line), so that the chart's built-in
/// context survives the knob being filled; ignored when the knob holds entries of its own
/// (the chart renders those, not its defaults) or sits inside a flow mapping.
pub fn values_fix(
    values_yaml: &str,
    security_context: &Knob,
    volumes: Option<&Knob>,
    mounts: Option<&Knob>,
    scratch: &[ScratchMount],
    keep: &[String],
) -> Vec<Fix> {
    let s = Stream::parse(values_yaml, Limits::default());
    let src = Source::new(values_yaml);
    let Some(Some(root)) = s.docs.first().copied() else {
        return Vec::new();
    };
    let ed = Editor {
        s: &s,
        src: &src,
        style: Style::learn(&s, &src),
    };
    let planner = Planner { ed };
    let mut parts: Vec<(String, Vec<Edit>)> = Vec::new();
    if let Some(edits) = switch_edits(&planner.ed, root, &security_context.path, keep) {
        let d = format!(
            "Set `{}.readOnlyRootFilesystem: true`",
            dotted(security_context)
        );
        parts.push((d, edits));
    }
    if !scratch.is_empty() {
        let lists = [(volumes, true), (mounts, false)];
        for (knob, is_volumes) in lists.into_iter().filter_map(|(k, v)| Some((k?, v))) {
            if let Some(edits) = list_edits(&planner, root, knob, scratch, is_volumes) {
                parts.push((list_description(knob, scratch, is_volumes), edits));
            }
        }
    }
    fixes(&planner.ed, parts)
}

fn fixes(ed: &Editor<'_>, parts: Vec<(String, Vec<Edit>)>) -> Vec<Fix> {
    let mut out: Vec<Fix> = Vec::new();
    for (d, edits) in &parts {
        match ed.fix(d.clone(), edits.clone()) {
            Some(f) => out.push(f),
            None => return Vec::new(),
        }
    }
    out.sort_by_key(|f| f.start_line);
    if out.windows(2).all(|w| w[0].end_line < w[1].start_line) {
        return out;
    }
    let description = parts.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>();
    let edits = parts.iter().flat_map(|(_, e)| e.iter().cloned()).collect();
    ed.fix(description.join("; "), edits).into_iter().collect()
}

fn dotted(k: &Knob) -> String {
    k.path.join(".")
}

fn list_description(knob: &Knob, scratch: &[ScratchMount], is_volumes: bool) -> String {
    let names: Vec<String> = scratch
        .iter()
        .map(|m| format!("`{}`", if is_volumes { &m.name } else { &m.path }))
        .collect();
    match is_volumes {
        true => format!(
            "Add `emptyDir` volumes {} to `{}`",
            names.join(", "),
            dotted(knob)
        ),
        false => format!("Mount {} through `{}`", names.join(", "), dotted(knob)),
    }
}

/// The mapping holding the knob's key, and the key and value nodes, written in the file
/// itself (no alias, no merge: editing those would change other keys too).
fn locate(s: &Stream, root: NodeId, path: &[String]) -> Option<(NodeId, NodeId, NodeId)> {
    let (last, parents) = path.split_last()?;
    let mut map = root;
    for key in parents {
        let (_, v) = s.own(map, key)?;
        if s.resolve(v) != v || !s.is_map(v) {
            return None;
        }
        map = v;
    }
    let (k, v) = s.own(map, last)?;
    (s.resolve(v) == v).then_some((map, k, v))
}

fn switch_edits(
    ed: &Editor<'_>,
    root: NodeId,
    path: &[String],
    keep: &[String],
) -> Option<Vec<Edit>> {
    let s = ed.s;
    let (_, key, v) = locate(s, root, path)?;
    let line = "readOnlyRootFilesystem: true".to_string();
    let value = Value::map([("readOnlyRootFilesystem", Value::Bool(true))]);
    let mut lines = keep.to_vec();
    lines.push(line.clone());
    if s.is_null(v) {
        return Some(match ed.flow_parent(key) {
            Some((parent, v)) => vec![ed.replace_value(v, parent, &value)],
            None => ed.add_under_key(key, &lines),
        });
    }
    if !keep.is_empty() && ed.flow_parent(key).is_none() && is_empty_flow_map(s, v) {
        // `key: {}` becomes a block mapping: the braces go, the lines come under the key.
        let mut edits = vec![delete_with_blanks(ed, v)];
        edits.extend(ed.add_under_key(key, &lines));
        return Some(edits);
    }
    if !s.is_map(v) || s.is_duplicated(v, "readOnlyRootFilesystem") {
        return None;
    }
    match s.own(v, "readOnlyRootFilesystem") {
        Some((_, node)) if s.scalar(node) == Some("true") && ed.raw(node) == "true" => None,
        Some((_, node)) if s.scalar(node).is_some() => Some(vec![ed.replace(node, "true")]),
        Some(_) => None,
        None => Some(vec![ed.add_to_map(
            v,
            &[line],
            "readOnlyRootFilesystem",
            &Value::Bool(true),
        )?]),
    }
}

fn is_empty_flow_map(s: &Stream, v: NodeId) -> bool {
    matches!(&s.node(v).kind, Kind::Map { flow: true, entries } if entries.is_empty())
}

/// Deletes a node's text and the blanks before it (`key: {}` becomes `key:`).
fn delete_with_blanks(ed: &Editor<'_>, v: NodeId) -> Edit {
    let n = ed.s.node(v);
    let bytes = ed.src.text().as_bytes();
    let mut at = n.start.byte;
    while at > 0 && matches!(bytes[at - 1], b' ' | b'\t') {
        at -= 1;
    }
    Edit {
        at,
        end: n.end.byte,
        text: String::new(),
        join: "",
    }
}

fn list_edits(
    p: &Planner<'_>,
    root: NodeId,
    knob: &Knob,
    scratch: &[ScratchMount],
    is_volumes: bool,
) -> Option<Vec<Edit>> {
    let (map, _, _) = locate(p.ed.s, root, &knob.path)?;
    let key = knob.path.last()?;
    let item = |m: &ScratchMount| -> (Vec<String>, Value) {
        if is_volumes {
            let v = Value::map([
                ("name", Value::str(&m.name)),
                ("emptyDir", Value::Map(vec![])),
            ]);
            (vec![format!("name: {}", m.name), "emptyDir: {}".into()], v)
        } else {
            let v = Value::map([
                ("name", Value::str(&m.name)),
                ("mountPath", Value::str(&m.path)),
            ]);
            (
                vec![
                    format!("name: {}", m.name),
                    format!("mountPath: {}", m.path),
                ],
                v,
            )
        }
    };
    let (lines, values): (Vec<_>, Vec<_>) = scratch.iter().map(item).unzip();
    p.append_items(map, key, &lines, |i| values[i].clone())
}

#[cfg(test)]
mod tests;

/// The scratch mounts a rendered container still needs: the paths the knowledge base says
/// its image writes, less those it already mounts, each named as the core's patches name
/// them.
pub fn scratch_needed(rendered: &str, workload: &str, container: &str) -> Vec<ScratchMount> {
    let s = Stream::parse(rendered, Limits::default());
    let Some(u) = units(&s)
        .into_iter()
        .find(|u| u.unit.workload == workload && u.unit.container.as_deref() == Some(container))
    else {
        return Vec::new();
    };
    crate::knowledge::needs(&u)
        .into_iter()
        .filter(|p| !crate::knowledge::covered(p, &u.writable_mounts))
        .map(|p| ScratchMount {
            name: crate::patch::volume_name(&p),
            path: p,
        })
        .collect()
}
