//! Kustomize renders, read back to the files they came from, and the overlay edits that make
//! their containers read-only.
//!
//! `kubectl kustomize` forgets where each object was written. Asking it for build metadata
//! (`buildMetadata: [originAnnotations, transformerAnnotations]`) in a wrapper kustomization
//! that lists the real one keeps the real files untouched and makes kustomize annotate each
//! object with its source file and the transformers that touched it. Those annotations are
//! read here and then removed, so that analysis sees exactly what a plain render deploys.
//!
//! What kustomize v5.7.1 prints (`kubectl` v1.35.2):
//! - a resource read from a file: `config.kubernetes.io/origin: "path: <file>\n"`, relative
//!   to the wrapper's folder; from a remote base, `repo:` and `ref:` lines follow and `path`
//!   is relative to the repository root;
//! - a generated object (`configMapGenerator`, …): `configuredIn: <kustomization.yaml>` and
//!   `configuredBy: {apiVersion: builtin, kind: ConfigMapGenerator}`, no `path`;
//! - `alpha.config.kubernetes.io/transformations`: a list of `{configuredIn, configuredBy}`,
//!   one per transformer run over the object's layer, in the order they ran. It names the
//!   kustomization.yaml and the transformer kind (`PatchTransformer`, `PrefixTransformer`,
//!   `NamespaceTransformer`, …), never the patch file, and is written whether or not the
//!   transformer changed the object (a ConfigMap lists the Deployment's patches too).
//!
//! Nothing here reads files or starts processes: callers write the wrapper and run kubectl.

use crate::model::Fix;
use crate::patch::edit::{Edit, Editor, Style};
use crate::patch::render::Value;
use crate::yaml::{Kind, Limits, NodeId, Source, Stream};

/// The annotation kustomize writes with an object's source file.
pub const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
/// The annotation kustomize writes with the transformers run over an object.
pub const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";

/// The wrapper kustomization text that renders `target` (relative path from the wrapper's
/// folder) with origin and transformer annotations.
///
/// Kustomize refuses absolute paths in `resources`, hence the relative path; it is quoted so
/// that a folder named like a YAML keyword or with `#` in it stays a plain path.
pub fn wrapper(target_relative: &str) -> String {
    format!(
        "resources:\n- {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        crate::patch::render::json_string(target_relative)
    )
}

/// [`wrapper`] for a Component (`kind: Component`): kustomize reads those only from
/// `components:`, and a wrapper with no resources of its own renders just what it adds.
pub fn wrapper_component(target_relative: &str) -> String {
    format!(
        "components:\n- {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        crate::patch::render::json_string(target_relative)
    )
}

/// Whether a kustomization text declares a Component, which [`wrapper_component`] lists.
pub fn is_component(kustomization_yaml: &str) -> bool {
    let s = parse(kustomization_yaml);
    s.docs
        .first()
        .copied()
        .flatten()
        .is_some_and(|r| s.get_str(s.resolve(r), "kind") == Some("Component"))
}

/// A transformer or generator as kustomize names it in `configuredBy`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfiguredBy {
    /// `builtin` for kustomize's own transformers, else the plugin's apiVersion.
    pub api_version: String,
    /// `PatchTransformer`, `ConfigMapGenerator`, …
    pub kind: String,
    /// A plugin's metadata.name; builtins have none.
    pub name: Option<String>,
}

/// One transformer run recorded in [`TRANSFORMATIONS_ANNOTATION`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transformation {
    /// The kustomization.yaml (or Component) that configured it, relative to the wrapper.
    pub configured_in: String,
    /// Which transformer ran.
    pub configured_by: ConfiguredBy,
}

/// Where one rendered object came from.
///
/// `path` is optional, unlike in the first sketch of this API: generated objects have none,
/// only `configured_in`/`configured_by`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// The resource file as printed: relative to the wrapper folder, or to the repository
    /// root when `repo` is set.
    pub path: Option<String>,
    /// The remote repository the file was fetched from.
    pub repo: Option<String>,
    /// The git ref of `repo`.
    pub git_ref: Option<String>,
    /// For a generated object, the kustomization.yaml holding the generator.
    pub configured_in: Option<String>,
    /// For a generated object, the generator.
    pub configured_by: Option<ConfiguredBy>,
}

