//! What each fix changes: the read-only switch, the scratch mounts, tmpfs ownership.

use super::edit::{Edit, Editor};
use super::render::Value;
use crate::inventory::{Switch, Target, Tmpfs, UnitFacts};
use crate::knowledge;
use crate::model::Fix;
use crate::yaml::{NodeId, Stream, Style};

/// Plans patches for the units of one file.
pub struct Planner<'a> {
    /// Edits against the file's text.
    pub ed: Editor<'a>,
}

impl<'a> Planner<'a> {
    fn s(&self) -> &'a Stream {
        self.ed.s
    }

    /// Sets the switch and adds the scratch mounts the image needs.
    pub fn make_read_only(&self, u: &UnitFacts, missing: &[String]) -> Option<Fix> {
        let what = match u.target {
            Target::Kubernetes => "Set `readOnlyRootFilesystem: true`",
            Target::Compose { .. } => "Set `read_only: true`",
        };
        let mut description = what.to_string();
        if !missing.is_empty() {
            description.push_str(&mount_description(u, missing));
        }
        if let Some(edit) = self.flow_service_body(u, missing) {
            return self.ed.fix(description, vec![edit]);
        }
        let mut edits = match u.target {
            Target::Kubernetes => self.k8s_switch(u)?,
            Target::Compose { .. } => self.compose_switch(u)?,
        };
        if !missing.is_empty() {
            edits.extend(self.mount_edits(u, missing)?);
        }
        self.ed.fix(description, edits)
    }

    /// A Compose service with an empty body inside a flow mapping (`{web: }`, `"web": null`)
    /// gets its whole body at once: the switch and the mounts replace the same empty value.
    fn flow_service_body(&self, u: &UnitFacts, missing: &[String]) -> Option<Edit> {
        let Target::Compose { legacy_stack, .. } = u.target else {
            return None;
        };
        if u.map.is_some() {
            return None;
        }
        let (parent, value) = self.ed.flow_parent(u.anchor)?;
        let mut body = vec![("read_only".to_string(), Value::Bool(true))];
        if !missing.is_empty() {
            body.push(if legacy_stack {
                ("volumes".into(), Value::Seq(tmpfs_volumes(missing)))
            } else {
                ("tmpfs".into(), Value::Seq(tmpfs_entries(u, missing)))
            });
        }
        Some(self.ed.replace_value(value, parent, &Value::Map(body)))
    }

    /// Adds scratch mounts to a unit that is already read-only.
    pub fn add_mounts(&self, u: &UnitFacts, missing: &[String]) -> Option<Fix> {
        let edits = self.mount_edits(u, missing)?;
        let d = mount_description(u, missing);
        self.ed
            .fix(d.trim_start_matches(" and ").to_string(), edits)
    }

    /// A string `"true"` in Kubernetes becomes the boolean it was meant to be.
    pub fn fix_unknown(&self, u: &UnitFacts) -> Option<Fix> {
        let node = u.switch_node?;
        if u.target != Target::Kubernetes || self.s().style(node) != Some(Style::Quoted) {
            return None;
        }
        let edit = self.ed.replace(node, "true");
        self.ed.fix(
            "Write `readOnlyRootFilesystem` as the boolean `true`".into(),
            vec![edit],
        )
    }

    /// Moves service-level `tmpfs` of a legacy stack file to long-syntax tmpfs volumes.
    pub fn tmpfs_to_volumes(&self, u: &UnitFacts) -> Option<Fix> {
        let s = self.s();
        let map = u.map?;
        let (key, value) = s.own(map, "tmpfs")?;
        let paths: Vec<String> = u.tmpfs.iter().map(|t| t.path.clone()).collect();
        if paths.is_empty() || s.node(map).start.line == s.node(key).start.line {
            return None;
        }
        let mut edits = vec![self.ed.delete_entry(key, value)];
        edits.push(self.compose_volume_edit(u, &paths)?);
        self.ed.fix(
            "Replace service-level `tmpfs` with long-syntax `type: tmpfs` volumes".into(),
            edits,
        )
    }

    /// Deletes a one-line block mapping entry.
    pub fn remove_line(&self, key: NodeId, value: NodeId, description: &str) -> Option<Fix> {
        let s = self.s();
        if s.node(key).start.line != self.ed.last_line(value) || s.scalar(value).is_none() {
            return None;
        }
        self.ed.fix(
            description.to_string(),
            vec![self.ed.delete_entry(key, value)],
        )
    }

    /// Gives a tmpfs to the service's user.
    pub fn tmpfs_owner(&self, t: &Tmpfs, user: &str) -> Option<Fix> {
        let raw = self.ed.raw(t.node);
        let quote = raw.chars().next().filter(|c| *c == '"' || *c == '\'');
        let option = owner_option(user);
        let value = if t.options.is_empty() {
            format!("{}:{option}", t.path)
        } else {
            format!("{}:{},{option}", t.path, t.options)
        };
        let text = match quote {
            Some(q) => format!("{q}{value}{q}"),
            // In `[…]` or `{…}` a comma ends a plain scalar.
            None if self.ed.in_flow(t.node) => {
                let around = self.ed.enclosing(t.node);
                self.ed.render(around, &Value::Str(value))
            }
            None => value,
        };
        let edit = self.ed.replace(t.node, &text);
        self.ed.fix(
            format!("Give tmpfs `{}` to the service's user (`{option}`)", t.path),
            vec![edit],
        )
    }

    fn compose_switch(&self, u: &UnitFacts) -> Option<Vec<Edit>> {
        let s = self.s();
        if let Some(node) = u.switch_node {
            return Some(vec![self.ed.replace(node, "true")]);
        }
        match u.map {
            None => Some(self.ed.add_under_key(u.anchor, &["read_only: true".into()])),
            Some(map) if is_own_block(s, map, u.anchor) => Some(vec![self.ed.add_to_map(
                map,
                &["read_only: true".into()],
                "read_only",
                &Value::Bool(true),
            )?]),
            // The service's body is an alias of another node: editing it would change others.
            Some(_) => None,
        }
    }

    fn k8s_switch(&self, u: &UnitFacts) -> Option<Vec<Edit>> {
        let s = self.s();
        let map = u.map?;
        if let Some(node) = u.switch_node {
            if u.switch == Switch::Off || s.style(node) == Some(Style::Quoted) || s.is_null(node) {
                return Some(vec![self.ed.replace(node, "true")]);
            }
            return None;
        }
        if let Some(sc) = u.security_context {
            return Some(vec![self.ed.add_to_map(
                sc,
                &["readOnlyRootFilesystem: true".into()],
                "readOnlyRootFilesystem",
                &Value::Bool(true),
            )?]);
        }
        let context = Value::map([("readOnlyRootFilesystem", Value::Bool(true))]);
        if let Some((key, value)) = s.own(map, "securityContext")
            && s.is_null(value)
        {
            if self.ed.is_flow(map) {
                return Some(vec![self.ed.replace_value(value, Some(map), &context)]);
            }
            return Some(
                self.ed
                    .add_under_key(key, &["readOnlyRootFilesystem: true".into()]),
            );
        }
        let indent = " ".repeat(self.ed.style.indent);
        Some(vec![self.ed.add_to_map(
            map,
            &[
                "securityContext:".into(),
                format!("{indent}readOnlyRootFilesystem: true"),
            ],
            "securityContext",
            &context,
        )?])
    }

    fn mount_edits(&self, u: &UnitFacts, missing: &[String]) -> Option<Vec<Edit>> {
        match &u.target {
            Target::Kubernetes => self.k8s_mounts(u, missing),
            Target::Compose {
                legacy_stack: true, ..
            } => Some(vec![self.compose_volume_edit(u, missing)?]),
            Target::Compose { .. } => self.compose_tmpfs_edit(u, missing),
        }
    }

    fn compose_tmpfs_edit(&self, u: &UnitFacts, missing: &[String]) -> Option<Vec<Edit>> {
        let s = self.s();
        let entries = tmpfs_entries(u, missing);
        let lines_of = |entries: &[Value]| -> Vec<Vec<String>> {
            entries
                .iter()
                .filter_map(|e| match e {
                    Value::Str(t) => Some(vec![t.clone()]),
                    _ => None,
                })
                .collect()
        };
        let map = match u.map {
            Some(m) => m,
            None => {
                let lines = self.ed.new_seq_key("tmpfs", &lines_of(&entries));
                return Some(self.ed.add_under_key(u.anchor, &lines));
            }
        };
        if let Some((_, t)) = s.own(map, "tmpfs") {
            if s.is_seq(t) && s.resolve(t) == t {
                return Some(vec![self.ed.add_to_seq(
                    t,
                    &lines_of(&entries),
                    &entries,
                )?]);
            }
            if s.scalar(t).is_some() {
                let mut all = vec![self.ed.raw(t).to_string()];
                all.extend(entries.iter().map(|e| self.ed.render(Some(map), e)));
                return Some(vec![self.ed.replace(t, &format!("[{}]", all.join(", ")))]);
            }
            return None;
        }
        let lines = self.ed.new_seq_key("tmpfs", &lines_of(&entries));
        let edit = self
            .ed
            .add_to_map(map, &lines, "tmpfs", &Value::Seq(entries))?;
        Some(vec![edit])
    }

    fn compose_volume_edit(&self, u: &UnitFacts, paths: &[String]) -> Option<Edit> {
        let s = self.s();
        let map = u.map?;
        let items: Vec<Vec<String>> = paths
            .iter()
            .map(|p| vec!["type: tmpfs".to_string(), format!("target: {p}")])
            .collect();
        let values = tmpfs_volumes(paths);
        if let Some((_, v)) = s.own(map, "volumes") {
            if !s.is_seq(v) || s.resolve(v) != v {
                return None;
            }
            return self.ed.add_to_seq(v, &items, &values);
        }
        let lines = self.ed.new_seq_key("volumes", &items);
        self.ed
            .add_to_map(map, &lines, "volumes", &Value::Seq(values))
    }

    fn k8s_mounts(&self, u: &UnitFacts, missing: &[String]) -> Option<Vec<Edit>> {
        let s = self.s();
        let map = u.map?;
        let spec = u.pod_spec?;
        let existing_volumes = s.own(spec, "volumes").map(|(_, v)| v);
        let names_in_pod: Vec<String> = existing_volumes
            .map(|v| {
                s.items(v)
                    .iter()
                    .filter_map(|&i| s.get(i, "name").and_then(|(_, n)| s.scalar(n)))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut new_volumes: Vec<String> = Vec::new();
        let mut mounts: Vec<(String, String)> = Vec::new();
        for p in missing {
            let base = volume_name(p);
            let reusable = existing_volumes.and_then(|v| {
                s.items(v).iter().copied().find(|&i| {
                    s.get(i, "name").and_then(|(_, n)| s.scalar(n)) == Some(base.as_str())
                        && s.get(i, "emptyDir").is_some()
                })
            });
            let name = if reusable.is_some() {
                base
            } else {
                let mut name = base.clone();
                let mut n = 2;
                while names_in_pod.contains(&name) || new_volumes.contains(&name) {
                    name = format!("{base}-{n}");
                    n += 1;
                }
                new_volumes.push(name.clone());
                name
            };
            mounts.push((name, p.clone()));
        }
        let mut edits = Vec::new();
        let mount_items: Vec<Vec<String>> = mounts
            .iter()
            .map(|(n, p)| vec![format!("name: {n}"), format!("mountPath: {p}")])
            .collect();
        edits.extend(self.append_items(map, "volumeMounts", &mount_items, |i| {
            let (n, p) = &mounts[i];
            Value::map([("name", Value::str(n)), ("mountPath", Value::str(p))])
        })?);
        if !new_volumes.is_empty() {
            let vol_items: Vec<Vec<String>> = new_volumes
                .iter()
                .map(|n| vec![format!("name: {n}"), "emptyDir: {}".to_string()])
                .collect();
            edits.extend(self.append_items(spec, "volumes", &vol_items, |i| {
                Value::map([
                    ("name", Value::str(&new_volumes[i])),
                    ("emptyDir", Value::Map(Vec::new())),
                ])
            })?);
        }
        Some(edits)
    }

    /// Appends items to `map[key]`, creating the key when absent.
    pub(crate) fn append_items(
        &self,
        map: NodeId,
        key: &str,
        items: &[Vec<String>],
        flow: impl Fn(usize) -> Value,
    ) -> Option<Vec<Edit>> {
        let s = self.s();
        let values: Vec<Value> = (0..items.len()).map(&flow).collect();
        match s.own(map, key) {
            Some((_, seq)) if s.is_seq(seq) && s.resolve(seq) == seq => {
                Some(vec![self.ed.add_to_seq(seq, items, &values)?])
            }
            Some((_, v)) if s.is_null(v) && self.ed.is_flow(map) => {
                Some(vec![self.ed.replace_value(
                    v,
                    Some(map),
                    &Value::Seq(values),
                )])
            }
            Some((k, v)) if s.is_null(v) => {
                let mut lines = Vec::new();
                let off = " ".repeat(self.ed.style.seq_offset);
                for item in items {
                    for (i, l) in item.iter().enumerate() {
                        let lead = if i == 0 { "- " } else { "  " };
                        lines.push(format!("{off}{lead}{l}"));
                    }
                }
                // `add_under_key` indents by one level; the sequence offset replaces it.
                let kn = s.node(k);
                let pad = " ".repeat(kn.start.col);
                let lines: Vec<String> = lines.iter().map(|l| format!("{pad}{l}")).collect();
                let mut edits: Vec<Edit> = self.ed.drop_null(k).into_iter().collect();
                edits.push(self.ed.lines_after(kn.start.line, &lines));
                Some(edits)
            }
            Some(_) => None,
            None => {
                let lines = self.ed.new_seq_key(key, items);
                Some(vec![self.ed.add_to_map(
                    map,
                    &lines,
                    key,
                    &Value::Seq(values),
                )?])
            }
        }
    }
}

fn is_own_block(s: &Stream, map: NodeId, anchor: NodeId) -> bool {
    // A service body written under its key starts on a later line than the key; an alias
    // (`web: *base`) resolves to a node elsewhere, before the key.
    s.node(map).start.byte > s.node(anchor).start.byte
}

/// Short-syntax tmpfs entries for `missing`, owned by the service's user when it is known.
fn tmpfs_entries(u: &UnitFacts, missing: &[String]) -> Vec<Value> {
    let uid = tmpfs_uid(u);
    missing
        .iter()
        .map(|p| match &uid {
            Some(o) => Value::Str(format!("{p}:{o}")),
            None => Value::str(p),
        })
        .collect()
}

/// Long-syntax `type: tmpfs` volumes for `paths`.
fn tmpfs_volumes(paths: &[String]) -> Vec<Value> {
    paths
        .iter()
        .map(|p| Value::map([("type", Value::str("tmpfs")), ("target", Value::str(p))]))
        .collect()
}

/// The name a scratch volume for `path` gets (`/var/cache/nginx` → `cache-nginx`).
pub fn volume_name(path: &str) -> String {
    let name: String = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty() && *p != "var")
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() {
        "scratch".into()
    } else {
        name.chars().take(63).collect()
    }
}

