//! Checking a Helm chart as it deploys: copy it with every template line marked, render it
//! with `helm template` for its default values and each values file it ships for testing,
//! analyse the output with the core, and carry each unit and finding back to its template.

use crate::analyze::analyze;
use crate::config::Config;
use crate::model::{FileReport, Format, RenderTool, Rendered};
use crate::render::chart_copy::ChartCopy;
use crate::render::process::{self, Bounds};
use crate::render::{helm_fix, skipped};
use immutabot_core::render::{helm_lines, relocate, render_failed};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A chart to check.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// The chart folder on disk.
    pub dir: &'a Path,
    /// The folder as reported (`charts/web`).
    pub path: &'a str,
}

/// How to render.
#[derive(Debug, Clone)]
pub struct HelmOptions<'a> {
    /// The helm binary, when one was found.
    pub helm: Option<&'a Path>,
    /// Values files to render with, each on top of the defaults (`--values FILE`), on disk.
    pub extra_values: &'a [PathBuf],
    /// Time and output budget of one render.
    pub bounds: Bounds,
    /// Also render each values file the chart ships for testing (the CLI and reviews do;
    /// a scan for the compliance report counts the defaults, as they deploy).
    pub shipped_values: bool,
}

/// One render of the chart: its default values, or one values file on top of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The values file as reported: relative to the chart when it ships with it (`None`:
    /// the defaults).
    pub values: Option<String>,
    /// Where it is on disk, when it is not the chart's own (`--values FILE`).
    pub outside: Option<PathBuf>,
    /// Whether the chart ships it (a test values file), rather than the user naming it.
    pub shipped: bool,
}

/// The reports of one chart: one per template (and values file) with units or findings.
pub fn check(chart: &Chart<'_>, opts: &HelmOptions<'_>, config: &Config) -> Vec<FileReport> {
    let Some(helm) = opts.helm else {
        return vec![skipped(
            &format!("{}/Chart.yaml", chart.path),
            "Helm chart not rendered: helm was not found (install it, https://helm.sh/docs/intro/install/, or pass --helm PATH; --no-render checks the chart's files as they are)",
        )];
    };
    if let Some(reason) = unrenderable(chart.dir) {
        return vec![skipped(&format!("{}/Chart.yaml", chart.path), &reason)];
    }
    let mut copy = match ChartCopy::make(chart.dir, chart.path) {
        Ok(c) => c,
        Err(e) => {
            let defaults = Variant {
                values: None,
                outside: None,
                shipped: false,
            };
            let msg = format!("cannot copy the chart: {e}");
            return vec![failed(chart, &defaults, config, msg)];
        }
    };
    let mut reports = Vec::new();
    let mut all = vec![Variant {
        values: None,
        outside: None,
        shipped: false,
    }];
    all.extend(opts.extra_values.iter().map(|v| Variant {
        values: Some(v.display().to_string()),
        outside: Some(v.clone()),
        shipped: false,
    }));
    if opts.shipped_values {
        all.extend(variants(chart.dir));
    }
    // Fixes are placed on the defaults' render, or on the user's values when the defaults
    // do not render (a required value).
    let mut defaults = None;
    for variant in all {
        let values_in = |copy: &ChartCopy| -> Vec<PathBuf> {
            match (&variant.outside, &variant.values) {
                (Some(p), _) => vec![p.clone()],
                (None, Some(v)) => vec![copy.dir().join(v)],
                (None, None) => Vec::new(),
            }
        };
        let mut values = values_in(&copy);
        let rendered = render(helm, &copy, &values, opts).or_else(|msg| {
            // The marks must never be why a chart does not render: try it as it is.
            if !copy.is_marked() {
                return Err(msg);
            }
            let plain = ChartCopy::plain(chart.dir, chart.path).map_err(|_| msg.clone())?;
            let plain_values = values_in(&plain);
            let out = render(helm, &plain, &plain_values, opts).map_err(|_| msg)?;
            (copy, values) = (plain, plain_values);
            Ok::<String, String>(out)
        });
        match rendered {
            Ok(out) => {
                let mut r = Render::of(&out, &copy, chart, config);
                reports.extend(r.relocated(&copy, chart, &variant));
                if defaults.is_none() && !variant.shipped {
                    r.values = values;
                    defaults = Some(r);
                }
            }
            Err(msg) => reports.push(failed(chart, &variant, config, msg)),
        }
    }
    let mut reports = relocate::merge(reports);
    if let Some(d) = &defaults {
        let cx = helm_fix::Context {
            helm,
            copy: &copy,
            chart,
            opts,
            config,
            base: &d.values,
        };
        helm_fix::place(&mut reports, d, &cx);
    }
    reports
}

/// Library charts render only through the charts that use them.
fn unrenderable(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
    let s = crate::yaml::Stream::parse(&text, crate::yaml::Limits::default());
    let root = s.docs.first().copied().flatten()?;
    (s.get_str(root, "type") == Some("library"))
        .then(|| "library chart: it renders only through the charts that depend on it".into())
}

