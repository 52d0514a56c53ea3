#!/usr/bin/env python3
"""Renders the CSV written by the soak example (benches/support/soak.rs) as one SVG with three
panels sharing the time axis: queue depth (queued + running jobs), intake latency (p50 and p99
of each second, logarithmic), and the serve process's memory (resident, and the heap in use and
held from the system when the CSV has them). Standard library only.

    scripts/support/soak_plot.py target/soak.csv docs/img/soak.svg "title"
"""

import csv
import math
import sys

WIDTH, PANEL_H, LEFT, RIGHT, TOP, GAP = 900, 170, 70, 20, 56, 45


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_max(v):
    if v <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


class Panel:
    def __init__(self, index, t_max, title, unit, log=False, y_max=None, y_min=None):
        self.top = TOP + index * (PANEL_H + GAP)
        self.t_max = max(t_max, 1)
        self.title, self.unit, self.log = title, unit, log
        self.y_min, self.y_max = y_min, y_max
        self.out = []

    def x(self, t):
        return LEFT + (WIDTH - LEFT - RIGHT) * t / self.t_max

    def y(self, v):
        if self.log:
            lo, hi = math.log10(self.y_min), math.log10(self.y_max)
            f = (math.log10(max(v, self.y_min)) - lo) / (hi - lo)
        else:
            f = v / self.y_max
        return self.top + PANEL_H * (1 - min(max(f, 0), 1))

    def frame(self, ticks):
        w = WIDTH - LEFT - RIGHT
        o = self.out
        o.append(f'<text x="{LEFT}" y="{self.top - 8}" font-weight="bold">{esc(self.title)}</text>')
        o.append(f'<rect x="{LEFT}" y="{self.top}" width="{w}" height="{PANEL_H}" fill="none" stroke="#999"/>')
        for v in ticks:
            y = self.y(v)
            o.append(f'<line x1="{LEFT}" x2="{LEFT + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
            label = f"{v:g}"
            o.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        o.append(
            f'<text x="14" y="{self.top + PANEL_H / 2}" transform="rotate(-90 14 {self.top + PANEL_H / 2})" '
            f'text-anchor="middle">{esc(self.unit)}</text>'
        )

    def line(self, points, color, label, slot):
        pts = " ".join(f"{self.x(t):.1f},{self.y(v):.1f}" for t, v in points)
        if pts:
            self.out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.2"/>')
        lx = LEFT + 10 + slot * 150
        self.out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{self.top + 14}" y2="{self.top + 14}" stroke="{color}" stroke-width="2"/>')
        self.out.append(f'<text x="{lx + 24}" y="{self.top + 18}">{esc(label)}</text>')


def series(rows, key, scale=1.0):
    out = []
    for r in rows:
        t, v = num(r["second"]), num(r[key])
        if t is not None and v is not None:
            out.append((t, v * scale))
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "soak"
    rows = read(src)
    t_max = max((num(r["second"]) or 0) for r in rows) if rows else 1
    load_end = max((num(r["second"]) or 0) for r in rows if r["phase"] == "load") if rows else 0
    depth = [(t, q + r) for (t, q), (_, r) in zip(series(rows, "queued"), series(rows, "running"))]
    p50, p99 = series(rows, "p50_ms"), series(rows, "p99_ms")
    rss = series(rows, "rss_kb", 1 / 1024)
    has_heap = bool(rows) and "heap_in_use_kb" in rows[0]
    heap_used = series(rows, "heap_in_use_kb", 1 / 1024) if has_heap else []
    heap_system = series(rows, "heap_system_kb", 1 / 1024) if has_heap else []

    panels = []
    d_max = nice_max(max([v for _, v in depth] + [1]))
    p = Panel(0, t_max, "Queue depth (queued + running jobs)", "jobs", y_max=d_max)
    p.frame([d_max * i / 4 for i in range(5)])
    p.line(depth, "#1f77b4", "queued + running", 0)
    panels.append(p)

    lat = [v for _, v in p50 + p99 if v > 0]
    lo = 10 ** math.floor(math.log10(min(lat))) if lat else 0.1
    hi = 10 ** math.ceil(math.log10(max(lat))) if lat else 10
    hi = max(hi, lo * 10)
    p = Panel(1, t_max, "Intake latency of each second (from when the delivery was due)", "ms (log)", log=True, y_min=lo, y_max=hi)
    ticks, v = [], lo
    while v <= hi * 1.0001:
        ticks.append(v)
        v *= 10
    p.frame(ticks)
    p.line(p50, "#2ca02c", "p50", 0)
    p.line(p99, "#d62728", "p99", 1)
    panels.append(p)

    r_max = nice_max(max([v for _, v in rss + heap_system] + [1]))
    p = Panel(2, t_max, "Memory of immutabot serve", "MB", y_max=r_max)
    p.frame([r_max * i / 4 for i in range(5)])
    p.line(rss, "#9467bd", "RSS", 0)
    if heap_used:
        p.line(heap_system, "#ff7f0e", "heap from the system", 1)
        p.line(heap_used, "#8c564b", "heap in use", 2)
    panels.append(p)

    height = TOP + 3 * (PANEL_H + GAP) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{esc(title)}</text>',
    ]
    for p in panels:
        out.extend(p.out)
        if load_end:
            x = p.x(load_end)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{p.top}" y2="{p.top + PANEL_H}" stroke="#888" stroke-dasharray="4 3"/>')
    last = panels[-1]
    for i in range(6):
        t = t_max * i / 5
        x = last.x(t)
        out.append(f'<text x="{x:.1f}" y="{last.top + PANEL_H + 16}" text-anchor="middle">{t:.0f}</text>')
    out.append(
        f'<text x="{WIDTH / 2}" y="{last.top + PANEL_H + 32}" text-anchor="middle">seconds (dashed: the load stops, the queue drains)</text>'
    )
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
