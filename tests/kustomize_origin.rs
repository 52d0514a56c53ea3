//! Origins of rendered Kustomize objects, over every kustomization of the real setups in
//! `../shared/kustomize`, and the read-only overlay patch applied to the writable ones.
//!
//! Each folder is rendered twice with the real `kubectl kustomize`: plainly, and through the
//! wrapper kustomization that asks for build metadata. Stripping the annotations must give
//! the plain render byte for byte, and every workload must point at a real resource file.

#[path = "support/tools.rs"]
mod tools;

use immutabot::yaml::{Limits, NodeId, Stream};
use immutabot_core::patch::apply_all;
use immutabot_core::render::kustomize::{
    self, OverlayContainer, OverlayTarget, RenderedObject, list_patch, objects, overlay_patch,
    pod_spec_path, remote_references, strip_annotations,
};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

const SCRATCH_VOLUME: &str = "immutabot-tmp";
const SCRATCH_MOUNT: &str = "/tmp";
const PATCH_FILE: &str = "immutabot-readonly.yaml";

fn kustomizations(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            kustomizations(&p, out);
        } else if p.file_name().is_some_and(|n| n == "kustomization.yaml") {
            out.push(dir.to_path_buf());
        }
    }
}

/// `to` relative to `from`, both absolute and canonical: kustomize refuses absolute paths.
fn relative(from: &Path, to: &Path) -> String {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".into(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// `kubectl kustomize dir` with nothing from our environment: stdout, or the error.
fn kustomize(dir: &Path, home: &Path) -> Result<String, String> {
    let out = Command::new(tools::kubectl())
        .arg("kustomize")
        .arg(dir)
        .env_clear()
        .env("HOME", home)
        .output()
        .expect("run kubectl");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8(out.stdout).expect("utf-8 render"))
}

fn parse(text: &str) -> Stream {
    Stream::parse(text, Limits::default())
}

fn docs(s: &Stream) -> Vec<NodeId> {
    s.docs
        .iter()
        .flatten()
        .map(|&r| s.resolve(r))
        .filter(|&r| s.is_map(r))
        .collect()
}

/// Containers of a rendered workload: (name, init, readOnlyRootFilesystem is true, mounts
/// as (name, path)).
type ContainerFacts = (String, bool, bool, Vec<(String, String)>);

