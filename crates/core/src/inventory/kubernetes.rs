//! Kubernetes manifests: workloads, their pod templates and every container list.

use super::{AnnotationExempt, Inventory, PodLevel, Switch, Target, UnitFacts, plain_bool};
use crate::date::Date;
use crate::model::{ReadOnly, Role, Unit};
use crate::yaml::{NodeId, Stream, Style};

/// The annotation that exempts containers by name (comma-separated).
pub const EXEMPT_ANNOTATION: &str = "immutabot.dev/exempt-containers";
/// The annotation giving the reason for [`EXEMPT_ANNOTATION`].
pub const EXEMPT_REASON_ANNOTATION: &str = "immutabot.dev/exempt-reason";
/// The annotation giving the last day [`EXEMPT_ANNOTATION`] holds (`YYYY-MM-DD`).
pub const EXEMPT_EXPIRES_ANNOTATION: &str = "immutabot.dev/exempt-expires";

/// Where the pod spec is in each workload kind.
const WORKLOADS: &[(&str, &[&str])] = &[
    ("Pod", &["spec"]),
    ("PodTemplate", &["template", "spec"]),
    ("Deployment", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("ReplicationController", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    ("DeploymentConfig", &["spec", "template", "spec"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

const LISTS: [(&str, Role); 3] = [
    ("containers", Role::Container),
    ("initContainers", Role::Init),
    ("ephemeralContainers", Role::Ephemeral),
];

/// Whether a document is a Kubernetes object (`apiVersion` and `kind`).
pub fn is_manifest(s: &Stream, root: NodeId) -> bool {
    s.is_map(root)
        && s.get(root, "apiVersion").is_some()
        && s.get(root, "kind").and_then(|(_, k)| s.scalar(k)).is_some()
}

/// Reads every container of a manifest (a `kind: List` included) into `inv`.
pub fn inventory(s: &Stream, root: NodeId, inv: &mut Inventory) {
    let kind = s.get(root, "kind").and_then(|(_, k)| s.scalar(k));
    if kind == Some("List") || kind.is_some_and(|k| k.ends_with("List")) {
        if let Some((_, items)) = s.get(root, "items") {
            for &item in s.items(items) {
                if is_manifest(s, item) {
                    manifest(s, s.resolve(item), inv);
                }
            }
        }
        return;
    }
    manifest(s, root, inv);
}

fn manifest(s: &Stream, m: NodeId, inv: &mut Inventory) {
    let kind = s
        .get(m, "kind")
        .and_then(|(_, k)| s.scalar(k))
        .unwrap_or("");
    let name = s
        .path(m, &["metadata", "name"])
        .and_then(|n| s.scalar(n))
        .or_else(|| {
            s.path(m, &["metadata", "generateName"])
                .and_then(|n| s.scalar(n))
        })
        .unwrap_or("");
    let namespace = s
        .path(m, &["metadata", "namespace"])
        .and_then(|n| s.scalar(n))
        .map(str::to_string);
    let workload = format!("{kind}/{name}");
    let mut exempt = exemptions(s, s.get(m, "metadata").map(|(_, v)| v));
    let mut pods: Vec<(NodeId, Option<NodeId>)> = Vec::new();
    if let Some((_, path)) = WORKLOADS.iter().find(|(k, _)| *k == kind) {
        if let Some(spec) = s.path(m, path)
            && s.is_map(spec)
        {
            let template = s.path(m, &path[..path.len() - 1]);
            pods.push((s.resolve(spec), template));
        }
    } else {
        find_pod_specs(s, m, None, 0, &mut pods);
    }
    for (spec, template) in pods {
        if let Some(t) = template {
            exempt.extend(exemptions(s, s.get(t, "metadata").map(|(_, v)| v)));
        }
        if let Some((key, node)) = s
            .get(spec, "securityContext")
            .and_then(|(_, sc)| s.get(sc, "readOnlyRootFilesystem"))
        {
            inv.pod_level.push(PodLevel {
                workload: workload.clone(),
                key,
                node,
            });
        }
        for (list, role) in LISTS {
            let Some((_, seq)) = s.get(spec, list) else {
                continue;
            };
            for &item in s.items(seq) {
                if !s.is_map(item) {
                    continue;
                }
                let item = s.resolve(item);
                let facts = container(s, item, spec, &workload, namespace.clone(), role, &exempt);
                inv.units.push(facts);
            }
        }
    }
}

/// Pod templates inside kinds we do not know (CRDs, Argo Rollouts): any mapping with a
/// `containers` list of named mappings. Aliases are not followed, so a YAML bomb stays cheap.
fn find_pod_specs(
    s: &Stream,
    n: NodeId,
    parent: Option<NodeId>,
    depth: usize,
    out: &mut Vec<(NodeId, Option<NodeId>)>,
) {
    if depth > 24 {
        return;
    }
    match &s.node(n).kind {
        crate::yaml::Kind::Map { entries, .. } => {
            if let Some((_, c)) = s.own(n, "containers")
                && s.is_seq(c)
                && !s.items(c).is_empty()
                && s.items(c)
                    .iter()
                    .all(|&i| s.is_map(i) && s.get(i, "name").is_some())
            {
                out.push((n, parent));
                return;
            }
            for &(_, v) in entries {
                find_pod_specs(s, v, Some(n), depth + 1, out);
            }
        }
        crate::yaml::Kind::Seq { items, .. } => {
            for &i in items {
                find_pod_specs(s, i, None, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Container names exempted by annotation, with the reason and expiry.
fn exemptions(s: &Stream, metadata: Option<NodeId>) -> Vec<(String, AnnotationExempt)> {
    let Some(meta) = metadata else {
        return Vec::new();
    };
    let Some(names) = s
        .path(meta, &["annotations", EXEMPT_ANNOTATION])
        .and_then(|v| s.scalar(v))
    else {
        return Vec::new();
    };
    let reason = s
        .path(meta, &["annotations", EXEMPT_REASON_ANNOTATION])
        .and_then(|v| s.scalar(v))
        .unwrap_or("exempted by the immutabot.dev/exempt-containers annotation")
        .to_string();
    let expires = s
        .path(meta, &["annotations", EXEMPT_EXPIRES_ANNOTATION])
        .and_then(|v| s.scalar(v))
        .map(|d| Date::parse(d.trim()))
        .transpose();
    let exempt = AnnotationExempt { reason, expires };
    names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| (n.to_string(), exempt.clone()))
        .collect()
}

fn container(
    s: &Stream,
    item: NodeId,
    spec: NodeId,
    workload: &str,
    namespace: Option<String>,
    role: Role,
    exempt: &[(String, AnnotationExempt)],
) -> UnitFacts {
    let name_entry = s.own(item, "name");
    let name = name_entry
        .and_then(|(_, v)| s.scalar(v))
        .map(str::to_string);
    let anchor = name_entry.map(|(k, _)| k).unwrap_or(item);
    let image = s
        .get(item, "image")
        .and_then(|(_, v)| s.scalar(v))
        .map(str::to_string);
    let sc = s.get(item, "securityContext").map(|(_, v)| v);
    let mut switch_node = None;
    let switch = if s.is_duplicated(item, "securityContext") {
        Switch::Unknown(
            "`securityContext` is written twice in this container: kubectl keeps the last, kustomize and yaml.v3 tools reject the file".into(),
        )
    } else {
        match sc {
            None => Switch::Absent,
            Some(sc) if s.is_null(sc) => Switch::Absent,
            Some(sc) if !s.is_map(sc) => {
                Switch::Unknown("`securityContext` is not a mapping; the API server rejects it".into())
            }
            Some(sc) if s.is_duplicated(sc, "readOnlyRootFilesystem") => Switch::Unknown(
                "`readOnlyRootFilesystem` is written twice: kubectl keeps the last, kustomize rejects the file".into(),
            ),
            Some(sc) => match s.get(sc, "readOnlyRootFilesystem") {
                None => Switch::Absent,
                Some((_, v)) => {
                    switch_node = Some(v);
                    k8s_switch(s, v)
                }
            },
        }
    };
    let mut privileged = None;
    let mut sys_admin = None;
    if let Some(sc) = sc.filter(|&sc| s.is_map(sc)) {
        if let Some((_, p)) = s.get(sc, "privileged")
            && s.style(p) == Some(Style::Plain)
            && s.scalar(p).and_then(plain_bool) == Some(true)
        {
            privileged = Some(p);
        }
        if let Some(add) = s.path(sc, &["capabilities", "add"]) {
            sys_admin = s.items(add).iter().copied().find(|&c| {
                s.scalar(c).is_some_and(|c| {
                    matches!(
                        c.to_ascii_uppercase().as_str(),
                        "SYS_ADMIN" | "CAP_SYS_ADMIN" | "ALL"
                    )
                })
            });
        }
    }
    let mut writable_mounts = Vec::new();
    if let Some((_, mounts)) = s.get(item, "volumeMounts") {
        for &m in s.items(mounts) {
            let ro = s
                .get(m, "readOnly")
                .and_then(|(_, r)| s.scalar(r))
                .and_then(plain_bool)
                == Some(true);
            if let (Some(p), false) = (s.get(m, "mountPath").and_then(|(_, p)| s.scalar(p)), ro) {
                writable_mounts.push(p.to_string());
            }
        }
    }
    let annotation_exempt = name.as_ref().and_then(|n| {
        exempt
            .iter()
            .find(|(e, _)| e == n)
            .map(|(_, exempt)| exempt.clone())
    });
    UnitFacts {
        unit: Unit {
            workload: workload.to_string(),
            namespace,
            container: name,
            role,
            image,
            line: s.node(anchor).start.line,
            read_only: ReadOnly::False,
            partial: false,
        },
        target: Target::Kubernetes,
        map: Some(item),
        anchor,
        switch,
        switch_node,
        decided_elsewhere: false,
        security_context: sc.filter(|&sc| s.is_map(sc)),
        privileged,
        sys_admin,
        user: None,
        tmpfs: Vec::new(),
        tmpfs_node: None,
        writable_mounts,
        pod_spec: Some(spec),
        annotation_exempt,
        listed: true,
        findings_elsewhere: false,
    }
}

/// Kubernetes wants a real boolean: a quoted string is rejected by the API server.
fn k8s_switch(s: &Stream, v: NodeId) -> Switch {
    let text = s.scalar(v).unwrap_or("");
    if s.is_null(v) {
        return Switch::Absent;
    }
    if s.node(s.resolve(v)).tagged {
        // `!!str true` is a string and `!!bool "true"` a boolean: rare enough not to guess.
        return Switch::Unknown(format!(
            "`readOnlyRootFilesystem: {text}` carries an explicit YAML tag; write a plain `true`"
        ));
    }
    match s.style(v) {
        Some(Style::Plain) => match plain_bool(text) {
            Some(true) => Switch::On,
            Some(false) => Switch::Off,
            None => Switch::Unknown(format!(
                "`readOnlyRootFilesystem: {text}` is not a boolean; the API server rejects the object"
            )),
        },
        Some(_) => Switch::Unknown(format!(
            "`readOnlyRootFilesystem: \"{text}\"` is a string, not a boolean: the API server rejects the object"
        )),
        None => Switch::Unknown("`readOnlyRootFilesystem` is not a scalar".into()),
    }
}