/// `uid=` for tmpfs entries the patch adds: the service's numeric user, else the image's.
fn tmpfs_uid(u: &UnitFacts) -> Option<String> {
    if let Some(user) = u.user.as_deref() {
        let uid = user.split(':').next().unwrap_or("");
        if !uid.is_empty() && uid.bytes().all(|b| b.is_ascii_digit()) && uid != "0" {
            return Some(owner_option(user));
        }
        if crate::inventory::compose::is_root_user(user) {
            return None;
        }
        return Some("mode=1777".into());
    }
    let entry = knowledge::lookup(u.unit.image.as_deref()?)?;
    entry
        .user
        .filter(|&id| id != 0)
        .map(|id| format!("uid={id}"))
}

fn owner_option(user: &str) -> String {
    let mut parts = user.split(':');
    let uid = parts.next().unwrap_or("");
    let gid = parts.next();
    if !uid.is_empty() && uid.bytes().all(|b| b.is_ascii_digit()) {
        match gid.filter(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit())) {
            Some(g) => format!("uid={uid},gid={g}"),
            None => format!("uid={uid}"),
        }
    } else {
        // A user name's uid is only known inside the image: make the mount world-writable
        // with the sticky bit, as /tmp is.
        "mode=1777".into()
    }
}

fn mount_description(u: &UnitFacts, missing: &[String]) -> String {
    let kind = match u.target {
        Target::Kubernetes => "`emptyDir` volumes",
        Target::Compose {
            legacy_stack: true, ..
        } => "`type: tmpfs` volumes",
        Target::Compose { .. } => "`tmpfs` mounts",
    };
    let list = missing
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(" and add {kind} for {list}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names() {
        assert_eq!(volume_name("/var/cache/nginx"), "cache-nginx");
        assert_eq!(volume_name("/tmp"), "tmp");
        assert_eq!(volume_name("/var/run"), "run");
        assert_eq!(volume_name("/"), "scratch");
    }

    #[test]
    fn owners() {
        assert_eq!(owner_option("33"), "uid=33");
        assert_eq!(owner_option("1000:1000"), "uid=1000,gid=1000");
        assert_eq!(owner_option("www-data"), "mode=1777");
    }
}
