//! The trend chart: a small server-rendered SVG, so the page needs no script to draw it and
//! prints as it looks.

use super::TrendPoint;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// An SVG line chart of the weekly read-only share (0–100 %), one dot per week with data.
pub fn trend_svg(points: &[TrendPoint]) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="Read-only share per week" xmlns="http://www.w3.org/2000/svg">"#
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    for pct in [0, 25, 50, 75, 100] {
        let y = TOP + plot_h * (1.0 - f64::from(pct) / 100.0);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{pct} %</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let drawn: Vec<(f64, f64, &TrendPoint, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let share = p.read_only_share?;
            let x = if points.len() == 1 {
                LEFT + plot_w / 2.0
            } else {
                LEFT + plot_w * i as f64 / (points.len() - 1) as f64
            };
            Some((x, TOP + plot_h * (1.0 - share), p, share))
        })
        .collect();
    if drawn.is_empty() {
        let _ = write!(
            svg,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">No finished scans yet</text>"#,
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0
        );
    } else {
        let d: Vec<String> = drawn
            .iter()
            .enumerate()
            .map(|(i, (x, y, _, _))| format!("{}{x:.1},{y:.1}", if i == 0 { 'M' } else { 'L' }))
            .collect();
        let _ = write!(svg, r#"<path class="line" d="{}"/>"#, d.join(" "));
        for (x, y, p, share) in &drawn {
            let _ = write!(
                svg,
                r#"<circle class="point" cx="{x:.1}" cy="{y:.1}" r="3"><title>week ending {}: {:.1} % read-only ({} of {} units)</title></circle>"#,
                p.week_end,
                share * 100.0,
                p.counts.read_only,
                p.counts.units
            );
        }
    }
    // Date labels under the first, middle and last week: enough to read the time span.
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let mut labels = vec![(LEFT, "start", first)];
        if points.len() > 2 {
            labels.push((LEFT + plot_w / 2.0, "middle", &points[points.len() / 2]));
        }
        if points.len() > 1 {
            labels.push((WIDTH - RIGHT, "end", last));
        }
        for (x, anchor, p) in labels {
            let _ = write!(
                svg,
                r#"<text class="axis" x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
                HEIGHT - 8.0,
                p.week_end
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Counts;
    use chrono::NaiveDate;

    fn point(day: u32, read_only: i64, units: i64) -> TrendPoint {
        let counts = Counts {
            units,
            read_only,
            ..Counts::default()
        };
        TrendPoint {
            week_end: NaiveDate::from_ymd_opt(2026, 1, day).unwrap(),
            repositories: 1,
            read_only_share: counts.share(),
            counts,
        }
    }

    #[test]
    fn weeks_with_units_become_points_on_one_path() {
        let svg = trend_svg(&[point(4, 0, 0), point(11, 1, 4), point(18, 4, 4)]);
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(r#"<path class="line" d="M"#), "{svg}");
        // 100 % sits on the top grid line.
        assert!(svg.contains(r#"cy="12.0""#), "{svg}");
        assert!(svg.contains("2026-01-18"));
    }

    #[test]
    fn no_data_says_so() {
        assert!(trend_svg(&[]).contains("No finished scans yet"));
    }
}