fn containers(s: &Stream, root: NodeId) -> Vec<ContainerFacts> {
    let kind = s.get_str(root, "kind").unwrap_or("");
    let Some(spec) = pod_spec_path(kind).and_then(|p| s.path(root, p)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (list, init) in [("initContainers", true), ("containers", false)] {
        let Some((_, seq)) = s.get(spec, list) else {
            continue;
        };
        for &c in s.items(seq) {
            let name = s.get_str(c, "name").unwrap_or("").to_string();
            let ro = s
                .path(c, &["securityContext", "readOnlyRootFilesystem"])
                .and_then(|n| s.scalar(n))
                == Some("true");
            let mounts = s
                .get(c, "volumeMounts")
                .map(|(_, m)| {
                    s.items(m)
                        .iter()
                        .map(|&m| {
                            (
                                s.get_str(m, "name").unwrap_or("").to_string(),
                                s.get_str(m, "mountPath").unwrap_or("").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push((name, init, ro, mounts));
        }
    }
    out
}

/// The name the overlay's patches can match: the one written in the resource file.
fn name_in_file(file: &Path, kind: &str) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let s = parse(&text);
    let names: Vec<String> = docs(&s)
        .into_iter()
        .filter(|&d| s.get_str(d, "kind") == Some(kind))
        .filter_map(|d| {
            s.path(d, &["metadata", "name"])
                .and_then(|n| s.scalar(n))
                .map(str::to_string)
        })
        .collect();
    assert_eq!(names.len(), 1, "one {kind} in {}", file.display());
    names[0].clone()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Lines of `after` not matched, in order, against `before` (which must be a subsequence):
/// what the patch added. Panics on a removed or changed line.
fn added_lines<'a>(before: &str, after: &'a str) -> Vec<&'a str> {
    let before: Vec<&str> = before.lines().collect();
    let mut i = 0;
    let mut added = Vec::new();
    for line in after.lines() {
        if i < before.len() && before[i] == line {
            i += 1;
        } else {
            added.push(line);
        }
    }
    assert_eq!(
        i,
        before.len(),
        "a line of the render disappeared: {:?}",
        before.get(i)
    );
    added
}

struct Rendered {
    folder: String,
    setup: PathBuf,
    dir: PathBuf,
    plain: String,
    objects: Vec<RenderedObject>,
    wrapper_dir: PathBuf,
}

#[test]
fn origins_of_every_shared_kustomization_and_read_only_overlays() {
    let root = tools::shared("kustomize").canonicalize().unwrap();
    let mut dirs = Vec::new();
    kustomizations(&root, &mut dirs);
    assert!(dirs.len() >= 5, "kustomizations under {}", root.display());
    let tmp = tempfile::tempdir().unwrap();
    let tmp_root = tmp.path().canonicalize().unwrap();
    let home = tmp_root.join("home");
    std::fs::create_dir_all(&home).unwrap();

    let mut rendered = Vec::new();
    let mut setups = std::collections::BTreeSet::new();
    println!(
        "{:<62} {:>7} {:>7} {:>11} {:>9} {:>15}",
        "folder", "objects", "origin", "generated", "pod spec", "transformations"
    );
    for (n, dir) in dirs.iter().enumerate() {
        let folder = relative(&root, dir);
        let setup = root.join(folder.split('/').next().unwrap());
        setups.insert(setup.clone());
        let k = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
        assert!(remote_references(&k).is_empty(), "{folder} is offline");
        let plain = kustomize(dir, &home).unwrap_or_else(|e| panic!("{folder}: {e}"));

        let wrapper_dir = tmp_root.join(format!("w{n}"));
        std::fs::create_dir_all(&wrapper_dir).unwrap();
        let rel = relative(&wrapper_dir, dir);
        let wrapper = if kustomize::is_component(&k) {
            kustomize::wrapper_component(&rel)
        } else {
            kustomize::wrapper(&rel)
        };
        std::fs::write(wrapper_dir.join("kustomization.yaml"), wrapper).unwrap();
        let wrapped = kustomize(&wrapper_dir, &home).unwrap_or_else(|e| panic!("{folder}: {e}"));
        assert!(
            plain.is_empty() || wrapped.contains(kustomize::ORIGIN_ANNOTATION),
            "{folder}: no origin annotations"
        );
        let stripped = strip_annotations(&wrapped);
        assert!(
            stripped == plain,
            "{folder}: stripped render differs from the plain one (first differing line {:?})",
            stripped
                .lines()
                .zip(plain.lines())
                .position(|(a, b)| a != b)
        );

        let objs = objects(&wrapped);
        assert_eq!(objs.len(), objects(&plain).len(), "{folder}");
        for o in &objs {
            let Some(origin) = &o.origin else {
                assert!(
                    !o.has_pod_spec,
                    "{folder}: {}/{} has no origin",
                    o.kind, o.name
                );
                continue;
            };
            if !o.has_pod_spec {
                continue;
            }
            assert_eq!(origin.repo, None, "{folder}: {}/{}", o.kind, o.name);
            let path = origin
                .path
                .as_ref()
                .unwrap_or_else(|| panic!("{folder}: {}/{} has no path", o.kind, o.name));
            let file = wrapper_dir
                .join(path)
                .canonicalize()
                .unwrap_or_else(|e| panic!("{folder}: {path}: {e}"));
            assert!(
                file.is_file() && file.starts_with(&root),
                "{folder}: {}",
                file.display()
            );
        }
        println!(
            "{:<62} {:>7} {:>7} {:>11} {:>9} {:>15}",
            folder,
            objs.len(),
            objs.iter().filter(|o| o.origin.is_some()).count(),
            objs.iter()
                .filter(|o| o.origin.as_ref().is_some_and(|g| g.path.is_none()))
                .count(),
            objs.iter().filter(|o| o.has_pod_spec).count(),
            objs.iter()
                .filter(|o| !o.transformations.is_empty())
                .count(),
        );
        rendered.push(Rendered {
            folder,
            setup,
            dir: dir.clone(),
            plain,
            objects: objs,
            wrapper_dir,
        });
    }
    assert_eq!(setups.len(), 5, "the five shared setups");
    let workloads: usize = rendered
        .iter()
        .map(|r| r.objects.iter().filter(|o| o.has_pod_spec).count())
        .sum();
    assert!(workloads > 10, "workloads with origins: {workloads}");

    println!();
    println!(
        "{:<62} {:>9} {:>8} {:>11} {:>11}",
        "read-only overlay", "workloads", "writable", "now ro", "added lines"
    );
    let mut patched = Vec::new();
    for r in &rendered {
        let s = parse(&r.plain);
        let mut targets = Vec::new();
        for (o, d) in r.objects.iter().zip(docs(&s)) {
            let writable: Vec<OverlayContainer> = containers(&s, d)
                .into_iter()
                .filter(|c| !c.2)
                .map(|(name, init, _, _)| OverlayContainer {
                    name,
                    init,
                    scratch: vec![(SCRATCH_VOLUME.into(), SCRATCH_MOUNT.into())],
                })
                .collect();
            if writable.is_empty() {
                continue;
            }
            let origin = o.origin.as_ref().and_then(|g| g.path.as_ref()).unwrap();
            let file = r.wrapper_dir.join(origin).canonicalize().unwrap();
            let file_ns = {
                let text = std::fs::read_to_string(&file).unwrap();
                let fs = parse(&text);
                docs(&fs)
                    .into_iter()
                    .find(|&d| fs.get_str(d, "kind") == Some(o.kind.as_str()))
                    .and_then(|d| fs.path(d, &["metadata", "namespace"]))
                    .and_then(|n| fs.scalar(n).map(str::to_string))
            };
            targets.push(OverlayTarget {
                api_version: o.api_version.clone(),
                kind: o.kind.clone(),
                name: name_in_file(&file, &o.kind),
                namespace: file_ns,
                containers: writable,
            });
        }
        if targets.is_empty() {
            continue;
        }
        // A copy of the whole setup: overlays reach into sibling folders.
        let copy = tmp_root.join(format!("copy-{}", r.folder.replace('/', "_")));
        copy_tree(&r.setup, &copy);
        let dir = copy.join(r.dir.strip_prefix(&r.setup).unwrap());
        std::fs::write(dir.join(PATCH_FILE), overlay_patch(&targets)).unwrap();
        let kpath = dir.join("kustomization.yaml");
        let k = std::fs::read_to_string(&kpath).unwrap();
        let fix = list_patch(&k, PATCH_FILE).expect("a fix listing the patch");
        let (new_k, applied) = apply_all(&k, [&fix]);
        assert_eq!(applied, 1);
        assert_eq!(
            added_lines(&k, &new_k).len(),
            new_k.lines().count() - k.lines().count()
        );
        std::fs::write(&kpath, &new_k).unwrap();
        let after = kustomize(&dir, &home).unwrap_or_else(|e| panic!("{}: {e}", r.folder));

        let a = parse(&after);
        let mut now_ro = 0;
        let want: usize = targets.iter().map(|t| t.containers.len()).sum();
        for (o, d) in objects(&after).iter().zip(docs(&a)) {
            let cs = containers(&a, d);
            if cs.is_empty() {
                continue;
            }
            let volumes: Vec<String> = pod_spec_path(&o.kind)
                .and_then(|p| a.path(d, p))
                .and_then(|spec| a.get(spec, "volumes"))
                .map(|(_, v)| {
                    a.items(v)
                        .iter()
                        .filter(|&&v| a.get(v, "emptyDir").is_some())
                        .filter_map(|&v| a.get_str(v, "name").map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for (name, _, ro, mounts) in cs {
                assert!(
                    ro,
                    "{}: {}/{} container {name} read-only",
                    r.folder, o.kind, o.name
                );
                if mounts.contains(&(SCRATCH_VOLUME.into(), SCRATCH_MOUNT.into())) {
                    assert!(volumes.iter().any(|v| v == SCRATCH_VOLUME), "{}", r.folder);
                    now_ro += 1;
                }
            }
        }
        assert_eq!(
            now_ro, want,
            "{}: every writable container patched",
            r.folder
        );
        let allowed = [
            "securityContext:",
            "readOnlyRootFilesystem: true",
            "volumeMounts:",
            "volumes:",
            "- mountPath: /tmp",
            "name: immutabot-tmp",
            "- emptyDir: {}",
        ];
        let added = added_lines(&r.plain, &after);
        for line in &added {
            assert!(
                allowed.contains(&line.trim()),
                "{}: unexpected added line {line:?}",
                r.folder
            );
        }
        println!(
            "{:<62} {:>9} {:>8} {:>11} {:>11}",
            r.folder,
            targets.len(),
            want,
            now_ro,
            added.len()
        );
        patched.push(r.folder.clone());
    }
    for must in [
        "kustomize-example-ldap/overlays/production",
        "kustomize-example-ldap/overlays/staging",
        "kustomize-example-springboot/overlays/production",
        "kustomize-example-springboot/overlays/staging",
    ] {
        assert!(patched.iter().any(|p| p == must), "{must} was patched");
    }
}
