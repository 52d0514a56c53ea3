//! The Go decoders' limit on alias expansion, measured on our tree without expanding it.
//!
//! yaml.v2, yaml.v3 and yaml v4 count every node they decode (`decodeCount`) and those decoded
//! under an alias (`aliasCount`); after each, they fail with `document contains excessive
//! aliasing` once `aliasCount > 100 && decodeCount > 1000 && aliasCount / decodeCount >
//! allowedAliasRatio(decodeCount)`, where the allowed ratio is 0.99 up to 400 000 decodes,
//! 0.10 from 4 000 000, and falls linearly in between (`decode.go`, constants
//! `alias_ratio_range_low` and `alias_ratio_range_high`). kubectl decodes each document with
//! yaml.v2 (sigs.k8s.io/yaml); Compose decodes the document's root with yaml.v3 or v4 after
//! compose-go's own pass.
//!
//! We walk the document in the decoders' order, visiting nodes outside aliases one by one and
//! adding each alias's expansion, computed once per node, as one step. Within such a step the
//! alias share only grows while the allowed ratio only falls, so checking at its end finds
//! every failure. yaml.v3 skips the value of a merged key the mapping already has; we count
//! none of the merged values, so our Compose count never exceeds the real one and a refusal we
//! report is one Compose makes.

use super::{Refusal, Tool, is_merge_key};
use crate::yaml::tree::{Kind, NodeId, Stream};

/// Decodes allowed before the ratio starts to fall (`alias_ratio_range_low`).
const RANGE_LOW: u64 = 400_000;
/// Decodes from which the ratio stays at its lowest (`alias_ratio_range_high`).
const RANGE_HIGH: u64 = 4_000_000;

/// `allowedAliasRatio` of yaml.v2/v3/v4.
fn allowed_ratio(decodes: u64) -> f64 {
    if decodes <= RANGE_LOW {
        0.99
    } else if decodes >= RANGE_HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decodes - RANGE_LOW) as f64 / (RANGE_HIGH - RANGE_LOW) as f64)
    }
}

fn excessive(aliased: u64, decodes: u64) -> bool {
    aliased > 100 && decodes > 1000 && aliased as f64 / decodes as f64 > allowed_ratio(decodes)
}

/// The refusals of `tool` for aliases: an alias inside its own anchor, or excessive aliasing.
pub(super) fn refusals(text: &str, s: &Stream, tool: Tool) -> Vec<Refusal> {
    if !s.nodes.iter().any(|n| matches!(n.kind, Kind::Alias(_))) {
        return Vec::new();
    }
    let mut sizes = Sizes::new(s);
    let mut out = Vec::new();
    for root in s.docs.iter().flatten().copied() {
        sizes.fill(s, root);
        let mut walk = Walk {
            s,
            z: &sizes,
            decodes: u64::from(tool == Tool::Kubectl),
            aliased: 0,
            tripped: None,
        };
        match tool {
            Tool::Kubectl => walk.v2(root),
            Tool::Compose => walk.v3(root),
        }
        if let Some(at) = walk.tripped {
            out.push(excessive_refusal(text, s, tool, at, &walk));
        }
    }
    if let Some(alias) = sizes.cycle {
        let n = s.node(alias);
        let name = alias_name(text, s, alias);
        out.push(Refusal {
            line: n.start.line,
            column: n.start.col + 1,
            message: format!(
                "`*{name}` sits inside the node anchored `&{name}` it refers to, so it never ends: {} (`anchor '{name}' value contains itself`); {}",
                tool.decoder(),
                tool.units()
            ),
        });
    }
    out
}

fn alias_name<'a>(text: &'a str, s: &Stream, alias: NodeId) -> &'a str {
    let n = s.node(alias);
    text.get(n.start.byte..n.end.byte)
        .map_or("", |t| t.trim_start_matches('*').trim())
}

fn excessive_refusal(text: &str, s: &Stream, tool: Tool, at: NodeId, w: &Walk<'_>) -> Refusal {
    let n = s.node(at);
    let what = match n.kind {
        Kind::Alias(_) => format!("`*{}`", alias_name(text, s, at)),
        _ => "this node".to_string(),
    };
    let (reader, tool_refuses) = match tool {
        Tool::Compose => ("yaml.v3", "Compose refuses the file"),
        Tool::Kubectl => ("yaml.v2", "kubectl refuses the file"),
    };
    Refusal {
        line: n.start.line,
        column: n.start.col + 1,
        message: format!(
            "Aliases unfold past what {reader} allows: by {what}, {} of the {} nodes decoded come from aliases (at most 99% of a document of up to 400,000 nodes, falling to 10% at 4,000,000): {tool_refuses} (`document contains excessive aliasing`); {}",
            count(w.aliased),
            count(w.decodes),
            tool.units()
        ),
    }
}