/// Each values file the chart ships for testing (`values*.yaml` beside `values.yaml`,
/// `ci/*-values.yaml`), in name order.
pub fn variants(dir: &Path) -> Vec<Variant> {
    let mut files = Vec::new();
    let list = |sub: &str, keep: &dyn Fn(&str) -> bool, files: &mut Vec<String>| {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_file()) && keep(&name) {
                files.push(if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                });
            }
        }
    };
    let yaml = |n: &str| n.ends_with(".yaml") || n.ends_with(".yml");
    list(
        "",
        &|n| n.starts_with("values") && n != "values.yaml" && n != "values.yml" && yaml(n),
        &mut files,
    );
    list(
        "ci",
        &|n| n.ends_with("-values.yaml") || n.ends_with("-values.yml"),
        &mut files,
    );
    files.sort();
    files
        .into_iter()
        .map(|v| Variant {
            values: Some(v),
            outside: None,
            shipped: true,
        })
        .collect()
}

/// `helm template` of the marked copy with `values` on top of the defaults, as `helm
/// template CHART` names things (release `release-name`, namespace `default`).
pub fn render(
    helm: &Path,
    copy: &ChartCopy,
    values: &[PathBuf],
    opts: &HelmOptions<'_>,
) -> Result<String, String> {
    let mut args: Vec<OsString> = vec!["template".into(), copy.dir().into()];
    for v in values {
        args.push("--values".into());
        args.push(v.into());
    }
    let out = process::run(helm, &args, copy.dir(), opts.bounds).map_err(|e| {
        let named: Vec<String> = values
            .iter()
            .map(|v| v.strip_prefix(copy.dir()).unwrap_or(v))
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let values = if named.is_empty() {
            "its default values".to_string()
        } else {
            named.join(", ")
        };
        format!("`helm template` with {values}: {e}")
    })?;
    String::from_utf8(out).map_err(|_| "`helm template` printed text that is not UTF-8".into())
}

/// One render, analysed: the marker-free text, where each of its lines came from, and the
/// core's report on it (fixes of the rendered text included).
pub struct Render {
    /// The output without markers.
    pub text: String,
    /// For each line of `text`: the file number and line it came from.
    pub origins: Vec<(u32, usize)>,
    /// The core's report on `text`.
    pub report: FileReport,
    /// The values files it was rendered with, on top of the defaults.
    pub values: Vec<PathBuf>,
}

impl Render {
    /// Reads the markers back and analyses the output.
    pub fn of(out: &str, copy: &ChartCopy, chart: &Chart<'_>, config: &Config) -> Render {
        let (text, marked) = helm_lines::strip(out);
        let fallback = copy.fallbacks(&text);
        let origins = fallback
            .iter()
            .enumerate()
            .map(|(i, f)| marked.get(i).copied().flatten().unwrap_or(*f))
            .collect();
        let report = analyze(
            &format!("{}/(helm template)", chart.path),
            text.as_bytes(),
            config,
            &crate::analyze::NoFiles,
        );
        Render {
            text,
            origins,
            report,
            values: Vec::new(),
        }
    }

    /// Where rendered line `line` (1-based) came from.
    pub fn origin(&self, line: usize) -> (u32, usize) {
        self.origins
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or((0, 1))
    }

    /// The report carried back to the chart's files.
    fn relocated(&self, copy: &ChartCopy, chart: &Chart<'_>, variant: &Variant) -> Vec<FileReport> {
        let rendered = Rendered {
            tool: RenderTool::Helm,
            root: chart.path.to_string(),
            values: vec![
                variant
                    .values
                    .clone()
                    .unwrap_or_else(|| "values.yaml".into()),
            ],
        };
        let mut reports =
            relocate::relocate(&self.report, copy.files(), |l| self.origin(l), &rendered);
        reports.retain(|r| !r.units.is_empty() || !r.findings.is_empty());
        // A finding only a values file shows must say so: the defaults do not deploy it.
        if let Some(v) = &variant.values {
            for f in reports.iter_mut().flat_map(|r| r.findings.iter_mut()) {
                f.message.push_str(&format!(" (Rendered with `{v}`.)"));
            }
        }
        reports
    }
}

/// A render that failed: a finding on the chart's values file that was used, else on
/// `Chart.yaml`.
fn failed(chart: &Chart<'_>, variant: &Variant, config: &Config, msg: String) -> FileReport {
    let values = variant.values.as_deref();
    let file = match (&variant.outside, values) {
        (None, Some(v)) => v,
        _ => "Chart.yaml",
    };
    FileReport {
        path: format!("{}/{file}", chart.path),
        format: Format::Kubernetes,
        skipped_reason: None,
        units: Vec::new(),
        findings: vec![render_failed(config, 1, msg)],
        rendered: Some(Rendered {
            tool: RenderTool::Helm,
            root: chart.path.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }),
    }
}
