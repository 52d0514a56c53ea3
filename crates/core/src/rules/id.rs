//! Rule identities: stable ids, default severities and one-line titles.

use crate::model::Severity;

/// Every rule the core knows. The kebab-case id is stable: users write it in suppressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    /// A service or container can write to its root file system.
    WritableRootFilesystem,
    /// `readOnlyRootFilesystem` set on the pod, where Kubernetes ignores it.
    PodLevelReadOnly,
    /// Read-only, but `privileged` or `SYS_ADMIN` lets the process remount `/` writable.
    ReadOnlyBypassed,
    /// A non-root service's tmpfs has no `uid`: root owns it and the process cannot write.
    TmpfsOwnedByRoot,
    /// Service-level `tmpfs:` in a 3.0–3.5 stack file, which `docker stack deploy` ignores.
    SwarmTmpfsIgnored,
    /// Read-only, but the image needs writable paths that have no scratch mount.
    MissingScratchMount,
    /// The read-only status cannot be decided from the file (interpolation, wrong type, …).
    ReadOnlyUnknown,
    /// The file cannot be read or parsed.
    InvalidFile,
    /// An `immutabot:ignore` comment names a rule that does not exist: it suppresses nothing.
    InvalidSuppression,
    /// A Helm chart or kustomization does not render, so what it deploys is not checked.
    RenderFailed,
}

impl RuleId {
    /// All rules, in documentation order.
    pub const ALL: [RuleId; 10] = [
        RuleId::WritableRootFilesystem,
        RuleId::PodLevelReadOnly,
        RuleId::ReadOnlyBypassed,
        RuleId::TmpfsOwnedByRoot,
        RuleId::SwarmTmpfsIgnored,
        RuleId::MissingScratchMount,
        RuleId::ReadOnlyUnknown,
        RuleId::InvalidFile,
        RuleId::InvalidSuppression,
        RuleId::RenderFailed,
    ];

    /// The stable kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::WritableRootFilesystem => "writable-root-filesystem",
            RuleId::PodLevelReadOnly => "pod-level-read-only",
            RuleId::ReadOnlyBypassed => "read-only-bypassed",
            RuleId::TmpfsOwnedByRoot => "tmpfs-owned-by-root",
            RuleId::SwarmTmpfsIgnored => "swarm-tmpfs-ignored",
            RuleId::MissingScratchMount => "missing-scratch-mount",
            RuleId::ReadOnlyUnknown => "read-only-unknown",
            RuleId::InvalidFile => "invalid-file",
            RuleId::InvalidSuppression => "invalid-suppression",
            RuleId::RenderFailed => "render-failed",
        }
    }

    /// Looks a rule up by its id.
    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Severity unless `.immutabot.yml` says otherwise.
    pub fn default_severity(self) -> Severity {
        match self {
            RuleId::WritableRootFilesystem
            | RuleId::PodLevelReadOnly
            | RuleId::ReadOnlyBypassed
            | RuleId::SwarmTmpfsIgnored
            | RuleId::InvalidFile
            | RuleId::RenderFailed => Severity::Error,
            RuleId::TmpfsOwnedByRoot
            | RuleId::MissingScratchMount
            | RuleId::ReadOnlyUnknown
            | RuleId::InvalidSuppression => Severity::Warning,
        }
    }

    /// A short title for tables and SARIF rule metadata.
    pub fn title(self) -> &'static str {
        match self {
            RuleId::WritableRootFilesystem => "Root file system is writable",
            RuleId::PodLevelReadOnly => "readOnlyRootFilesystem at pod level is ignored",
            RuleId::ReadOnlyBypassed => "Read-only root file system can be remounted writable",
            RuleId::TmpfsOwnedByRoot => "tmpfs owned by root for a non-root user",
            RuleId::SwarmTmpfsIgnored => "Service tmpfs is ignored by docker stack deploy",
            RuleId::MissingScratchMount => "Image needs a writable path that has no scratch mount",
            RuleId::ReadOnlyUnknown => "Read-only status cannot be decided from the file",
            RuleId::InvalidFile => "File cannot be read or parsed",
            RuleId::InvalidSuppression => "Suppression comment names an unknown rule",
            RuleId::RenderFailed => "Chart or kustomization does not render",
        }
    }

    /// Link to the rule's section in `docs/rules.md`.
    pub fn help_uri(self) -> String {
        format!(
            "https://github.com/immutabot/immutabot/blob/main/docs/rules.md#{}",
            self.as_str()
        )
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
