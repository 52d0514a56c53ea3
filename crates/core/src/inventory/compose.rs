//! Compose files (formats 1, 2, 3 and the Compose Specification) and Swarm stack files.
//!
//! The effective `read_only` of a service follows `<<` merge keys, `extends` (same file or
//! another file asked of the [`Resolver`]) and an override file beside the base file.

use super::{Inventory, Switch, Target, Tmpfs, UnitFacts, plain_bool};
use crate::analyze::Resolver;
use crate::model::{ReadOnly, Role, Unit};
use crate::yaml::{Limits, NodeId, Stream};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Top-level keys of the Compose Specification other than `services`.
const TOP_LEVEL: &[&str] = &[
    "version", "services", "networks", "volumes", "secrets", "configs", "name", "include", "models",
];

/// Keys that only a service (not another top-level mapping) would have: used to recognise
/// legacy version-1 files, which have no `services:`.
const SERVICE_KEYS: &[&str] = &["image", "build", "extends"];

/// Every key a Compose service may have (the Compose Specification's and version 1's). A
/// version-1 service is recognised only when all its keys are among these: Helm values
/// (`image: {repository: …}`, `resources:`, `nodeSelector:`) have the same shape otherwise.
const ALL_SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "dockerfile",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "log_driver",
    "log_opt",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "net",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volume_driver",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// How sure the caller already is that a document is Compose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Only the content speaks: a version-1 file is recognised when each top-level entry
    /// looks like a service.
    Content,
    /// The file is named or referred to as Compose: a top-level mapping with `image`,
    /// `build` or `extends` makes it a version-1 file (and its other entries are problems).
    Named,
}

/// Where the services of a Compose document are.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    /// Under `services:`.
    Services(NodeId),
    /// Version 1: the services are the top-level keys.
    Legacy(NodeId),
    /// A Compose file without services (networks only, `include:` only).
    Empty,
}

/// Recognises a Compose document by content.
pub fn layout(s: &Stream, root: NodeId, evidence: Evidence) -> Option<Layout> {
    if !s.is_map(root) {
        return None;
    }
    if s.get(root, "apiVersion").is_some() && s.get(root, "kind").is_some() {
        return None;
    }
    if let Some((_, services)) = s.get(root, "services") {
        if s.is_map(services) {
            return Some(Layout::Services(services));
        }
        if s.is_null(services) {
            return Some(Layout::Empty);
        }
        return None;
    }
    let keys = s.keys(root);
    if !keys.is_empty() && keys.iter().all(|k| TOP_LEVEL.contains(&k.as_str())) {
        return Some(Layout::Empty);
    }
    let legacy = match evidence {
        Evidence::Named => s
            .own_entries(root)
            .any(|(k, v)| !is_extension(s, k) && s.is_map(v) && has_service_key(s, v)),
        Evidence::Content => {
            let mut entries = s.own_entries(root).filter(|&(k, _)| !is_extension(s, k));
            let mut any = false;
            entries.all(|(k, v)| {
                any = true;
                s.scalar(k) == Some("version") || looks_like_service(s, v)
            }) && any
        }
    };
    legacy.then_some(Layout::Legacy(root))
}

/// Whether a top-level key is an extension (`x-…`) or a merge key, never a service.
fn is_extension(s: &Stream, key: NodeId) -> bool {
    s.scalar(key)
        .is_some_and(|k| k.starts_with("x-") || k == "<<")
}

fn has_service_key(s: &Stream, map: NodeId) -> bool {
    SERVICE_KEYS.iter().any(|key| s.get(map, key).is_some())
}

/// A mapping that a version-1 Compose file would take as a service: only service keys, and
/// an image (a string, not Helm's `{repository, tag}`), a build or an `extends`.
fn looks_like_service(s: &Stream, v: NodeId) -> bool {
    if !s.is_map(v) {
        return false;
    }
    let image_ok = s.get(v, "image").is_none_or(|(_, i)| s.scalar(i).is_some());
    image_ok
        && has_service_key(s, v)
        && s.keys(v)
            .iter()
            .all(|k| k.starts_with("x-") || ALL_SERVICE_KEYS.contains(&k.as_str()))
}

