//! Values a patch adds, written the way the collection they join is written: YAML flow
//! (`{name: tmp, emptyDir: {}}`), or JSON, inline or spread over lines like a pretty-printed
//! file, with that file's key/value spacing.

/// A value a patch adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `true` or `false`.
    Bool(bool),
    /// A string (quoted when the syntax needs it).
    Str(String),
    /// A mapping, in the order its entries are written.
    Map(Vec<(String, Value)>),
    /// A sequence.
    Seq(Vec<Value>),
}

impl Value {
    /// A mapping from `(key, value)` pairs.
    pub fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

/// How keys and strings are written where the value goes.
#[derive(Debug, Clone, Copy)]
pub struct Syntax<'a> {
    /// The file is JSON: every key and string is double-quoted.
    pub json: bool,
    /// The neighbouring keys are double-quoted (always so in JSON).
    pub quote_keys: bool,
    /// The neighbouring strings are double-quoted (always so in JSON).
    pub quote_strings: bool,
    /// What separates a key from its value (`: `, or `:` in a tight JSON file).
    pub colon: &'a str,
    /// What separates entries on one line (`, `, or `,` in a tight JSON file).
    pub comma: &'a str,
}

/// Inline, or one entry per line (pretty-printed JSON).
#[derive(Debug, Clone, Copy)]
pub enum Layout<'a> {
    /// `{a: 1, b: [x]}` on the current line.
    Inline,
    /// Nested collections open a line per entry: `pad` is the indentation of the line the
    /// value starts on, `indent` the step per level.
    Lines {
        /// Leading whitespace of the first line.
        pad: &'a str,
        /// Spaces per nesting level.
        indent: usize,
        /// The file's line ending.
        eol: &'a str,
    },
}

/// `key: value` (or `"key": value`).
pub fn entry(key: &str, value: &Value, syn: Syntax<'_>, layout: Layout<'_>) -> String {
    let mut out = entry_key(key, syn);
    write(value, syn, layout, 0, &mut out);
    out
}

/// The value alone.
pub fn value(value: &Value, syn: Syntax<'_>, layout: Layout<'_>) -> String {
    let mut out = String::new();
    write(value, syn, layout, 0, &mut out);
    out
}

fn write(v: &Value, syn: Syntax<'_>, layout: Layout<'_>, depth: usize, out: &mut String) {
    match v {
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Str(s) if syn.json || syn.quote_strings || !plain_in_flow(s) => {
            out.push_str(&json_string(s))
        }
        Value::Str(s) => out.push_str(s),
        Value::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Value::Seq(items) if items.is_empty() => out.push_str("[]"),
        Value::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    let mut s = entry_key(k, syn);
                    write(v, syn, layout, depth + 1, &mut s);
                    s
                })
                .collect();
            collection(('{', '}'), &parts, syn, layout, depth, out);
        }
        Value::Seq(items) => {
            let parts = items
                .iter()
                .map(|v| {
                    let mut s = String::new();
                    write(v, syn, layout, depth + 1, &mut s);
                    s
                })
                .collect::<Vec<_>>();
            collection(('[', ']'), &parts, syn, layout, depth, out);
        }
    }
}

fn entry_key(key: &str, syn: Syntax<'_>) -> String {
    let mut s = if syn.quote_keys || syn.json {
        json_string(key)
    } else {
        key.to_string()
    };
    s.push_str(syn.colon);
    s
}

fn collection(
    (open, close): (char, char),
    parts: &[String],
    syn: Syntax<'_>,
    layout: Layout<'_>,
    depth: usize,
    out: &mut String,
) {
    out.push(open);
    match layout {
        Layout::Inline => out.push_str(&parts.join(syn.comma)),
        Layout::Lines { pad, indent, eol } => {
            let inner = format!("{eol}{pad}{}", " ".repeat(indent * (depth + 1)));
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&inner);
                out.push_str(p);
            }
            out.push_str(eol);
            out.push_str(pad);
            out.push_str(&" ".repeat(indent * depth));
        }
    }
    out.push(close);
}

/// A JSON string literal, which is also a valid YAML double-quoted scalar.
pub fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Whether `s` reads back as the same string when written plain inside a flow collection:
/// no flow indicators, no comment or mapping markers, and not a word YAML reads as
/// something else (`true`, `null`, a number).
fn plain_in_flow(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@` \t".contains(first) || s.ends_with([':', ' ', '\t']) {
        return false;
    }
    if s.contains([',', '[', ']', '{', '}', '\n', '\r', '\t']) || s.contains(": ") {
        return false;
    }
    if s.contains(" #") || looks_typed(s) {
        return false;
    }
    true
}

fn looks_typed(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    ) || s.parse::<f64>().is_ok()
        || s.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: Syntax<'static> = Syntax {
        json: false,
        quote_keys: false,
        quote_strings: false,
        colon: ": ",
        comma: ", ",
    };
    const JSON: Syntax<'static> = Syntax {
        json: true,
        quote_keys: true,
        quote_strings: true,
        colon: ":",
        comma: ", ",
    };

    fn mount() -> Value {
        Value::map([
            ("name", Value::str("tmp")),
            ("mountPath", Value::str("/tmp")),
        ])
    }

    #[test]
    fn yaml_flow_quotes_only_what_needs_it() {
        let v = Value::Seq(vec![
            Value::str("/tmp:uid=1000,gid=1000"),
            Value::str("/run"),
            Value::str("true"),
        ]);
        assert_eq!(
            value(&v, YAML, Layout::Inline),
            r#"["/tmp:uid=1000,gid=1000", /run, "true"]"#
        );
        assert_eq!(
            entry("m", &mount(), YAML, Layout::Inline),
            "m: {name: tmp, mountPath: /tmp}"
        );
    }

    #[test]
    fn json_inline_and_pretty() {
        let v = Value::map([("emptyDir", Value::Map(vec![])), ("x", Value::Bool(true))]);
        assert_eq!(
            entry("v", &v, JSON, Layout::Inline),
            r#""v":{"emptyDir":{}, "x":true}"#
        );
        let lines = Layout::Lines {
            pad: "  ",
            indent: 2,
            eol: "\n",
        };
        let v = Value::Seq(vec![mount()]);
        assert_eq!(
            entry("volumeMounts", &v, JSON, lines),
            "\"volumeMounts\":[\n    {\n      \"name\":\"tmp\",\n      \"mountPath\":\"/tmp\"\n    }\n  ]"
        );
    }
}