/// One document of a rendered stream, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenderedObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name` (as rendered: prefixes, suffixes and hashes included).
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// The origin annotation, if present.
    pub origin: Option<Origin>,
    /// The transformer annotation, in the order the transformers ran. Kept apart from
    /// `origin` because kustomize writes the two independently.
    pub transformations: Vec<Transformation>,
    /// Whether the object holds a pod spec where its kind keeps one ([`pod_spec_path`]).
    pub has_pod_spec: bool,
}

/// Where a workload kind keeps its pod spec. Argo Rollouts are included: the inventory finds
/// their containers by shape, and their pod template sits where a Deployment's does.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "PodTemplate" => &["template", "spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
        | "DeploymentConfig"
        | "Rollout" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

fn parse(text: &str) -> Stream {
    Stream::parse(text, Limits::default())
}

fn str_at(s: &Stream, map: NodeId, key: &str) -> Option<String> {
    s.get_str(map, key)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn configured_by(s: &Stream, map: NodeId) -> Option<ConfiguredBy> {
    let (_, by) = s.get(map, "configuredBy")?;
    if !s.is_map(by) {
        return None;
    }
    Some(ConfiguredBy {
        api_version: str_at(s, by, "apiVersion").unwrap_or_default(),
        kind: str_at(s, by, "kind").unwrap_or_default(),
        name: str_at(s, by, "name"),
    })
}

/// Reads an origin annotation's value (itself a small YAML mapping).
pub fn parse_origin(value: &str) -> Option<Origin> {
    let s = parse(value);
    let root = s.resolve(s.docs.first().copied().flatten()?);
    if !s.is_map(root) {
        return None;
    }
    Some(Origin {
        path: str_at(&s, root, "path"),
        repo: str_at(&s, root, "repo"),
        git_ref: str_at(&s, root, "ref"),
        configured_in: str_at(&s, root, "configuredIn"),
        configured_by: configured_by(&s, root),
    })
}

/// Reads a transformations annotation's value (a YAML list).
pub fn parse_transformations(value: &str) -> Vec<Transformation> {
    let s = parse(value);
    let Some(root) = s.docs.first().copied().flatten() else {
        return Vec::new();
    };
    s.items(root)
        .iter()
        .filter(|&&i| s.is_map(i))
        .map(|&i| Transformation {
            configured_in: str_at(&s, i, "configuredIn").unwrap_or_default(),
            configured_by: configured_by(&s, i).unwrap_or_default(),
        })
        .collect()
}

/// Each document of the rendered stream (in order): kind, name, namespace, and its origin
/// and transformations when annotated. Empty documents are skipped.
pub fn objects(rendered: &str) -> Vec<RenderedObject> {
    let s = parse(rendered);
    let mut out = Vec::new();
    for root in s.docs.iter().flatten() {
        let root = s.resolve(*root);
        if !s.is_map(root) {
            continue;
        }
        let text = |path: &[&str]| {
            s.path(root, path)
                .and_then(|n| s.scalar(n))
                .map(str::to_string)
        };
        let kind = text(&["kind"]).unwrap_or_default();
        let annotation = |key: &str| {
            s.path(root, &["metadata", "annotations"])
                .and_then(|a| s.get_str(a, key))
        };
        let has_pod_spec = pod_spec_path(&kind)
            .and_then(|p| s.path(root, p))
            .is_some_and(|n| s.is_map(n));
        out.push(RenderedObject {
            api_version: text(&["apiVersion"]).unwrap_or_default(),
            name: text(&["metadata", "name"]).unwrap_or_default(),
            namespace: text(&["metadata", "namespace"]),
            origin: annotation(ORIGIN_ANNOTATION).and_then(parse_origin),
            transformations: annotation(TRANSFORMATIONS_ANNOTATION)
                .map(parse_transformations)
                .unwrap_or_default(),
            has_pod_spec,
            kind,
        });
    }
    out
}

/// The rendered text with the build-metadata annotations removed (origin and
/// transformations; an `annotations:` mapping left empty goes too), so that analysis sees
/// what deploys. Kustomize prints both block-style and sorted, so removing their lines gives
/// the bytes of a render without `buildMetadata`.
pub fn strip_annotations(rendered: &str) -> String {
    let s = parse(rendered);
    let src = Source::new(rendered);
    let ed = Editor {
        s: &s,
        src: &src,
        style: Style::learn(&s, &src),
    };
    let ours = |k: NodeId| {
        matches!(
            s.scalar(k),
            Some(ORIGIN_ANNOTATION | TRANSFORMATIONS_ANNOTATION)
        )
    };
    let mut edits: Vec<Edit> = Vec::new();
    for root in s.docs.iter().flatten() {
        let Some((_, meta)) = s.get(s.resolve(*root), "metadata") else {
            continue;
        };
        let Some((akey, ann)) = s.own(meta, "annotations") else {
            continue;
        };
        // Flow mappings are never printed by kustomize; left alone rather than half-edited.
        if !matches!(s.node(ann).kind, Kind::Map { flow: false, .. }) {
            continue;
        }
        let entries: Vec<(NodeId, NodeId)> = s.own_entries(ann).collect();
        if entries.is_empty() || !entries.iter().any(|&(k, _)| ours(k)) {
            continue;
        }
        if entries.iter().all(|&(k, _)| ours(k)) && !ed.is_flow(meta) {
            edits.push(ed.delete_entry(akey, ann));
        } else {
            edits.extend(
                entries
                    .iter()
                    .filter(|&&(k, _)| ours(k))
                    .map(|&(k, v)| ed.delete_entry(k, v)),
            );
        }
    }
    let mut out = String::with_capacity(rendered.len());
    let mut pos = 0;
    edits.sort_by_key(|e| e.at);
    for e in edits {
        if e.at < pos {
            continue;
        }
        out.push_str(&rendered[pos..e.at]);
        out.push_str(&e.text);
        pos = e.end;
    }
    out.push_str(&rendered[pos..]);
    out
}

/// Whether a resources/bases/components entry points at the network. Kustomize takes any
/// entry it cannot find locally for a go-getter or git URL; this recognises the spellings
/// of those URLs (schemes, scp-like `git@host:`, known hosts, `?ref=` query) without
/// touching the file system.
pub fn is_remote(entry: &str) -> bool {
    let e = entry.trim();
    let lower = e.to_ascii_lowercase();
    if lower.contains("://")
        || lower.starts_with("git@")
        || lower.starts_with("git::")
        || lower.starts_with("github.com/")
        || lower.starts_with("gitlab.com/")
        || lower.starts_with("bitbucket.org/")
        || lower.starts_with("dev.azure.com/")
        || lower.contains("/_git/")
    {
        return true;
    }
    let query = [
        "?ref=",
        "&ref=",
        "?version=",
        "&version=",
        "?timeout=",
        "?submodules=",
    ];
    query.iter().any(|q| lower.contains(q))
}

/// Remote references in a kustomization.yaml text: `resources`/`bases`/`components`
/// entries that are URLs, and `helmCharts` repositories. Rendering offline must report these
/// rather than try the network.
pub fn remote_references(kustomization_yaml: &str) -> Vec<String> {
    let s = parse(kustomization_yaml);
    let Some(root) = s.docs.first().copied().flatten().map(|r| s.resolve(r)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["resources", "bases", "components"] {
        let Some((_, list)) = s.get(root, key) else {
            continue;
        };
        for &item in s.items(list) {
            if let Some(v) = s.scalar(item)
                && is_remote(v)
            {
                out.push(v.to_string());
            }
        }
    }
    if let Some((_, charts)) = s.get(root, "helmCharts") {
        for &c in s.items(charts) {
            if let Some(repo) = s.is_map(c).then(|| s.get_str(c, "repo")).flatten()
                && !repo.is_empty()
            {
                out.push(repo.to_string());
            }
        }
    }
    out
}

/// Whether kustomize merges a strategic-merge patch into this kind by container name. Only
/// kinds in kustomize's built-in OpenAPI schema do: for a CRD such as an Argo Rollout (or an
/// OpenShift DeploymentConfig) lists are replaced whole, so a patch naming one container
/// would delete the others (seen with kustomize v5.7.1). Those need a JSON patch or an
/// `openapi:` schema instead, and [`overlay_patch`] leaves them out.
pub fn merges_by_name(kind: &str) -> bool {
    pod_spec_path(kind).is_some() && !matches!(kind, "Rollout" | "DeploymentConfig")
}

/// A workload the overlay patch makes read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayTarget {
    /// `apiVersion` of the workload.
    pub api_version: String,
    /// Its kind; decides where the pod spec is ([`pod_spec_path`]).
    pub kind: String,
    /// The name the overlay's patches see. Kustomize matches a patch against an object's
    /// current and previous names, so the name in the resource file always works; the
    /// rendered name carries the overlay's own prefix, applied after patches, and does not.
    pub name: String,
    /// `metadata.namespace`, when the object has one before the overlay's namespace.
    pub namespace: Option<String>,
    /// The containers to change.
    pub containers: Vec<OverlayContainer>,
}

/// A container the overlay patch makes read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayContainer {
    /// Its name: the strategic-merge key.
    pub name: String,
    /// An init container (`initContainers`) rather than a container.
    pub init: bool,
    /// `(volume name, mount path)` pairs: each becomes an emptyDir volume and a mount.
    /// Volume names must not clash with the pod's: a strategic merge would merge into it.
    pub scratch: Vec<(String, String)>,
}

