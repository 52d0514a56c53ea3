//! Fixes where a chart's author or user edits: in `values.yaml` when the chart has a knob
//! for the container's security context (found by rendering with sentinels, not by a list
//! of key names), else in the template where the lines are literal, else advice.
//!
//! Every values fix is checked by rendering the chart again with it: one that does not make
//! its container read-only is not offered.

use crate::config::Config;
use crate::model::{FileReport, Finding, Fix, Format, ReadOnly, RenderTool, Rendered};
use crate::render::chart_copy::ChartCopy;
use crate::render::helm::{Chart, HelmOptions, Render, render};
use crate::rules::RuleId;
use immutabot_core::render::knobs::{self, Knob, KnobKind, Reached, ScratchMount};
use immutabot_core::render::relocate;
use std::path::{Path, PathBuf};

/// Renders one probe may cost, beyond the first: charts whose schema or templates refuse
/// the all-at-once probe are probed knob by knob.
const MAX_PROBE_RENDERS: usize = 40;

/// What placing fixes needs.
pub struct Context<'a> {
    /// The helm binary.
    pub helm: &'a Path,
    /// The marked copy of the chart.
    pub copy: &'a ChartCopy,
    /// The chart.
    pub chart: &'a Chart<'a>,
    /// Render options.
    pub opts: &'a HelmOptions<'a>,
    /// Settings.
    pub config: &'a Config,
    /// The values files the render the fixes are for was made with (the user's, when the
    /// defaults do not render); probes and the verifying render go on top of them.
    pub base: &'a [PathBuf],
}

/// A fix planned in `values.yaml` for one writable container.
struct ValuesFix {
    workload: String,
    container: String,
    knob: Knob,
    fix: Option<Fix>,
    note: String,
}

/// Gives each writable container of the default render its fix.
pub fn place(reports: &mut Vec<FileReport>, d: &Render, cx: &Context<'_>) {
    let writable: Vec<&Finding> = d
        .report
        .findings
        .iter()
        .filter(|f| f.rule == RuleId::WritableRootFilesystem.as_str() && f.suppressed.is_none())
        .filter(|f| f.workload.is_some() && f.container.is_some())
        .collect();
    if writable.is_empty() {
        return;
    }
    let values_path = cx.chart.dir.join("values.yaml");
    let values = std::fs::read_to_string(&values_path).unwrap_or_default();
    let knobs = knobs::candidates(&values);
    let reached = if knobs.is_empty() {
        Vec::new()
    } else {
        probe(cx, &knobs)
    };
    let mut planned = Vec::new();
    for f in writable {
        let r = reached.iter().find(|r| {
            Some(&r.workload) == f.workload.as_ref() && Some(&r.container) == f.container.as_ref()
        });
        match r.and_then(|r| r.security_context.map(|sc| (r, sc))) {
            Some((r, sc)) => planned.push(plan_values_fix(&values, &knobs, r, sc, d)),
            None => in_template(reports, d, f, cx),
        }
    }
    verify(&mut planned, &values, cx);
    for p in planned {
        move_to_values(reports, p, cx);
    }
}

/// Which knob reaches which container: all knobs in one render when the chart takes it;
/// when a sentinel breaks the render (a schema, a template that wants its own shape), the
/// knobs are halved until each half renders, and a lone security-context knob the schema
/// types as a boolean is probed with `true` and `false`.
fn probe(cx: &Context<'_>, knobs: &[Knob]) -> Vec<Reached> {
    let all: Vec<usize> = (0..knobs.len()).collect();
    let mut found = Vec::new();
    let mut renders = 0;
    bisect(cx, knobs, &all, &mut renders, &mut found);
    found
}

fn bisect(
    cx: &Context<'_>,
    knobs: &[Knob],
    only: &[usize],
    renders: &mut usize,
    found: &mut Vec<Reached>,
) {
    if only.is_empty() || *renders >= MAX_PROBE_RENDERS {
        return;
    }
    *renders += 1;
    if let Some(r) = probe_render(cx, &knobs::probe_values_subset(knobs, only)) {
        merge_reached(found, knobs::reached(&r));
        return;
    }
    if let [i] = only {
        if knobs[*i].kind == KnobKind::SecurityContext {
            *renders += 2;
            let on = probe_render(cx, &knobs::probe_values_bool(knobs, *i, true));
            let off = probe_render(cx, &knobs::probe_values_bool(knobs, *i, false));
            if let (Some(on), Some(off)) = (on, off) {
                merge_reached(found, knobs::reached_bool(&on, &off, *i));
            }
        }
        return;
    }
    let (a, b) = only.split_at(only.len() / 2);
    bisect(cx, knobs, a, renders, found);
    bisect(cx, knobs, b, renders, found);
}

