//! The words of each finding: what is wrong, why it matters, and what the patch does.

use crate::inventory::{Target, UnitFacts};

fn who(u: &UnitFacts) -> String {
    match (&u.unit.container, &u.target) {
        (Some(c), _) => format!("Container `{c}` of `{}`", u.unit.workload),
        (None, Target::Kubernetes) => format!("A container of `{}`", u.unit.workload),
        (None, _) => format!("Service `{}`", u.unit.workload),
    }
}

fn mounts_sentence(u: &UnitFacts, missing: &[String]) -> String {
    if missing.is_empty() {
        return String::new();
    }
    let image = u.unit.image.as_deref().unwrap_or("its image");
    let kind = match u.target {
        Target::Kubernetes => "an `emptyDir` volume",
        Target::Compose { .. } => "a `tmpfs` mount",
    };
    format!(
        " `{image}` needs {} to be writable; the patch gives {} {kind}.",
        list(missing),
        if missing.len() == 1 { "it" } else { "each" }
    )
}

fn list(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `writable-root-filesystem`.
pub fn writable(u: &UnitFacts, missing: &[String]) -> String {
    let switch = match u.target {
        Target::Kubernetes => "`securityContext.readOnlyRootFilesystem: true`",
        Target::Compose { .. } => "`read_only: true`",
    };
    let why = "anything running in it (an update, a compromised process) can change the tested image at run time.";
    let fix = if u.decided_elsewhere {
        " The value is set in the override file beside this one; change it there.".to_string()
    } else {
        mounts_sentence(u, missing)
    };
    format!(
        "{} has a writable root file system: {why} Set {switch}.{fix}",
        who(u)
    )
}

/// `read-only-unknown`.
pub fn unknown(u: &UnitFacts, reason: &str) -> String {
    format!(
        "{}: the read-only status cannot be decided from the file: {reason}.",
        who(u)
    )
}

/// `read-only-bypassed`.
pub fn bypassed(u: &UnitFacts) -> String {
    let what = if u.privileged.is_some() {
        "runs privileged"
    } else {
        "adds the `SYS_ADMIN` capability"
    };
    format!(
        "{} is read-only but {what}, so it can remount `/` read-write: the read-only root file system is not effective. Drop the privilege if the workload does not need it.",
        who(u)
    )
}

/// `missing-scratch-mount`.
pub fn missing_mounts(u: &UnitFacts, missing: &[String]) -> String {
    let image = u.unit.image.as_deref().unwrap_or("its image");
    let kind = match u.target {
        Target::Kubernetes => "`emptyDir` volumes",
        Target::Compose { .. } => "`tmpfs` mounts",
    };
    let note = crate::knowledge::lookup(image)
        .map(|e| e.note.trim())
        .filter(|n| !n.is_empty())
        .map(|n| format!(" Note: {n}"))
        .unwrap_or_default();
    format!(
        "{} is read-only, but `{image}` writes to {} and nothing writable is mounted there: the container will fail at start or at first write. The patch adds {kind}.{note}",
        who(u),
        list(missing)
    )
}

/// `swarm-tmpfs-ignored`.
pub fn swarm_tmpfs(u: &UnitFacts) -> String {
    let version = match &u.target {
        Target::Compose {
            version: Some(v), ..
        } => v.clone(),
        _ => "3.x".into(),
    };
    format!(
        "{} relies on service-level `tmpfs:`, which `docker stack deploy` ignores for file version {version} (3.0–3.5): under Swarm the read-only service has no scratch space. Use long-syntax `type: tmpfs` volumes instead (file version 3.2 or later).",
        who(u)
    )
}

/// `tmpfs-owned-by-root`.
pub fn tmpfs_root(u: &UnitFacts, path: &str, user: &str) -> String {
    format!(
        "{} runs as user `{user}`, but its tmpfs `{path}` has no `uid=` option: the mount belongs to root and the process may not be able to write to it.",
        who(u)
    )
}

/// `pod-level-read-only`.
pub fn pod_level(workload: &str) -> String {
    format!(
        "`readOnlyRootFilesystem` is set in the pod's `securityContext` of `{workload}`, where Kubernetes ignores it (it is not a PodSecurityContext field): every container stays writable unless it sets it in its own `securityContext`."
    )
}

/// `invalid-file` for a syntax error.
pub fn parse_error(reason: &str) -> String {
    format!("The file is not valid YAML: {reason}. Nothing in it could be checked.")
}
