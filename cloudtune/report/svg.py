"""Hand-written inline SVG charts: a time-series chart with bands and a histogram. No dependencies, no scripts.

Every chart is one `<svg>` element with a `<title>` and a class per drawn series, so a browser shows it
offline and a test can count what was drawn.
"""
from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

PALETTE = ("#1f6feb", "#d1242f", "#2da44e", "#bf8700", "#8250df", "#cf222e", "#0a7d8c", "#6e7781")


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not np.isfinite(lo) or not np.isfinite(hi):
        return [0.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks, v = [round(start, 12)], start
    while ticks[-1] < hi - step * 1e-9:  # the last tick is at or above hi, so the axis covers the data
        v += step
        ticks.append(round(v, 12))
    return ticks


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels with as many digits as the tick step needs (0.995, 0.996 ... not 1, 1, 1), in k/M/G when large."""
    if len(ticks) < 2:
        return [fmt_num(t) for t in ticks]
    step = abs(ticks[1] - ticks[0]) or 1.0
    top = max(abs(t) for t in ticks)
    unit, div = next(((u, d) for u, d in (("G", 1e9), ("M", 1e6), ("k", 1e3)) if top >= d), ("", 1.0))
    decimals = max(0, -math.floor(math.log10(step / div) + 1e-9))
    return [f"{t / div:.{min(decimals, 6)}f}{unit}" for t in ticks]


def fmt_num(v: float) -> str:
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.3g}G"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def time_chart(lines: list[dict], bands: list[dict] | None = None, title: str = "", width: int = 860,
               height: int = 260, vline=None, vline_label: str = "", css_class: str = "chart", zero: bool = True,
               legend: bool = True) -> str:
    """lines: dicts with x (timestamps), y, label, optional color and dash. bands: x, lo, hi, label, color.
    vline: a timestamp marked with a vertical rule (e.g. the run date). zero: the y axis starts at 0 (loads);
    else it spans the data (multipliers around 1)."""
    bands = bands or []
    ml, mr, mt, mb = 62, (150 if legend else 14), 24, 30
    pw, ph = width - ml - mr, height - mt - mb
    xs = [pd.DatetimeIndex(d["x"]).asi8 for d in [*lines, *bands] if len(d["x"])]
    ys = [np.asarray(d["y"], float) for d in lines if len(d["y"])] + \
         [np.asarray(d[k], float) for d in bands for k in ("lo", "hi") if len(d[k])]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>']
    if not xs or not ys:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="empty">no data</text></svg>')
        return "".join(out)
    x0, x1 = min(a.min() for a in xs), max(a.max() for a in xs)
    finite = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.zeros(1)
    y1 = float(finite.max()) if finite.size else 1.0
    y0 = min(0.0, float(finite.min())) if zero and finite.size else (float(finite.min()) if finite.size else 0.0)
    pad = 0.05 * (y1 - y0) if y1 > y0 else (abs(y1) * 0.05 or 1.0)
    yt = nice_ticks(y0 if zero else y0 - pad, y1 + pad)
    y0, y1 = yt[0], yt[-1]
    span = max(x1 - x0, 1)

    def px(t):
        return ml + (np.asarray(t, dtype=np.int64) - x0) / span * pw

    def py(v):
        return mt + ph - (np.asarray(v, float) - y0) / ((y1 - y0) or 1) * ph

    out.append(f'<text x="{ml}" y="15" class="title">{escape(title)}</text>')
    for t, label in zip(yt, tick_labels(yt)):
        y = float(py(t))
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{ml - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{label}</text>')
    days = pd.date_range(pd.Timestamp(x0, tz="UTC").ceil("D"), pd.Timestamp(x1, tz="UTC"), freq="D")
    every = max(1, int(np.ceil(len(days) / max(pw // 60, 1))))
    for d in days[::every]:
        x = float(px([d.value])[0])
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" y2="{mt + ph}" class="grid"/>'
                   f'<text x="{x:.1f}" y="{mt + ph + 16}" text-anchor="middle" class="tick">{d:%m-%d}</text>')
    entries = []
    for i, b in enumerate(bands):
        x = pd.DatetimeIndex(b["x"]).asi8
        lo, hi = np.asarray(b["lo"], float), np.asarray(b["hi"], float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        if not ok.any():
            continue
        color = b.get("color", "#1f6feb")
        top = " ".join(f"{a:.1f},{c:.1f}" for a, c in zip(px(x[ok]), py(hi[ok])))
        bot = " ".join(f"{a:.1f},{c:.1f}" for a, c in zip(px(x[ok])[::-1], py(lo[ok])[::-1]))
        out.append(f'<polygon class="band" points="{top} {bot}" fill="{color}" fill-opacity="{b.get("opacity", 0.18)}">'
                   f'<title>{escape(b.get("label", ""))}</title></polygon>')
        entries.append((b.get("label", ""), color, "band", b.get("opacity", 0.18)))
    for i, d in enumerate(lines):
        x, y = pd.DatetimeIndex(d["x"]).asi8, np.asarray(d["y"], float)
        ok = np.isfinite(y)
        if not ok.any():
            continue
        color = d.get("color", PALETTE[i % len(PALETTE)])
        pts = " ".join(f"{a:.1f},{c:.1f}" for a, c in zip(px(x[ok]), py(y[ok])))
        dash = f' stroke-dasharray="{d["dash"]}"' if d.get("dash") else ""
        out.append(f'<polyline class="series" fill="none" stroke="{color}" stroke-width="{d.get("width", 1.4)}"'
                   f'{dash} points="{pts}"><title>{escape(d.get("label", ""))}</title></polyline>')
        entries.append((d.get("label", ""), color, "line", 1))
    if vline is not None:
        x = float(px([pd.Timestamp(vline).value])[0])
        if ml <= x <= ml + pw:
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" y2="{mt + ph}" class="vline"/>'
                       f'<text x="{x + 3:.1f}" y="{mt + 10}" class="tick">{escape(vline_label)}</text>')
    for i, (label, color, kind, op) in enumerate(entries if legend else []):
        y = mt + 8 + i * 16
        lx = ml + pw + 12
        if kind == "band":
            out.append(f'<rect x="{lx}" y="{y - 6}" width="16" height="10" fill="{color}" fill-opacity="{op}"/>')
        else:
            out.append(f'<line x1="{lx}" x2="{lx + 16}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 22}" y="{y + 4}" class="legend">{escape(label)}</text>')
    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" class="frame"/></svg>')
    return "".join(out)


def histogram(values, title: str = "", bins: int = 20, width: int = 420, height: int = 200,
              marker: float | None = None, marker_label: str = "") -> str:
    """Bars of a histogram, one `<rect class="bar">` per non-empty bin, each with its count as a tooltip."""
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), float)
    v = v[np.isfinite(v)]
    ml, mr, mt, mb = 44, 12, 24, 30
    pw, ph = width - ml - mr, height - mt - mb
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="hist" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>'
           f'<text x="{ml}" y="15" class="title">{escape(title)}</text>']
    if v.size == 0:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="empty">no data</text></svg>')
        return "".join(out)
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    top = max(int(counts.max()), 1)
    bw = pw / bins
    for i, c in enumerate(counts):
        if c == 0:
            continue
        h = c / top * ph
        out.append(f'<rect class="bar" x="{ml + i * bw + 1:.1f}" y="{mt + ph - h:.1f}" width="{max(bw - 2, 1):.1f}" '
                   f'height="{h:.1f}"><title>{edges[i]:.3g} .. {edges[i + 1]:.3g}: {c}</title></rect>')
    for t in nice_ticks(lo, hi, 5):
        if lo <= t <= hi:
            x = ml + (t - lo) / (hi - lo) * pw
            out.append(f'<text x="{x:.1f}" y="{mt + ph + 16}" text-anchor="middle" class="tick">{t:.3g}</text>')
    out.append(f'<text x="{ml - 6}" y="{mt + 8}" text-anchor="end" class="tick">{top}</text>')
    if marker is not None and lo <= marker <= hi:
        x = ml + (marker - lo) / (hi - lo) * pw
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" y2="{mt + ph}" class="vline"/>'
                   f'<text x="{x + 3:.1f}" y="{mt + 10}" class="tick">{escape(marker_label)}</text>')
    out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{mt + ph}" y2="{mt + ph}" class="axis"/></svg>')
    return "".join(out)


def waterfall(parts: dict, start: float, end: float, title: str = "", width: int = 620, height: int = 240,
              labels: tuple = ("before", "after")) -> str:
    """Bars from `start` through each part to `end` (the change explanation)."""
    names = [labels[0], *parts, labels[1]]
    ml, mr, mt, mb = 130, 20, 24, 10
    pw = width - ml - mr
    row = (height - mt - mb) / len(names)
    levels, run = [], start
    for v in parts.values():
        levels.append((run, run + v))
        run += v
    lo = min([start, end, *[min(a, b) for a, b in levels]])
    hi = max([start, end, *[max(a, b) for a, b in levels]])
    pad = (hi - lo) * 0.15 or abs(hi) * 0.01 or 1.0
    lo, hi = lo - pad, hi + pad

    def px(v):
        return ml + (v - lo) / (hi - lo) * pw

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="waterfall" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>'
           f'<text x="{ml}" y="15" class="title">{escape(title)}</text>']
    bars = [(labels[0], lo, start, "#6e7781"), *[(n, a, b, "#2da44e" if b >= a else "#d1242f")
                                                 for n, (a, b) in zip(parts, levels)], (labels[1], lo, end, "#1f6feb")]
    for i, (name, a, b, color) in enumerate(bars):
        y = mt + i * row
        x0, x1 = sorted((px(a), px(b)))
        out.append(f'<text x="{ml - 6}" y="{y + row * 0.65:.1f}" text-anchor="end" class="tick">{escape(name)}</text>'
                   f'<rect class="bar" x="{x0:.1f}" y="{y + row * 0.15:.1f}" width="{max(x1 - x0, 1):.1f}" '
                   f'height="{row * 0.7:.1f}" fill="{color}"><title>{escape(name)}: {b - a:+,.4g}</title></rect>')
    out.append("</svg>")
    return "".join(out)
