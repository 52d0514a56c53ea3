//! What the Go YAML readers behind `docker compose` and `kubectl` refuse although our parser
//! reads it.
//!
//! Compose reads its files with compose-go, which uses gopkg.in/yaml.v3 (go.yaml.in/yaml/v4
//! in recent releases); kubectl uses sigs.k8s.io/yaml, a fork of gopkg.in/yaml.v2, and
//! kustomize uses kyaml on yaml.v3. All three scanners are ports of libyaml, so they share its
//! stricter rules for TABs; the decoders add their limit
//! on alias expansion and their rules for `<<`. A file they refuse does not deploy as written,
//! whatever else it says: the caller reports its units as unknown.
//!
//! Control characters and unknown anchors need nothing here: our parser refuses them too.

mod aliasing;
mod tabs;

use super::tree::{Kind, NodeId, Stream, Style};

/// The tool a file is written for, which decides whose refusal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `docker compose` (compose-go, yaml.v3 / yaml v4).
    Compose,
    /// `kubectl` (sigs.k8s.io/yaml, a yaml.v2 fork) and kustomize (kyaml, yaml.v3).
    Kubectl,
}

impl Tool {
    /// Who refuses what every libyaml-derived reader refuses.
    fn readers(self) -> &'static str {
        match self {
            Tool::Compose => "Compose refuses the file",
            Tool::Kubectl => "kubectl and kustomize refuse the file",
        }
    }

    /// Who refuses what the decoders (not kyaml's node reader) refuse.
    fn decoder(self) -> &'static str {
        match self {
            Tool::Compose => "Compose refuses the file",
            Tool::Kubectl => "kubectl refuses the file",
        }
    }

    fn units(self) -> &'static str {
        match self {
            Tool::Compose => "its services are reported as unknown",
            Tool::Kubectl => "its containers are reported as unknown",
        }
    }
}

/// One reason the tool refuses the file, at the offending place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What is wrong, who refuses it, and what follows for the units.
    pub message: String,
}

/// Everything `tool` would refuse in a stream that our parser read without error.
pub fn refusals(text: &str, s: &Stream, tool: Tool) -> Vec<Refusal> {
    let mut out = Vec::new();
    out.extend(tabs::refusal(text, s, tool));
    // Most files merge nothing and alias nothing: a scan of the text spares the tree walks.
    if text.contains("<<") {
        out.extend(bad_merges(s, tool));
    }
    if text.contains('*') {
        out.extend(aliasing::refusals(text, s, tool));
    }
    out
}

/// yaml.v2 and yaml.v3 merge only mappings: `map merge requires map or sequence of maps as
/// the value`. Recent compose-go resolves an alias to a sequence of mappings itself, so that
/// form is refused by kubectl only.
fn bad_merges(s: &Stream, tool: Tool) -> Vec<Refusal> {
    let mut out = Vec::new();
    for node in &s.nodes {
        let Kind::Map { entries, .. } = &node.kind else {
            continue;
        };
        for &(k, v) in entries {
            if !is_merge_key(s, k) {
                continue;
            }
            if let Some(bad) = bad_merge_value(s, v, tool) {
                let n = s.node(bad);
                out.push(Refusal {
                    line: n.start.line,
                    column: n.start.col + 1,
                    message: format!(
                        "`<<` merges {}, not a mapping: {} (`map merge requires map or sequence of maps as the value`); {}",
                        describe(s, bad),
                        tool.decoder(),
                        tool.units()
                    ),
                });
            }
        }
    }
    out
}

/// A plain, untagged `<<` key: what both decoders treat as a merge.
pub(crate) fn is_merge_key(s: &Stream, k: NodeId) -> bool {
    let n = s.node(k);
    !n.tagged && matches!(&n.kind, Kind::Scalar { value, style: Style::Plain } if value == "<<")
}

/// The first part of a merge value the decoders refuse, if any.
fn bad_merge_value(s: &Stream, v: NodeId, tool: Tool) -> Option<NodeId> {
    match &s.node(v).kind {
        Kind::Map { .. } => None,
        Kind::Alias(t) => match s.node(*t).kind {
            Kind::Map { .. } => None,
            Kind::Seq { .. } if tool == Tool::Compose => None,
            _ => Some(v),
        },
        Kind::Seq { items, .. } => items.iter().copied().find(|&i| !s.is_map(i)),
        Kind::Scalar { .. } => Some(v),
    }
}

fn describe(s: &Stream, n: NodeId) -> &'static str {
    let r = s.resolve(n);
    match s.node(r).kind {
        Kind::Seq { .. } => "a sequence",
        _ if s.is_null(r) => "an empty value",
        _ => "a scalar",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Limits;

    fn check(text: &str, tool: Tool) -> Vec<String> {
        let s = Stream::parse(text, Limits::default());
        assert!(s.error.is_none(), "{:?}", s.error);
        refusals(text, &s, tool)
            .into_iter()
            .map(|r| format!("{}:{} {}", r.line, r.column, r.message))
            .collect()
    }

    #[test]
    fn merges_of_non_mappings_are_refused() {
        let got = check(
            "x: &s [a]\nservices:\n  web:\n    <<: *s\n  db:\n    <<: [{a: 1}, 3]\n  c:\n    <<:\n",
            Tool::Kubectl,
        );
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got[0]
                .starts_with("4:9 `<<` merges a sequence, not a mapping: kubectl refuses the file"),
            "{got:?}"
        );
        assert!(got[1].starts_with("6:18 `<<` merges a scalar"), "{got:?}");
        assert!(got[2].contains("an empty value"), "{got:?}");
        // compose-go resolves an alias to a sequence of mappings before yaml.v3 sees it.
        let compose = check(
            "x: &s [{a: 1}]\nservices:\n  web:\n    <<: *s\n",
            Tool::Compose,
        );
        assert!(compose.is_empty(), "{compose:?}");
        assert!(check("x: &m {a: 1}\ny:\n  <<: [*m, {b: 2}]\n", Tool::Kubectl).is_empty());
    }
}