/// A count as a reader takes it in: digits grouped, or powers of ten past a billion.
fn count(n: u64) -> String {
    if n >= 1_000_000_000 {
        return format!("{:.1e}", n as f64);
    }
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Decodes of each node's expansion, once per node (saturating).
struct Sizes {
    /// yaml.v2: everything, merges included.
    v2: Vec<u64>,
    /// yaml.v3, as a value: a mapping decodes its keys again when it merges.
    v3: Vec<u64>,
    /// yaml.v3, as a merged mapping: keys only (the lower bound, see the module comment).
    v3_merged: Vec<u64>,
    done: Vec<bool>,
    /// An alias met while its anchor's node was still being sized: it refers to an ancestor.
    cycle: Option<NodeId>,
}

impl Sizes {
    fn new(s: &Stream) -> Sizes {
        let n = s.nodes.len();
        Sizes {
            v2: vec![0; n],
            v3: vec![0; n],
            v3_merged: vec![0; n],
            done: vec![false; n],
            cycle: None,
        }
    }

    /// Sizes `id` and everything under it. Recursion follows the written nesting only, which
    /// the parser bounds; an alias's anchor is complete before the alias is written.
    fn fill(&mut self, s: &Stream, id: NodeId) {
        let i = id as usize;
        if self.done[i] {
            return;
        }
        let (v2, v3, v3m) = match &s.node(id).kind {
            Kind::Scalar { .. } => (1, 1, 1),
            Kind::Alias(t) => {
                let t = *t as usize;
                if self.done[t] {
                    (
                        self.v2[t].saturating_add(1),
                        self.v3[t].saturating_add(1),
                        self.v3_merged[t].saturating_add(1),
                    )
                } else {
                    self.cycle.get_or_insert(id);
                    (1, 1, 1)
                }
            }
            Kind::Seq { items, .. } => {
                let (mut v2, mut v3) = (1u64, 1u64);
                for &item in items {
                    self.fill(s, item);
                    v2 = v2.saturating_add(self.v2[item as usize]);
                    v3 = v3.saturating_add(self.v3[item as usize]);
                }
                (v2, v3, v3)
            }
            Kind::Map { entries, .. } => {
                let (mut v2, mut v3, mut v3m, mut keys) = (1u64, 1u64, 1u64, 0u64);
                let mut last_merge = None;
                for &(k, v) in entries {
                    self.fill(s, k);
                    self.fill(s, v);
                    keys = keys.saturating_add(self.v3[k as usize]);
                    if is_merge_key(s, k) {
                        v2 = v2.saturating_add(self.merged(s, v, |z, n| z.v2[n]));
                        last_merge = Some(v);
                    } else {
                        let pair = self.v2[k as usize].saturating_add(self.v2[v as usize]);
                        v2 = v2.saturating_add(pair);
                        let pair = self.v3[k as usize].saturating_add(self.v3[v as usize]);
                        v3 = v3.saturating_add(pair);
                        v3m = v3m.saturating_add(self.v3[k as usize]);
                    }
                }
                if let Some(m) = last_merge {
                    let merged = self.merged(s, m, |z, n| z.v3_merged[n]);
                    v3 = v3.saturating_add(keys).saturating_add(merged);
                    v3m = v3m.saturating_add(merged);
                }
                (v2, v3, v3m)
            }
        };
        self.v2[i] = v2;
        self.v3[i] = v3;
        self.v3_merged[i] = v3m;
        self.done[i] = true;
    }

    /// Decodes of a `<<` value: a sequence's items, not the sequence itself.
    fn merged(&self, s: &Stream, v: NodeId, size: impl Fn(&Sizes, usize) -> u64) -> u64 {
        match &s.node(v).kind {
            Kind::Seq { items, .. } => items
                .iter()
                .fold(0u64, |acc, &i| acc.saturating_add(size(self, i as usize))),
            _ => size(self, v as usize),
        }
    }
}

/// One decoder's pass over a document: its counters, and where it would stop.
struct Walk<'a> {
    s: &'a Stream,
    z: &'a Sizes,
    decodes: u64,
    aliased: u64,
    tripped: Option<NodeId>,
}