/// Keys of GitLab CI jobs (and its top level) that no Compose service may have.
const CI_KEYS: &[&str] = &["script", "before_script", "after_script", "stage", "stages"];

/// Whether a document without `services:` is a CI pipeline rather than a version-1 Compose
/// file: a `stages:` list at the top, or an entry with job keys such as `script:`.
pub fn looks_like_ci(s: &Stream, root: NodeId) -> bool {
    s.get(root, "stages").is_some()
        || s.own_entries(root)
            .any(|(_, v)| s.is_map(v) && CI_KEYS.iter().any(|k| s.get(v, k).is_some()))
}

/// A version-1 file with a top-level entry that is not a service: Compose rejects it.
pub fn legacy_problem(s: &Stream, root: NodeId, layout: Layout) -> Option<(usize, usize, String)> {
    if !matches!(layout, Layout::Legacy(_)) {
        return None;
    }
    s.own_entries(root).find_map(|(k, v)| {
        let name = s.scalar(k)?;
        if name.starts_with("x-") || name == "version" || s.is_map(v) {
            return None;
        }
        let n = s.node(k);
        Some((
            n.start.line,
            n.start.col + 1,
            format!("`{name}` is not a service mapping: Compose rejects this version-1 file, so its services are reported as unknown"),
        ))
    })
}

/// Whether `version` names a 3.0–3.5 file, where `docker stack deploy` ignores `tmpfs:`.
fn is_legacy_stack_version(version: &str) -> bool {
    let v = version.trim();
    matches!(v, "3" | "3.0" | "3.1" | "3.2" | "3.3" | "3.4" | "3.5")
}

/// The inventory of one Compose document.
pub struct ComposeInput<'a> {
    /// The parsed file.
    pub stream: &'a Stream,
    /// The document root.
    pub root: NodeId,
    /// Where its services are.
    pub layout: Layout,
    /// The file's path relative to the analysed root.
    pub path: &'a str,
    /// Other files.
    pub resolver: &'a dyn Resolver,
}

/// Reads every service of a Compose document.
pub fn inventory(input: &ComposeInput<'_>) -> Inventory {
    let s = input.stream;
    let services = match input.layout {
        Layout::Services(n) | Layout::Legacy(n) => n,
        Layout::Empty => return Inventory::default(),
    };
    let version = s
        .get(input.root, "version")
        .and_then(|(_, v)| s.scalar(v))
        .map(str::to_string);
    let legacy_version = version.as_deref().is_some_and(is_legacy_stack_version);
    let files = Files::new(input.resolver);
    let other = Other::load(input, &files);
    let mut inv = Inventory::default();
    for (key, body) in s.own_entries(services) {
        let Some(name) = s.scalar(key) else { continue };
        if name.starts_with("x-") || name == "<<" {
            continue;
        }
        if matches!(input.layout, Layout::Legacy(_)) && (name == "version" || !s.is_map(body)) {
            continue;
        }
        let map = s.is_map(body).then(|| s.resolve(body));
        let mut facts = service_facts(input, &files, name, key, map);
        if let Some(other) = &other {
            other.merge_into(&mut facts, name);
            if other.skip_unit(name) {
                // Its base lists the merged service and owns its findings; a fragment
                // checked on its own is still listed, never dropped in silence.
                if facts.switch_node.is_none() {
                    facts.findings_elsewhere = true;
                    facts.unit.partial = true;
                } else {
                    facts.listed = false;
                }
            }
        }
        let builds = map.is_some_and(|m| s.get(m, "build").is_some());
        facts.unit.partial |= facts.unit.image.is_none() && !builds;
        facts.target = Target::Compose {
            legacy_stack: legacy_version && map.is_some_and(|m| s.get(m, "deploy").is_some()),
            version: version.clone(),
        };
        inv.units.push(facts);
    }
    inv
}