fn merge_reached(all: &mut Vec<Reached>, found: Vec<Reached>) {
    for r in found {
        match all
            .iter_mut()
            .find(|a| a.workload == r.workload && a.container == r.container)
        {
            Some(a) => {
                a.security_context = a.security_context.or(r.security_context);
                a.volumes = a.volumes.or(r.volumes);
                a.volume_mounts = a.volume_mounts.or(r.volume_mounts);
            }
            None => all.push(r),
        }
    }
}

/// Renders the defaults with a probe values file on top; the marker-free output.
fn probe_render(cx: &Context<'_>, probe: &str) -> Option<String> {
    let file: PathBuf = cx.copy.dir().join(".immutabot-probe.yaml");
    std::fs::write(&file, probe).ok()?;
    let values: Vec<PathBuf> = cx.base.iter().cloned().chain([file]).collect();
    let out = render(cx.helm, cx.copy, &values, cx.opts).ok()?;
    Some(immutabot_core::render::helm_lines::strip(&out).0)
}

fn plan_values_fix(values: &str, knobs: &[Knob], r: &Reached, sc: usize, d: &Render) -> ValuesFix {
    let scratch: Vec<ScratchMount> = knobs::scratch_needed(&d.text, &r.workload, &r.container);
    let keep = knobs::rendered_security_context(&d.text, &r.workload, &r.container);
    let volumes = r.volumes.map(|i| &knobs[i]);
    let mounts = r.volume_mounts.map(|i| &knobs[i]);
    let knob = knobs[sc].clone();
    let mut note = format!(
        "The chart sets this container's security context with `{}` in values.yaml (found by rendering): the patch sets it there.",
        knob.path.join(".")
    );
    let mountable = volumes.is_some() && mounts.is_some();
    if !scratch.is_empty() && !mountable {
        let paths: Vec<&str> = scratch.iter().map(|m| m.path.as_str()).collect();
        note = format!(
            "The chart sets this container's security context with `{}` in values.yaml, but has no values key that adds volumes and mounts to it, and the image needs {} writable: no patch is offered, since read-only alone would break it.",
            knob.path.join("."),
            paths.join(", ")
        );
        return ValuesFix {
            workload: r.workload.clone(),
            container: r.container.clone(),
            knob,
            fix: None,
            note,
        };
    }
    let fixes = knobs::values_fix(values, &knobs[sc], volumes, mounts, &scratch, &keep);
    let fix = relocate::combine(values, &fixes).map(|mut f| {
        f.description = format!(
            "set readOnlyRootFilesystem: true with `{}`",
            knob.path.join(".")
        );
        f
    });
    ValuesFix {
        workload: r.workload.clone(),
        container: r.container.clone(),
        knob,
        fix,
        note,
    }
}

/// Renders the chart with every planned values fix applied and drops the fixes whose
/// container is still not read-only.
fn verify(planned: &mut [ValuesFix], values: &str, cx: &Context<'_>) {
    let fixes: Vec<&Fix> = planned.iter().filter_map(|p| p.fix.as_ref()).collect();
    if fixes.is_empty() {
        return;
    }
    let (patched, _) = immutabot_core::patch::apply_all(values, fixes);
    let file = cx.copy.dir().join(".immutabot-verify.yaml");
    let rendered = std::fs::write(&file, &patched).ok().and_then(|()| {
        // The patched values.yaml stands for the defaults: the user's values go on top.
        let values: Vec<PathBuf> = [file].into_iter().chain(cx.base.iter().cloned()).collect();
        render(cx.helm, cx.copy, &values, cx.opts).ok()
    });
    let after = rendered.map(|out| {
        let text = immutabot_core::render::helm_lines::strip(&out).0;
        crate::analyze::analyze(
            "(verify)",
            text.as_bytes(),
            cx.config,
            &crate::analyze::NoFiles,
        )
    });
    for p in planned.iter_mut().filter(|p| p.fix.is_some()) {
        let fixed = after.as_ref().is_some_and(|a| {
            a.units.iter().any(|u| {
                u.workload == p.workload
                    && u.container.as_deref() == Some(p.container.as_str())
                    && u.read_only == ReadOnly::True
            })
        });
        if !fixed {
            p.fix = None;
            p.note = format!(
                "The chart sets this container's security context with `{}` in values.yaml, but setting it there did not make the container read-only when rendered: no patch is offered.",
                p.knob.path.join(".")
            );
        }
    }
}

