//! Go and Helm templates: when a file is a template rather than YAML, and which values of a
//! YAML file are filled in by a template before it deploys.
//!
//! `{{ … }}` inside a string is just text (Grafana's `{{ pod }}`, Prometheus' `{{ $labels.x }}`,
//! Argo's `{{inputs.parameters.x}}`, names that `sed` fills in): the file is YAML and is
//! checked. It is a template only when markers sit where YAML structure is, or when the file
//! does not parse and markers explain why.

use crate::inventory::{Switch, UnitFacts};
use crate::yaml::{Kind, NodeId, Stream};

/// Markers that only Helm (or another Go-template renderer) would put in a manifest. Swarm
/// stack files legitimately hold Go templates such as `{{.Node.ID}}` inside values.
const MARKERS: &[&str] = &[
    ".Values",
    ".Release",
    ".Chart",
    ".Capabilities",
    "{{-",
    "-}}",
    "{{/*",
    "include \"",
    "toYaml",
    "{{ if",
    "{{ end",
    "{{ range",
    "{{ define",
    "{{ template",
];

/// The first line that makes the file a template rather than YAML, given its parse.
pub fn line(text: &str, stream: &Stream) -> Option<usize> {
    if !text.contains("{{") {
        return None;
    }
    if stream.error.is_some() {
        return unparsed_line(text);
    }
    structural_line(text, stream)
}

/// In a file that parsed: the first `{{` outside every scalar and comment.
fn structural_line(text: &str, stream: &Stream) -> Option<usize> {
    let spans = scalar_spans(stream);
    let inside = |at: usize| {
        let i = spans.partition_point(|&(start, _)| start <= at);
        i > 0 && at < spans[i - 1].1
    };
    let mut line_start = 0;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        for (pos, _) in line.match_indices("{{") {
            let at = line_start + pos;
            if !inside(at) && !after_comment(&line[..pos], line_start, &inside) {
                return Some(line_no + 1);
            }
        }
        line_start += line.len();
    }
    None
}

/// Byte ranges of every scalar, in text order (the arena is built in text order).
fn scalar_spans(stream: &Stream) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = stream
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, Kind::Scalar { .. }))
        .map(|n| (n.start.byte, n.end.byte))
        .collect();
    spans.sort_unstable();
    spans
}

/// Whether a `#` that is not part of a scalar starts a comment before this point.
fn after_comment(before: &str, line_start: usize, inside: &dyn Fn(usize) -> bool) -> bool {
    before.match_indices('#').any(|(i, _)| {
        let starts_comment = i == 0 || before.as_bytes()[i - 1].is_ascii_whitespace();
        starts_comment && !inside(line_start + i)
    })
}

/// In a file that did not parse: a Helm marker, or `{{` where YAML expects a value (it
/// would otherwise read as a flow mapping).
fn unparsed_line(text: &str) -> Option<usize> {
    for (i, line) in text.lines().enumerate() {
        let Some(pos) = line.find("{{") else { continue };
        let before = &line[..pos];
        if before.trim_start().starts_with('#') {
            continue;
        }
        if MARKERS.iter().any(|m| line.contains(m)) {
            return Some(i + 1);
        }
        let prev = before.trim_end().chars().last();
        let unquoted =
            before.matches('\'').count() % 2 == 0 && before.matches('"').count() % 2 == 0;
        if unquoted && matches!(prev, None | Some(':') | Some('-') | Some('[') | Some(',')) {
            return Some(i + 1);
        }
    }
    None
}

/// Marks a unit as undecided when a value that decides it (its read-only flag, its image, its
/// name) is filled in by a template before it deploys. A literal `true` flag still decides.
pub fn mark_unit(stream: &Stream, u: &mut UnitFacts) {
    let flag = u.switch_node.and_then(|n| templated(stream, n));
    let reason = if let Some(value) = flag {
        format!("the read-only flag `{value}` is filled in by a template before it deploys")
    } else if matches!(u.switch, Switch::On | Switch::Unknown(_)) {
        return;
    } else if let Some(image) = u.unit.image.as_deref().filter(|i| i.contains("{{")) {
        format!(
            "the image `{image}` is filled in by a template before it deploys, so the paths it must write to are not known"
        )
    } else if let Some(name) = [
        Some(object_name(&u.unit.workload)),
        u.unit.container.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find(|n| n.contains("{{"))
    {
        format!("the name `{name}` is filled in by a template before it deploys")
    } else {
        return;
    };
    u.switch = Switch::Unknown(reason);
}

/// `name` of a Kubernetes `Kind/name`; a Compose service name as it is.
fn object_name(workload: &str) -> &str {
    workload.split_once('/').map_or(workload, |(_, name)| name)
}

fn templated(stream: &Stream, node: NodeId) -> Option<&str> {
    stream.scalar(node).filter(|v| v.contains("{{"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Limits;

    fn at(text: &str) -> Option<usize> {
        line(text, &Stream::parse(text, Limits::default()))
    }

    #[test]
    fn markers_in_strings_are_text() {
        assert_eq!(at("a:\n  legendFormat: \"{{ pod }}\"\n"), None);
        assert_eq!(at("name: vttablet-{{uid}}\n"), None);
        assert_eq!(at("summary: Instance {{ $labels.instance }} down\n"), None);
        assert_eq!(at("x: |\n  {{ .Values.x }}\n"), None);
        assert_eq!(at("# {{ .Values.x }}\na: 1\n"), None);
        assert_eq!(at("a: 1 # {{ x }}\n"), None);
        assert_eq!(
            at("a: \"multi\n  line {{ .x }}\n  text\"\nb: 2\n"),
            None,
            "a quoted scalar over several lines"
        );
    }

    #[test]
    fn markers_in_structure_are_templates() {
        assert_eq!(at("a: 1\nb: {{ .Values.b | toYaml }}\n"), Some(2));
        assert_eq!(at("a: 1\n{{- if .Values.x }}\nb: 2\n{{- end }}\n"), Some(2));
        assert_eq!(at("a:\n  - {{ .Values.x }}\n"), Some(2));
    }
}