fn service_facts(
    input: &ComposeInput<'_>,
    files: &Files<'_>,
    name: &str,
    key: NodeId,
    map: Option<NodeId>,
) -> UnitFacts {
    let s = input.stream;
    let mut facts = UnitFacts {
        unit: Unit {
            workload: name.to_string(),
            namespace: None,
            container: None,
            role: Role::Service,
            image: None,
            line: s.node(key).start.line,
            read_only: ReadOnly::False,
            partial: false,
        },
        target: Target::Compose {
            legacy_stack: false,
            version: None,
        },
        map,
        anchor: key,
        switch: Switch::Absent,
        switch_node: None,
        decided_elsewhere: false,
        security_context: None,
        privileged: None,
        sys_admin: None,
        user: None,
        tmpfs: Vec::new(),
        tmpfs_node: None,
        writable_mounts: Vec::new(),
        pod_spec: None,
        annotation_exempt: None,
        listed: true,
        findings_elsewhere: false,
    };
    let Some(map) = map else { return facts };
    let resolved = effective(s, input.root, map, input.path, files, 0);
    facts.switch = resolved.switch;
    facts.unit.image = resolved.image;
    if let Some((_, v)) = s.own(map, "read_only") {
        facts.switch_node = Some(v);
    }
    if let Some((_, v)) = s.get(map, "privileged")
        && s.scalar(v).and_then(compose_bool) == Some(true)
    {
        facts.privileged = Some(v);
    }
    if let Some((_, caps)) = s.get(map, "cap_add") {
        facts.sys_admin = s.items(caps).iter().copied().find(|&c| {
            s.scalar(c).is_some_and(|c| {
                matches!(
                    c.to_ascii_uppercase().as_str(),
                    "SYS_ADMIN" | "CAP_SYS_ADMIN" | "ALL"
                )
            })
        });
    }
    facts.user = s.get_str(map, "user").map(str::to_string);
    if let Some((_, t)) = s.get(map, "tmpfs") {
        facts.tmpfs_node = Some(t);
        facts.tmpfs = tmpfs_entries(s, t);
    }
    facts.writable_mounts = resolved.mounts;
    facts
}

/// Mount points a service writes to besides its root file system: tmpfs entries and
/// volumes not mounted read-only.
fn writable_mounts(s: &Stream, map: NodeId) -> Vec<String> {
    let mut out: Vec<String> = match s.get(map, "tmpfs") {
        Some((_, t)) => tmpfs_entries(s, t).into_iter().map(|t| t.path).collect(),
        None => Vec::new(),
    };
    let Some((_, vols)) = s.get(map, "volumes") else {
        return out;
    };
    for &v in s.items(vols) {
        if let Some(text) = s.scalar(v) {
            let parts: Vec<&str> = text.split(':').collect();
            let (target, mode) = match parts.len() {
                1 => (parts[0], ""),
                2 => (parts[1], ""),
                _ => (parts[1], parts[2]),
            };
            if !mode.split(',').any(|m| m == "ro") {
                out.push(target.to_string());
            }
        } else if s.is_map(v) {
            let ro = s.get_str(v, "read_only").and_then(compose_bool) == Some(true);
            if let (Some(t), false) = (s.get_str(v, "target"), ro) {
                out.push(t.to_string());
            }
        }
    }
    out
}

/// The read-only switch, image and writable mounts of a service after merges and `extends`
/// (which adds the extended service's tmpfs and volumes to the service's own).
struct Effective {
    switch: Switch,
    image: Option<String>,
    mounts: Vec<String>,
}

const MAX_EXTENDS: usize = 10;

/// Other files of the project, read and parsed once per analysis: a file that a dozen
/// services extend is not parsed a dozen times.
pub struct Files<'a> {
    resolver: &'a dyn Resolver,
    cache: RefCell<HashMap<String, Option<Rc<Stream>>>>,
}