impl Walk<'_> {
    /// One node decoded outside any alias.
    fn step(&mut self, at: NodeId) {
        self.decodes = self.decodes.saturating_add(1);
        if self.tripped.is_none() && excessive(self.aliased, self.decodes) {
            self.tripped = Some(at);
        }
    }

    /// An alias at `at` unfolding into `size` decodes.
    fn unfold(&mut self, at: NodeId, size: u64) {
        self.decodes = self.decodes.saturating_add(size);
        self.aliased = self.aliased.saturating_add(size);
        if self.tripped.is_none() && excessive(self.aliased, self.decodes) {
            self.tripped = Some(at);
        }
    }

    /// yaml.v2 decoding `id`: merges in place, every merged node decoded.
    fn v2(&mut self, id: NodeId) {
        if self.tripped.is_some() {
            return;
        }
        self.step(id);
        match &self.s.node(id).kind {
            Kind::Scalar { .. } => {}
            Kind::Alias(t) => self.unfold(id, self.z.v2[*t as usize]),
            Kind::Seq { items, .. } => items.iter().for_each(|&i| self.v2(i)),
            Kind::Map { entries, .. } => {
                for &(k, v) in entries {
                    if is_merge_key(self.s, k) {
                        match &self.s.node(v).kind {
                            Kind::Seq { items, .. } => items.iter().for_each(|&i| self.v2(i)),
                            _ => self.v2(v),
                        }
                    } else {
                        self.v2(k);
                        self.v2(v);
                    }
                }
            }
        }
    }

    /// yaml.v3 decoding `id` as a value.
    fn v3(&mut self, id: NodeId) {
        if self.tripped.is_some() {
            return;
        }
        self.step(id);
        match &self.s.node(id).kind {
            Kind::Scalar { .. } => {}
            Kind::Alias(t) => self.unfold(id, self.z.v3[*t as usize]),
            Kind::Seq { items, .. } => items.iter().for_each(|&i| self.v3(i)),
            Kind::Map { entries, .. } => {
                let mut merge = None;
                for &(k, v) in entries {
                    if is_merge_key(self.s, k) {
                        merge = Some(v);
                    } else {
                        self.v3(k);
                        self.v3(v);
                    }
                }
                if let Some(m) = merge {
                    entries.iter().for_each(|&(k, _)| self.v3(k));
                    self.v3_merge(m);
                }
            }
        }
    }

    /// yaml.v3 decoding a `<<` value.
    fn v3_merge(&mut self, v: NodeId) {
        let items: Vec<NodeId> = match &self.s.node(v).kind {
            Kind::Seq { items, .. } => items.clone(),
            _ => vec![v],
        };
        for m in items {
            if self.tripped.is_some() {
                return;
            }
            match &self.s.node(m).kind {
                Kind::Alias(t) => {
                    self.step(m);
                    self.unfold(m, self.z.v3_merged[*t as usize]);
                }
                Kind::Map { entries, .. } => {
                    self.step(m);
                    let mut merge = None;
                    for &(k, val) in entries {
                        if is_merge_key(self.s, k) {
                            merge = Some(val);
                        } else {
                            self.v3(k);
                        }
                    }
                    if let Some(inner) = merge {
                        self.v3_merge(inner);
                    }
                }
                // Refused as a merge of a non-mapping, reported on its own.
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Limits;

    fn check(text: &str, tool: Tool) -> Vec<String> {
        let s = Stream::parse(text, Limits::default());
        refusals(text, &s, tool)
            .into_iter()
            .map(|r| format!("{}:{} {}", r.line, r.column, r.message))
            .collect()
    }

    fn laughs(levels: usize) -> String {
        let mut t = String::from("x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..levels {
            let p = i - 1;
            t.push_str(&format!(
                "x-a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        t
    }

    #[test]
    fn the_ratio_follows_yaml_v3() {
        assert_eq!(allowed_ratio(1000), 0.99);
        assert_eq!(allowed_ratio(4_000_000), 0.10);
        assert!((allowed_ratio(2_200_000) - 0.545).abs() < 1e-9);
        assert!(!excessive(100, 100_000));
        assert!(!excessive(990, 1000));
        assert!(excessive(992, 1001));
    }

    #[test]
    fn billion_laughs_is_refused_at_the_alias_that_tips_it() {
        let t = laughs(9) + "services:\n  web:\n    image: nginx\n";
        let got = check(&t, Tool::Compose);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("4:27 Aliases unfold past what yaml.v3 allows: by `*a2`"),
            "{got:?}"
        );
        assert!(got[0].ends_with("Compose refuses the file (`document contains excessive aliasing`); its services are reported as unknown"), "{got:?}");
        let got = check(&t, Tool::Kubectl);
        assert!(got[0].contains("yaml.v2"), "{got:?}");
    }

    #[test]
    fn ordinary_reuse_is_allowed() {
        let mut t = String::from(
            "x-env: &env\n  A: 1\n  B: 2\nx-base: &base\n  restart: always\n  environment: *env\nservices:\n",
        );
        for i in 0..300 {
            t.push_str(&format!("  s{i}:\n    <<: *base\n    image: app:{i}\n"));
        }
        assert!(check(&t, Tool::Compose).is_empty());
        assert!(check(&t, Tool::Kubectl).is_empty());
        assert!(check(&laughs(3), Tool::Compose).is_empty());
    }

    #[test]
    fn an_alias_inside_its_anchor_is_refused() {
        let got = check("services:\n  a: &a\n    <<: *a\n", Tool::Compose);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("3:9 `*a` sits inside the node anchored `&a`"),
            "{got:?}"
        );
    }
}
