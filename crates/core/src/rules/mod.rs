//! The rules: what is wrong with a unit, as findings with patches.
//!
//! Each rule looks at one unit's [`UnitFacts`] and says what is wrong in words a reviewer
//! can act on; the patch comes from [`crate::patch`].

mod id;
mod messages;

pub use id::RuleId;
pub use messages::parse_error as parse_error_message;

use crate::inventory::compose::is_root_user;
use crate::inventory::{Inventory, Switch, Target, UnitFacts};
use crate::knowledge;
use crate::model::{Fix, ReadOnly};
use crate::patch::Planner;
use crate::yaml::NodeId;

/// A finding before severities and suppressions are applied.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Which rule.
    pub rule: RuleId,
    /// Index of the unit in the inventory, when about a unit.
    pub unit: Option<usize>,
    /// The node pointed at.
    pub node: NodeId,
    /// What is wrong.
    pub message: String,
    /// The patch, if one can be made.
    pub fix: Option<Fix>,
}

/// Runs every rule over an inventory.
pub fn check(inv: &Inventory, planner: &Planner<'_>) -> Vec<Draft> {
    let mut out = Vec::new();
    for (i, u) in inv.units.iter().enumerate() {
        if u.findings_elsewhere {
            continue;
        }
        unit_rules(i, u, planner, &mut out);
    }
    for p in &inv.pod_level {
        out.push(Draft {
            rule: RuleId::PodLevelReadOnly,
            unit: None,
            node: p.node,
            message: messages::pod_level(&p.workload),
            fix: planner.remove_line(
                p.key,
                p.node,
                "Remove the pod-level `readOnlyRootFilesystem`, which Kubernetes ignores",
            ),
        });
    }
    out
}

/// The status of a unit before suppressions.
pub fn status(u: &UnitFacts) -> ReadOnly {
    match u.switch {
        Switch::On => ReadOnly::True,
        Switch::Off | Switch::Absent => ReadOnly::False,
        Switch::Unknown(_) => ReadOnly::Unknown,
    }
}

fn unit_rules(i: usize, u: &UnitFacts, planner: &Planner<'_>, out: &mut Vec<Draft>) {
    let needs = knowledge::needs(u);
    let missing: Vec<String> = needs
        .iter()
        .filter(|p| !knowledge::covered(p, &u.writable_mounts))
        .cloned()
        .collect();
    match &u.switch {
        Switch::Off | Switch::Absent => {
            let at = u.switch_node.unwrap_or(u.anchor);
            let fix = if u.decided_elsewhere {
                None
            } else {
                planner.make_read_only(u, &missing)
            };
            out.push(Draft {
                rule: RuleId::WritableRootFilesystem,
                unit: Some(i),
                node: at,
                message: messages::writable(u, &missing),
                fix,
            });
        }
        Switch::Unknown(reason) => {
            out.push(Draft {
                rule: RuleId::ReadOnlyUnknown,
                unit: Some(i),
                node: u.switch_node.unwrap_or(u.anchor),
                message: messages::unknown(u, reason),
                fix: planner.fix_unknown(u),
            });
        }
        Switch::On => {
            if let Some(node) = u.privileged.or(u.sys_admin) {
                out.push(Draft {
                    rule: RuleId::ReadOnlyBypassed,
                    unit: Some(i),
                    node,
                    message: messages::bypassed(u),
                    fix: None,
                });
            }
            if !missing.is_empty() && !u.decided_elsewhere {
                out.push(Draft {
                    rule: RuleId::MissingScratchMount,
                    unit: Some(i),
                    node: u.anchor,
                    message: messages::missing_mounts(u, &missing),
                    fix: planner.add_mounts(u, &missing),
                });
            }
            if let Target::Compose { legacy_stack, .. } = &u.target {
                if *legacy_stack && let Some(t) = u.tmpfs_node {
                    out.push(Draft {
                        rule: RuleId::SwarmTmpfsIgnored,
                        unit: Some(i),
                        node: t,
                        message: messages::swarm_tmpfs(u),
                        fix: planner.tmpfs_to_volumes(u),
                    });
                } else if let Some(user) = u.user.as_deref()
                    && !is_root_user(user)
                {
                    for t in u.tmpfs.iter().filter(|t| !has_owner(&t.options)) {
                        out.push(Draft {
                            rule: RuleId::TmpfsOwnedByRoot,
                            unit: Some(i),
                            node: t.node,
                            message: messages::tmpfs_root(u, &t.path, user),
                            fix: planner.tmpfs_owner(t, user),
                        });
                    }
                }
            }
        }
    }
}

/// Whether tmpfs options give the mount to someone (a `uid`) or make it world-writable.
fn has_owner(options: &str) -> bool {
    options.split(',').any(|o| {
        let o = o.trim();
        o.starts_with("uid=") || o == "mode=1777" || o == "mode=777" || o == "mode=0777"
    })
}