/// A strategic-merge patch file (text) that makes the named containers read-only and adds
/// emptyDir scratch volumes and mounts, keyed by container name: name-keyed patches survive
/// a change in container order, index-based JSON patches do not (kubernetes-sigs/kustomize
/// #5354). One document per workload; a kind kustomize does not merge by name
/// ([`merges_by_name`]) is skipped.
pub fn overlay_patch(targets: &[OverlayTarget]) -> String {
    let mut docs = Vec::new();
    for t in targets {
        let Some(path) = pod_spec_path(&t.kind).filter(|_| merges_by_name(&t.kind)) else {
            continue;
        };
        let q = crate::patch::render::json_string;
        let mut doc = format!(
            "apiVersion: {}\nkind: {}\nmetadata:\n  name: {}\n",
            q(&t.api_version),
            q(&t.kind),
            q(&t.name)
        );
        if let Some(ns) = &t.namespace {
            doc.push_str(&format!("  namespace: {}\n", q(ns)));
        }
        let mut depth = 0;
        for key in path {
            doc.push_str(&format!("{}{key}:\n", "  ".repeat(depth)));
            depth += 1;
        }
        let pad = "  ".repeat(depth);
        for (list, init) in [("initContainers", true), ("containers", false)] {
            let mut cs = t.containers.iter().filter(|c| c.init == init).peekable();
            if cs.peek().is_none() {
                continue;
            }
            doc.push_str(&format!("{pad}{list}:\n"));
            for c in cs {
                doc.push_str(&format!("{pad}- name: {}\n", q(&c.name)));
                doc.push_str(&format!(
                    "{pad}  securityContext:\n{pad}    readOnlyRootFilesystem: true\n"
                ));
                if !c.scratch.is_empty() {
                    doc.push_str(&format!("{pad}  volumeMounts:\n"));
                    for (vol, mount) in &c.scratch {
                        doc.push_str(&format!(
                            "{pad}  - name: {}\n{pad}    mountPath: {}\n",
                            q(vol),
                            q(mount)
                        ));
                    }
                }
            }
        }
        let mut volumes: Vec<&str> = Vec::new();
        for (vol, _) in t.containers.iter().flat_map(|c| &c.scratch) {
            if !volumes.contains(&vol.as_str()) {
                volumes.push(vol);
            }
        }
        if !volumes.is_empty() {
            doc.push_str(&format!("{pad}volumes:\n"));
            for v in volumes {
                doc.push_str(&format!("{pad}- name: {}\n{pad}  emptyDir: {{}}\n", q(v)));
            }
        }
        docs.push(doc);
    }
    docs.join("---\n")
}

