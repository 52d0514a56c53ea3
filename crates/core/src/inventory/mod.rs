//! Inventory: every service or container in a parsed file, with the facts the rules need.
//!
//! Compose and Kubernetes are read into the same [`UnitFacts`] so that rules and patches
//! ask one question ("is the switch on, which paths are writable") whatever the format.

pub mod compose;
pub mod kubernetes;

use crate::model::Unit;
use crate::yaml::NodeId;

/// The value of the read-only switch as written, before suppressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    /// Read-only.
    On,
    /// Written, and false.
    Off,
    /// Not written anywhere that applies.
    Absent,
    /// Cannot be decided from the file; the reason says why.
    Unknown(String),
}

/// Which runtime will read the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Docker Compose or `docker stack deploy`.
    Compose {
        /// A 3.0–3.5 file whose service has `deploy:`: service-level `tmpfs` is ignored.
        legacy_stack: bool,
        /// The file's `version:` as written.
        version: Option<String>,
    },
    /// Kubernetes.
    Kubernetes,
}

/// A `tmpfs` entry of a Compose service (short syntax).
#[derive(Debug, Clone)]
pub struct Tmpfs {
    /// Mount point.
    pub path: String,
    /// Options after the first `:` (may be empty).
    pub options: String,
    /// The scalar node of the entry.
    pub node: NodeId,
}

/// Everything the rules and patches need to know about one unit.
#[derive(Debug, Clone)]
pub struct UnitFacts {
    /// The unit as reported (its `read_only` is the status before suppressions).
    pub unit: Unit,
    /// Which runtime reads it.
    pub target: Target,
    /// The service or container mapping in this file (`None` for a `service:` with no body).
    pub map: Option<NodeId>,
    /// The service key node, or the container's `name` value (or the item) node.
    pub anchor: NodeId,
    /// The switch as written.
    pub switch: Switch,
    /// The node holding the switch's value when it is written in `map` itself.
    pub switch_node: Option<NodeId>,
    /// The deciding value lives in another file (override file); this file has no fix.
    pub decided_elsewhere: bool,
    /// Kubernetes: the container's `securityContext` mapping.
    pub security_context: Option<NodeId>,
    /// The node of `privileged: true`.
    pub privileged: Option<NodeId>,
    /// The node of a `SYS_ADMIN` (or `ALL`) capability added.
    pub sys_admin: Option<NodeId>,
    /// Compose `user:` as written.
    pub user: Option<String>,
    /// Compose short-syntax `tmpfs` entries.
    pub tmpfs: Vec<Tmpfs>,
    /// The node of the service's `tmpfs` value.
    pub tmpfs_node: Option<NodeId>,
    /// Mount points that are writable and not the root file system.
    pub writable_mounts: Vec<String>,
    /// Kubernetes: the pod spec the container belongs to.
    pub pod_spec: Option<NodeId>,
    /// The workload's exempt-containers annotation, when it names this unit.
    pub annotation_exempt: Option<AnnotationExempt>,
    /// Whether the unit is listed in this file's inventory. An override file's service that
    /// its base also defines is listed by the base, but its findings belong here.
    pub listed: bool,
    /// Another file reports this unit's findings (the base of an override fragment).
    pub findings_elsewhere: bool,
}

/// What a workload's `immutabot.dev/exempt-*` annotations say about one of its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationExempt {
    /// `immutabot.dev/exempt-reason`, or a default naming the annotation.
    pub reason: String,
    /// `immutabot.dev/exempt-expires`: absent, a day, or text that is no date.
    pub expires: Result<Option<crate::date::Date>, crate::date::DateError>,
}

/// A pod-level `readOnlyRootFilesystem`, which Kubernetes ignores.
#[derive(Debug, Clone)]
pub struct PodLevel {
    /// `Kind/name`.
    pub workload: String,
    /// The `readOnlyRootFilesystem` key node.
    pub key: NodeId,
    /// The value node.
    pub node: NodeId,
}

/// What the inventory of one file found.
#[derive(Debug, Default)]
pub struct Inventory {
    /// The units, in file order.
    pub units: Vec<UnitFacts>,
    /// Kubernetes pod-level switches.
    pub pod_level: Vec<PodLevel>,
}

/// YAML 1.1 / Go-YAML spellings of true and false for an unquoted scalar.
pub(crate) fn plain_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            Some(false)
        }
        _ => None,
    }
}