/// Moves a container's finding from its template to the values key that decides it.
fn move_to_values(reports: &mut Vec<FileReport>, p: ValuesFix, cx: &Context<'_>) {
    let Some(mut f) = take_finding(reports, &p.workload, &p.container) else {
        return;
    };
    let from = format!(" It is rendered from `{}` line {}.", f.1, f.0.line);
    f.0.message = format!("{}{from} {}", f.0.message, p.note);
    f.0.line = p.knob.line;
    f.0.end_line = p.knob.line;
    f.0.column = 1;
    f.0.fix = p.fix;
    let path = format!("{}/values.yaml", cx.chart.path);
    let report = match reports.iter_mut().position(|r| r.path == path) {
        Some(i) => &mut reports[i],
        None => {
            reports.push(FileReport {
                path,
                format: Format::Kubernetes,
                skipped_reason: None,
                units: Vec::new(),
                findings: Vec::new(),
                rendered: Some(Rendered {
                    tool: RenderTool::Helm,
                    root: cx.chart.path.to_string(),
                    values: vec!["values.yaml".into()],
                }),
            });
            reports.last_mut().expect("just pushed")
        }
    };
    report.findings.push(f.0);
    report.findings.sort_by_key(|f| f.line);
}

/// Removes the writable finding of a container from the relocated reports; with the path of
/// the report it was in.
fn take_finding(
    reports: &mut [FileReport],
    workload: &str,
    container: &str,
) -> Option<(Finding, String)> {
    for r in reports.iter_mut() {
        if let Some(i) = r
            .findings
            .iter()
            .position(|f| is_writable_of(f, workload, container))
        {
            return Some((r.findings.remove(i), r.path.clone()));
        }
    }
    None
}

fn is_writable_of(f: &Finding, workload: &str, container: &str) -> bool {
    f.rule == RuleId::WritableRootFilesystem.as_str()
        && f.workload.as_deref() == Some(workload)
        && f.container.as_deref() == Some(container)
}

/// No knob: the rendered patch carried into the template where its lines are literal, or
/// the change a chart author would make.
fn in_template(reports: &mut [FileReport], d: &Render, f: &Finding, cx: &Context<'_>) {
    let (workload, container) = (
        f.workload.as_deref().unwrap_or(""),
        f.container.as_deref().unwrap_or(""),
    );
    let (file, _) = d.origin(f.line);
    let path = cx
        .copy
        .files()
        .get(file as usize)
        .cloned()
        .unwrap_or_default();
    let rel = path
        .strip_prefix(&format!("{}/", cx.chart.path))
        .unwrap_or(&path);
    let template = std::fs::read_to_string(cx.chart.dir.join(rel)).unwrap_or_default();
    let fix = f.fix.as_ref().and_then(|rf| {
        relocate::template_fix(&d.text, rf, |l| d.origin(l), file, &template).map(|mut t| {
            t.description = format!("{} (in the template)", rf.description);
            t
        })
    });
    let Some(target) = reports
        .iter_mut()
        .filter(|r| r.path == path)
        .flat_map(|r| r.findings.iter_mut())
        .find(|g| is_writable_of(g, workload, container))
    else {
        return;
    };
    match fix {
        Some(t) => {
            target.message.push_str(
                " The chart has no values key for this container's security context: the patch edits the template, where these lines are written as they render.",
            );
            target.fix = Some(t);
        }
        None => {
            let added = f
                .fix
                .as_ref()
                .map(|rf| added_lines(&d.text, rf))
                .unwrap_or_default();
            target.message.push_str(&format!(
                " The chart offers no values key for this container's security context. A chart author would add to `{rel}`, in the container: {added}"
            ));
        }
    }
}

/// The lines a rendered fix adds, as one line of text for a message.
fn added_lines(rendered: &str, fix: &Fix) -> String {
    let old: Vec<&str> = rendered
        .lines()
        .skip(fix.start_line - 1)
        .take(fix.end_line + 1 - fix.start_line)
        .collect();
    let added: Vec<String> = fix
        .replacement
        .lines()
        .filter(|l| !old.contains(l))
        .map(|l| l.trim().to_string())
        .collect();
    format!("`{}`.", added.join(" "))
}