/// The line-exact fix that lists `patch_file` under `patches:` in a kustomization.yaml
/// text: appends `- path: <file>` to an existing block or flow list, or adds `patches:` at
/// the end of the root mapping, keeping comments, order and line endings. A legacy
/// `patchesStrategicMerge:` is left as it is: `patches:` reads the same files and is the
/// field kustomize keeps. `None` when the file is already listed or the text is not a
/// kustomization mapping.
pub fn list_patch(kustomization_yaml: &str, patch_file: &str) -> Option<Fix> {
    let q = crate::patch::render::json_string;
    let plain = |v: &str| {
        let is_plain = !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
            && !v.starts_with(['-', '.']);
        if is_plain { v.to_string() } else { q(v) }
    };
    let entry = Entry {
        lines: vec![format!("path: {}", plain(patch_file))],
        value: Value::map([("path", Value::str(patch_file))]),
        description: format!("list {patch_file} under patches:"),
        listed: &|s: &Stream, i: NodeId| {
            s.scalar(i) == Some(patch_file)
                || (s.is_map(i) && s.get_str(i, "path") == Some(patch_file))
        },
    };
    list_entry(kustomization_yaml, &entry)
}

/// The line-exact fix that adds an inline strategic-merge patch (`- patch: |-`) under
/// `patches:`: one suggestion a reviewer can apply, where a new file cannot be suggested.
/// `None` when the same patch is already listed or the text is not a kustomization mapping.
pub fn list_inline_patch(kustomization_yaml: &str, patch: &str, description: &str) -> Option<Fix> {
    let mut lines = vec!["patch: |-".to_string()];
    lines.extend(patch.lines().map(|l| format!("  {l}")));
    let entry = Entry {
        lines,
        value: Value::map([("patch", Value::str(patch.trim_end()))]),
        description: description.to_string(),
        listed: &|s: &Stream, i: NodeId| {
            s.is_map(i) && s.get_str(i, "patch").map(str::trim_end) == Some(patch.trim_end())
        },
    };
    list_entry(kustomization_yaml, &entry)
}