impl<'a> Files<'a> {
    /// Wraps a resolver.
    pub fn new(resolver: &'a dyn Resolver) -> Files<'a> {
        Files {
            resolver,
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// The parsed file at `path`, if it exists and is UTF-8.
    fn load(&self, path: &str) -> Option<Rc<Stream>> {
        if let Some(hit) = self.cache.borrow().get(path) {
            return hit.clone();
        }
        let parsed = self
            .resolver
            .read(path)
            .and_then(|b| String::from_utf8(b).ok())
            .map(|text| Rc::new(Stream::parse(&text, Limits::default())));
        self.cache
            .borrow_mut()
            .insert(path.to_string(), parsed.clone());
        parsed
    }
}

fn effective(
    s: &Stream,
    root: NodeId,
    map: NodeId,
    path: &str,
    files: &Files<'_>,
    depth: usize,
) -> Effective {
    let own_switch = s.get(map, "read_only").map(|(_, v)| {
        if s.is_duplicated(map, "read_only") {
            Switch::Unknown("`read_only` is written twice in this service".into())
        } else {
            switch_of(s, v)
        }
    });
    let own = Effective {
        switch: own_switch.clone().unwrap_or(Switch::Absent),
        image: s.get_str(map, "image").map(str::to_string),
        mounts: writable_mounts(s, map),
    };
    let Some((_, ext)) = s.get(map, "extends") else {
        return own;
    };
    let parent = if depth >= MAX_EXTENDS {
        Err(format!(
            "`extends` is nested more than {MAX_EXTENDS} levels deep (a cycle?)"
        ))
    } else {
        extended(s, root, ext, path, files, depth)
    };
    match parent {
        // The service's own values win; lists such as tmpfs and volumes add up.
        Ok(parent) => Effective {
            switch: own_switch.unwrap_or(parent.switch),
            image: own.image.or(parent.image),
            mounts: [own.mounts, parent.mounts].concat(),
        },
        Err(reason) => Effective {
            switch: own_switch.unwrap_or(Switch::Unknown(reason)),
            ..own
        },
    }
}

/// The service an `extends` names, after its own merges and `extends`; why not, if missing.
fn extended(
    s: &Stream,
    root: NodeId,
    ext: NodeId,
    path: &str,
    files: &Files<'_>,
    depth: usize,
) -> Result<Effective, String> {
    let (file, service) = match s.scalar(ext) {
        Some(name) => (None, name.to_string()),
        None => (
            s.get_str(ext, "file").map(str::to_string),
            s.get_str(ext, "service")
                .ok_or("`extends` names no service")?
                .to_string(),
        ),
    };
    let Some(file) = file else {
        let m = lookup_service(s, root, &service).ok_or_else(|| {
            format!("`extends` names service `{service}`, which is not in this file")
        })?;
        return Ok(effective(s, root, m, path, files, depth + 1));
    };
    let other_path = join(path, &file);
    let other = files.load(&other_path).ok_or_else(|| {
        format!("`extends` names `{file}`, which was not found (looked for `{other_path}`)")
    })?;
    let r = other.docs.first().copied().flatten();
    let m = r
        .and_then(|r| lookup_service(&other, r, &service))
        .ok_or_else(|| {
            format!("`extends` names service `{service}` in `{file}`, which has no such service")
        })?;
    let r = r.unwrap_or(m);
    Ok(effective(&other, r, m, &other_path, files, depth + 1))
}

fn lookup_service(s: &Stream, root: NodeId, name: &str) -> Option<NodeId> {
    let services = match layout(s, root, Evidence::Named)? {
        Layout::Services(n) | Layout::Legacy(n) => n,
        Layout::Empty => return None,
    };
    let m = s.get(services, name)?.1;
    s.is_map(m).then(|| s.resolve(m))
}

/// Joins a relative reference to the directory of `base`, normalising `.` and `..`.
pub fn join(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').collect()
    };
    parts.pop();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// How Compose reads a `read_only` value: booleans, and strings it casts.
fn switch_of(s: &Stream, v: NodeId) -> Switch {
    let Some(text) = s.scalar(v) else {
        return Switch::Unknown("`read_only` is not a scalar".into());
    };
    if text.contains('$') {
        return Switch::Unknown(format!(
            "`read_only: {text}` depends on the environment at deploy time"
        ));
    }
    if s.is_null(v) {
        return Switch::Absent;
    }
    match compose_bool(text) {
        Some(true) => Switch::On,
        Some(false) => Switch::Off,
        None => Switch::Unknown(format!(
            "`read_only: {text}` is not a boolean; Compose rejects the file"
        )),
    }
}

/// Compose casts strings to booleans (compose-go): case-insensitive y/yes/true/on/1 and
/// n/no/false/off/0.
pub(crate) fn compose_bool(text: &str) -> Option<bool> {
    if let Some(b) = plain_bool(text) {
        return Some(b);
    }
    match text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "on" | "1" => Some(true),
        "n" | "no" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// The override file beside a base file, or the base beside an override file.
struct Other {
    stream: Rc<Stream>,
    services: Option<NodeId>,
    /// Whether this file is the override (true) or the base (false).
    this_is_override: bool,
}

impl Other {
    fn load(input: &ComposeInput<'_>, files: &Files<'_>) -> Option<Other> {
        let (dir, name) = match input.path.rsplit_once('/') {
            Some((d, n)) => (format!("{d}/"), n),
            None => (String::new(), input.path),
        };
        let (stem, ext) = name.rsplit_once('.')?;
        let (other_name, this_is_override) = match stem.strip_suffix(".override") {
            Some(base) => (format!("{base}.{ext}"), true),
            None if stem == "compose" || stem == "docker-compose" => {
                (format!("{stem}.override.{ext}"), false)
            }
            None => return None,
        };
        let stream = files.load(&format!("{dir}{other_name}"))?;
        let services = stream.docs.first().copied().flatten().and_then(|r| {
            match layout(&stream, r, Evidence::Named)? {
                Layout::Services(n) | Layout::Legacy(n) => Some(n),
                Layout::Empty => None,
            }
        });
        Some(Other {
            stream,
            services,
            this_is_override,
        })
    }

    fn other_service(&self, name: &str) -> Option<NodeId> {
        let m = self.stream.get(self.services?, name)?.1;
        self.stream.is_map(m).then(|| self.stream.resolve(m))
    }

    /// An override's service that the base also defines is reported by the base.
    fn skip_unit(&self, name: &str) -> bool {
        self.this_is_override && self.other_service(name).is_some()
    }

    /// Applies the merge: the override's `read_only` wins over the base's.
    fn merge_into(&self, facts: &mut UnitFacts, name: &str) {
        let Some(other) = self.other_service(name) else {
            return;
        };
        let s = &self.stream;
        let other_switch = s.get(other, "read_only").map(|(_, v)| switch_of(s, v));
        if self.this_is_override {
            // This file's value (if any) wins; otherwise the base's.
            if facts.switch == Switch::Absent
                && let Some(sw) = other_switch
            {
                facts.switch = sw;
            }
        } else if let Some(sw) = other_switch {
            // The override decides: a fix belongs there.
            facts.switch = sw;
            facts.decided_elsewhere = true;
        }
        if facts.unit.image.is_none() {
            facts.unit.image = s.get_str(other, "image").map(str::to_string);
        }
        facts.writable_mounts.extend(writable_mounts(s, other));
    }
}

/// The short-syntax entries of a `tmpfs:` value (one string or a list of them).
fn tmpfs_entries(s: &Stream, t: NodeId) -> Vec<Tmpfs> {
    let nodes: Vec<NodeId> = if s.is_seq(t) {
        s.items(t).to_vec()
    } else {
        vec![t]
    };
    nodes
        .into_iter()
        .filter_map(|node| {
            let text = s.scalar(node)?;
            let (path, options) = text.split_once(':').unwrap_or((text, ""));
            Some(Tmpfs {
                path: path.trim().to_string(),
                options: options.to_string(),
                node,
            })
        })
        .collect()
}

/// Whether a Compose `user:` runs as root.
pub fn is_root_user(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or("").trim();
    u.is_empty() || u == "root" || u == "0"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_paths() {
        assert_eq!(join("a/b/c.yml", "d.yml"), "a/b/d.yml");
        assert_eq!(join("a/b/c.yml", "../d.yml"), "a/d.yml");
        assert_eq!(join("c.yml", "sub/d.yml"), "sub/d.yml");
        assert_eq!(join("c.yml", "./d.yml"), "d.yml");
    }
}