/// One item to add under `patches:`: its block lines (after `- `), its flow value, and how
/// to tell it is already there.
struct Entry<'a> {
    lines: Vec<String>,
    value: Value,
    description: String,
    listed: &'a dyn Fn(&Stream, NodeId) -> bool,
}

fn list_entry(kustomization_yaml: &str, entry: &Entry<'_>) -> Option<Fix> {
    let s = parse(kustomization_yaml);
    if s.error.is_some() {
        return None;
    }
    let src = Source::new(kustomization_yaml);
    let root = s.resolve(s.docs.first().copied().flatten()?);
    if !s.is_map(root) {
        return None;
    }
    let ed = Editor {
        s: &s,
        src: &src,
        style: Style::learn(&s, &src),
    };
    let value = &entry.value;
    let edits = match s.own(root, "patches") {
        Some((_, list)) if s.is_seq(list) => {
            if s.items(list).iter().any(|&i| (entry.listed)(&s, i)) {
                return None;
            }
            // An empty list is always a flow `[]`, which takes the value form only.
            let lines: Vec<Vec<String>> = if s.items(list).is_empty() {
                Vec::new()
            } else {
                vec![entry.lines.clone()]
            };
            vec![ed.add_to_seq(list, &lines, std::slice::from_ref(value))?]
        }
        Some((key, list)) if s.is_null(list) => {
            let col = s.node(key).start.col;
            let pad = " ".repeat(col + ed.style.seq_offset);
            let lines: Vec<String> = entry
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        format!("{pad}- {l}")
                    } else {
                        format!("{pad}  {l}")
                    }
                })
                .collect();
            let mut edits: Vec<Edit> = ed.drop_null(key).into_iter().collect();
            edits.push(ed.lines_after(s.node(key).start.line, &lines));
            edits
        }
        Some(_) => return None,
        None => {
            let lines = ed.new_seq_key("patches", std::slice::from_ref(&entry.lines));
            vec![ed.add_to_map(root, &lines, "patches", &Value::Seq(vec![value.clone()]))?]
        }
    };
    ed.fix(entry.description.clone(), edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::apply_all;

    fn listed(text: &str, file: &str) -> String {
        let fix = list_patch(text, file).expect("a fix");
        apply_all(text, [&fix]).0
    }

    #[test]
    fn components_are_wrapped_as_components() {
        assert!(is_component(
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        ));
        assert!(!is_component("kind: Kustomization\nresources: [a]\n"));
        assert!(!is_component("resources: [a]\n"));
        assert!(wrapper_component("../c").starts_with("components:\n- \"../c\"\n"));
    }

    #[test]
    fn wrapper_lists_target_and_asks_for_both_annotations() {
        let w = wrapper("../../srv/a/b");
        assert_eq!(
            w,
            "resources:\n- \"../../srv/a/b\"\nbuildMetadata: [originAnnotations, transformerAnnotations]\n"
        );
        let s = parse(&w);
        let root = s.docs[0].unwrap();
        let res = s.get(root, "resources").unwrap().1;
        assert_eq!(s.scalar(s.items(res)[0]), Some("../../srv/a/b"));
    }

    const REMOTE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    alpha.config.kubernetes.io/transformations: |
      - configuredIn: overlay/kustomization.yaml
        configuredBy:
          apiVersion: builtin
          kind: PatchTransformer
      - configuredIn: overlay/kustomization.yaml
        configuredBy:
          apiVersion: builtin
          kind: PrefixTransformer
    config.kubernetes.io/origin: |
      path: examples/multibases/base/pod.yaml
      repo: https://github.com/kubernetes-sigs/kustomize
      ref: v1.0.6
    team: a
  name: dev-myapp
  namespace: prod
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
---
apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    config.kubernetes.io/origin: |
      configuredIn: base/kustomization.yaml
      configuredBy:
        apiVersion: builtin
        kind: ConfigMapGenerator
  name: cm-6d62b7m2kc
data:
  a: b
---
apiVersion: v1
kind: Service
metadata:
  name: plain
";

    #[test]
    fn objects_read_remote_generated_and_unannotated() {
        let o = objects(REMOTE);
        assert_eq!(o.len(), 3);
        assert_eq!(o[0].kind, "Deployment");
        assert_eq!(o[0].name, "dev-myapp");
        assert_eq!(o[0].namespace.as_deref(), Some("prod"));
        assert!(o[0].has_pod_spec);
        let origin = o[0].origin.as_ref().unwrap();
        assert_eq!(
            origin.path.as_deref(),
            Some("examples/multibases/base/pod.yaml")
        );
        assert_eq!(
            origin.repo.as_deref(),
            Some("https://github.com/kubernetes-sigs/kustomize")
        );
        assert_eq!(origin.git_ref.as_deref(), Some("v1.0.6"));
        assert_eq!(origin.configured_in, None);
        let kinds: Vec<&str> = o[0]
            .transformations
            .iter()
            .map(|t| t.configured_by.kind.as_str())
            .collect();
        assert_eq!(kinds, ["PatchTransformer", "PrefixTransformer"]);
        assert_eq!(
            o[0].transformations[0].configured_in,
            "overlay/kustomization.yaml"
        );
        assert_eq!(o[0].transformations[0].configured_by.api_version, "builtin");

        let gen_origin = o[1].origin.as_ref().unwrap();
        assert_eq!(gen_origin.path, None);
        assert_eq!(
            gen_origin.configured_in.as_deref(),
            Some("base/kustomization.yaml")
        );
        assert_eq!(
            gen_origin.configured_by.as_ref().unwrap().kind,
            "ConfigMapGenerator"
        );
        assert!(!o[1].has_pod_spec);
        assert!(o[1].transformations.is_empty());
        assert_eq!(o[2].origin, None);
    }

    #[test]
    fn pod_spec_paths_per_kind() {
        assert_eq!(pod_spec_path("Pod"), Some(&["spec"][..]));
        assert_eq!(
            pod_spec_path("CronJob"),
            Some(&["spec", "jobTemplate", "spec", "template", "spec"][..])
        );
        assert_eq!(pod_spec_path("Rollout"), pod_spec_path("Deployment"));
        assert_eq!(pod_spec_path("ConfigMap"), None);
    }

    #[test]
    fn strip_keeps_other_annotations_and_drops_emptied_ones() {
        let stripped = strip_annotations(REMOTE);
        let want = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    team: a
  name: dev-myapp
  namespace: prod
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-6d62b7m2kc
data:
  a: b
---
apiVersion: v1
kind: Service
metadata:
  name: plain
";
        assert_eq!(stripped, want);
        assert_eq!(strip_annotations(want), want);
    }

    #[test]
    fn strip_last_document_without_trailing_newline() {
        let t = "kind: A\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      path: a.yaml\n  name: x";
        assert_eq!(strip_annotations(t), "kind: A\nmetadata:\n  name: x");
    }

    #[test]
    fn remote_reference_forms() {
        let k = "\
resources:
- deployment.yaml
- ../base
- https://github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v1.0.6
- github.com/argoproj/argo-cd/manifests/cluster-install?ref=v2.0.0
- git@github.com:owner/repo.git//dir
- ssh://git@gitlab.example/owner/repo//dir
- git::https://example.com/repo.git
- example.com/owner/repo//base?ref=main
- https://raw.githubusercontent.com/o/r/main/crd.yaml
bases:
- gitlab.com/group/project/base
components:
- ../components/common
- https://dev.azure.com/org/proj/_git/repo//comp
helmCharts:
- name: redis
  repo: https://charts.bitnami.com/bitnami
";
        assert_eq!(
            remote_references(k),
            [
                "https://github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v1.0.6",
                "github.com/argoproj/argo-cd/manifests/cluster-install?ref=v2.0.0",
                "git@github.com:owner/repo.git//dir",
                "ssh://git@gitlab.example/owner/repo//dir",
                "git::https://example.com/repo.git",
                "example.com/owner/repo//base?ref=main",
                "https://raw.githubusercontent.com/o/r/main/crd.yaml",
                "gitlab.com/group/project/base",
                "https://dev.azure.com/org/proj/_git/repo//comp",
                "https://charts.bitnami.com/bitnami",
            ]
        );
        assert!(remote_references("resources:\n- a.yaml\n- ../../base\n").is_empty());
        assert!(remote_references("").is_empty());
    }

    #[test]
    fn list_patch_adds_patches_when_absent() {
        let k = "# overlay\nresources:\n- ../../base\nnamePrefix: staging-\n";
        assert_eq!(
            listed(k, "ro.yaml"),
            "# overlay\nresources:\n- ../../base\nnamePrefix: staging-\npatches:\n- path: ro.yaml\n"
        );
        // The list style of the file is kept: indented dashes stay indented.
        let k = "resources:\n  - ../../base\n";
        assert_eq!(
            listed(k, "ro.yaml"),
            "resources:\n  - ../../base\npatches:\n  - path: ro.yaml\n"
        );
        // Without a final newline.
        assert_eq!(
            listed("resources:\n- a", "ro.yaml"),
            "resources:\n- a\npatches:\n- path: ro.yaml"
        );
    }

    #[test]
    fn list_patch_appends_to_block_list_keeping_comments() {
        let k = "\
resources:
- ../../base
patches:
# the probes
- path: healthcheck_patch.yaml # keep
- path: memorylimit_patch.yaml
  target:
    kind: Deployment
# trailing comment
namePrefix: production-
";
        assert_eq!(
            listed(k, "ro.yaml"),
            "\
resources:
- ../../base
patches:
# the probes
- path: healthcheck_patch.yaml # keep
- path: memorylimit_patch.yaml
  target:
    kind: Deployment
- path: ro.yaml
# trailing comment
namePrefix: production-
"
        );
    }

    #[test]
    fn list_patch_appends_to_flow_list() {
        assert_eq!(
            listed(
                "resources: [a.yaml]\npatches: [{path: p.yaml}]\n",
                "ro.yaml"
            ),
            "resources: [a.yaml]\npatches: [{path: p.yaml}, {path: ro.yaml}]\n"
        );
        assert_eq!(
            listed("patches: []\n", "ro.yaml"),
            "patches: [{path: ro.yaml}]\n"
        );
    }

    #[test]
    fn list_patch_fills_empty_key() {
        assert_eq!(
            listed("patches:\nresources:\n- a\n", "ro.yaml"),
            "patches:\n- path: ro.yaml\nresources:\n- a\n"
        );
        assert_eq!(
            listed("patches: ~\nresources:\n- a\n", "ro.yaml"),
            "patches:\n- path: ro.yaml\nresources:\n- a\n"
        );
        // With no list to learn from, the core's default offset applies.
        assert_eq!(
            listed("patches: null\n", "ro.yaml"),
            "patches:\n  - path: ro.yaml\n"
        );
    }

    #[test]
    fn list_patch_crlf() {
        let k = "resources:\r\n- ../base\r\npatches:\r\n- path: a.yaml\r\n";
        assert_eq!(
            listed(k, "ro.yaml"),
            "resources:\r\n- ../base\r\npatches:\r\n- path: a.yaml\r\n- path: ro.yaml\r\n"
        );
        let k = "resources:\r\n- ../base\r\n";
        assert_eq!(
            listed(k, "ro.yaml"),
            "resources:\r\n- ../base\r\npatches:\r\n- path: ro.yaml\r\n"
        );
    }

    #[test]
    fn list_patch_with_legacy_field_still_uses_patches() {
        let k = "patchesStrategicMerge:\n- old.yaml\n";
        assert_eq!(
            listed(k, "ro.yaml"),
            "patchesStrategicMerge:\n- old.yaml\npatches:\n- path: ro.yaml\n"
        );
    }

    #[test]
    fn list_patch_declines_when_listed_or_not_a_kustomization() {
        assert_eq!(list_patch("patches:\n- path: ro.yaml\n", "ro.yaml"), None);
        assert_eq!(list_patch("- a\n- b\n", "ro.yaml"), None);
        assert_eq!(list_patch("patches: 3\n", "ro.yaml"), None);
        let odd = listed("resources:\n- a\n", "my patch.yaml");
        assert_eq!(
            odd,
            "resources:\n- a\npatches:\n- path: \"my patch.yaml\"\n"
        );
    }

    #[test]
    fn overlay_patch_per_kind() {
        let t = |kind: &str, containers: Vec<OverlayContainer>| OverlayTarget {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: "web".into(),
            namespace: None,
            containers,
        };
        let c = |name: &str, init: bool, scratch: &[(&str, &str)]| OverlayContainer {
            name: name.into(),
            init,
            scratch: scratch
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        };
        let mut cron = t("CronJob", vec![c("job", false, &[])]);
        cron.api_version = "batch/v1".into();
        cron.namespace = Some("ops".into());
        let text = overlay_patch(&[
            t(
                "Deployment",
                vec![
                    c("app", false, &[("tmp", "/tmp"), ("cache", "/var/cache")]),
                    c("setup", true, &[("tmp", "/work")]),
                ],
            ),
            cron,
            t("ConfigMap", vec![c("x", false, &[])]),
        ]);
        assert_eq!(
            text,
            "\
apiVersion: \"apps/v1\"
kind: \"Deployment\"
metadata:
  name: \"web\"
spec:
  template:
    spec:
      initContainers:
      - name: \"setup\"
        securityContext:
          readOnlyRootFilesystem: true
        volumeMounts:
        - name: \"tmp\"
          mountPath: \"/work\"
      containers:
      - name: \"app\"
        securityContext:
          readOnlyRootFilesystem: true
        volumeMounts:
        - name: \"tmp\"
          mountPath: \"/tmp\"
        - name: \"cache\"
          mountPath: \"/var/cache\"
      volumes:
      - name: \"tmp\"
        emptyDir: {}
      - name: \"cache\"
        emptyDir: {}
---
apiVersion: \"batch/v1\"
kind: \"CronJob\"
metadata:
  name: \"web\"
  namespace: \"ops\"
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: \"job\"
            securityContext:
              readOnlyRootFilesystem: true
"
        );
        // Every document parses, and the pod spec is where the kind keeps it.
        let o = objects(&text);
        assert_eq!(o.len(), 2);
        assert!(o.iter().all(|o| o.has_pod_spec));
        let pod = overlay_patch(&[OverlayTarget {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: "p".into(),
            namespace: None,
            containers: vec![c("a", false, &[])],
        }]);
        assert!(
            pod.contains("\nspec:\n  containers:\n  - name: \"a\"\n"),
            "{pod}"
        );
        // A CRD's lists are replaced, not merged: no patch rather than one losing containers.
        let mut rollout = t("Rollout", vec![c("app", false, &[])]);
        rollout.api_version = "argoproj.io/v1alpha1".into();
        assert_eq!(overlay_patch(&[rollout]), "");
        assert!(merges_by_name("Deployment") && !merges_by_name("Rollout"));
    }
}
