"""The run report as one self-contained HTML page: inline CSS and SVG, no scripts, no network.

`render_report(ReportData) -> str`. Every section degrades to a sentence saying what is missing and why, so a
run without accuracy rows, outlier flags or aggregate levels still gets a complete page. Tables carry their exact
numbers in `data-value` attributes; the text shows four significant figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

from cloudtune.report.svg import PALETTE, histogram, time_chart, waterfall

_CSS = """
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#1f2328}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:18px 0 6px}.muted{color:#656d76}.note{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #d0d7de;padding:3px 8px}
th{background:#f6f8fa;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
svg{display:block;margin:6px 0;background:#fff}svg .title{font-weight:600;font-size:12px}svg .tick,svg .legend{font-size:11px;fill:#57606a}
svg .grid{stroke:#eaeef2}svg .frame{fill:none;stroke:#d0d7de}svg .vline{stroke:#8250df;stroke-dasharray:4 3}
svg .bar{fill:#1f6feb}svg .axis{stroke:#8c959f}svg .empty{fill:#8c959f}.row{display:flex;flex-wrap:wrap;gap:10px}
nav a{margin-right:12px}.scroll{overflow-x:auto;max-width:100%}
"""


@dataclass
class PlotData:
    """One series or region: hourly actuals (ts, value), forecast (ts, mean, p50?, p90?, p99?) and components
    (ts, component, value); `note` says what is approximated (e.g. a region without its own forecast)."""
    label: str
    actuals: pd.DataFrame
    forecast: pd.DataFrame
    components: pd.DataFrame = field(default_factory=pd.DataFrame)
    note: str = ""


@dataclass
class ReportData:
    run: dict
    previous_run: dict | None = None
    plots: list = field(default_factory=list)
    peaks: pd.DataFrame = field(default_factory=pd.DataFrame)
    accuracy: pd.DataFrame = field(default_factory=pd.DataFrame)
    accuracy_note: str = ""
    flags: pd.DataFrame = field(default_factory=pd.DataFrame)
    reconciliation: pd.DataFrame = field(default_factory=pd.DataFrame)
    levels: list = field(default_factory=list)
    explanations: list = field(default_factory=list)  # Explanation objects, or strings saying why not
    generated_at: str = ""


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        a = abs(float(v))
        return f"{float(v):,.0f}" if a >= 1e4 else f"{float(v):.4g}"
    if isinstance(v, pd.Timestamp):
        return "-" if pd.isna(v) else f"{v:%Y-%m-%d %H:%M}"
    return str(v)


def table(frame: pd.DataFrame, table_id: str, columns: list | None = None, max_rows: int = 200) -> str:
    """An HTML table; numeric cells keep the exact value in data-value."""
    if frame is None or len(frame) == 0:
        return '<p class="muted">No rows.</p>'
    cols = columns or list(frame.columns)
    out = [f'<div class="scroll"><table id="{escape(table_id)}"><thead><tr>' + "".join(f"<th>{escape(str(c))}</th>" for c in cols)
           + "</tr></thead><tbody>"]
    for rec in frame[cols].head(max_rows).itertuples(index=False):
        cells = []
        for c, v in zip(cols, rec):
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                exact = "" if not np.isfinite(float(v)) else repr(float(v))
                cells.append(f'<td class="num" data-col="{escape(str(c))}" data-value="{exact}">{fmt(v)}</td>')
            else:
                cells.append(f'<td data-col="{escape(str(c))}">{escape(fmt(v))}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    if len(frame) > max_rows:
        out.append(f'<p class="muted">{len(frame) - max_rows} more rows not shown.</p>')
    return "".join(out)


_KEY = ["service", "region", "metric"]
_SKIP = {"service", "region", "metric", "run_id", "run_date", "origin", "ts", "created_at", "written_at", "reason",
         "note", "message", "detail", "error"}


def accuracy_summary(acc: pd.DataFrame) -> tuple[pd.DataFrame, list, list]:
    """Whatever the accuracy table holds: grouped by its low-cardinality text columns (model, horizon, ...),
    the row count and the mean of every numeric column. Returns (summary, group columns, metric columns)."""
    if acc is None or len(acc) == 0:
        return pd.DataFrame(), [], []
    metrics = [c for c in acc.columns if c not in _SKIP and pd.api.types.is_numeric_dtype(acc[c])
               and not pd.api.types.is_bool_dtype(acc[c])]
    groups = [c for c in acc.columns if c not in _SKIP and c not in metrics
              and (acc[c].dtype == object or pd.api.types.is_string_dtype(acc[c]))
              and acc[c].nunique(dropna=False) <= 20
              and acc[c].dropna().astype(str).str.len().max(skipna=True) <= 40]  # labels, not free text
    frame = acc.copy()
    for g in groups:
        frame[g] = frame[g].fillna("(all)").astype(str)
    if groups:
        grouped = frame.groupby(groups, sort=True)
        summary = grouped.size().rename("rows").to_frame()
        if metrics:
            summary = summary.join(grouped[metrics].mean())
        summary = summary.reset_index()
    else:
        summary = pd.DataFrame([{"rows": len(frame), **frame[metrics].mean().to_dict()}])
    return summary, groups, metrics


def render_report(data: ReportData) -> str:
    run = data.run
    title = f"CloudTune run {run.get('run_id')}"
    sections = [
        ("forecasts", "Forecast vs actuals", _forecasts(data)),
        ("components", "Components", _components(data)),
        ("peaks", "Event peaks", _peaks(data)),
        ("accuracy", "Accuracy", _accuracy(data)),
        ("outliers", "Outliers excluded", _outliers(data)),
        ("reconciliation", "Reconciliation check", _reconciliation(data)),
        ("changes", "What changed since the previous run", _changes(data)),
    ]
    head = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>")
    facts = ", ".join(f"{k} <b>{escape(fmt(run.get(k)))}</b>" for k in
                      ("run_date", "status", "series_forecast", "series", "series_fallback", "series_failed",
                       "forecast_rows", "config_hash", "code_version") if run.get(k) is not None)
    out = [head, f"<h1>{escape(title)}</h1><p class=\"muted\">{facts}. Generated {escape(data.generated_at)}.</p>",
           "<nav>" + "".join(f'<a href="#{sid}">{escape(name)}</a>' for sid, name, _ in sections) + "</nav>"]
    for sid, name, body in sections:
        out.append(f'<section id="{sid}"><h2>{escape(name)}</h2>{body}</section>')
    out.append("</body></html>")
    return "".join(out)


def _forecasts(data: ReportData) -> str:
    if not data.plots:
        return '<p class="muted">No series or region chosen, or none has forecasts in this run.</p>'
    run_date = pd.Timestamp(data.run.get("run_date"), tz="UTC") if data.run.get("run_date") else None
    out = ['<p class="muted">Hourly means of the per-minute values. Shaded: the forecast\'s P90 and P99 '
           '(per-step quantiles, averaged over the hour). The dashed rule is the run date: the forecast starts '
           'there; actuals after it, where ingested, show how it went.</p>']
    for i, p in enumerate(data.plots):
        fc, act = p.forecast, p.actuals
        lines, bands = [], []
        if len(act):
            lines.append(dict(x=act["ts"], y=act["value"], label="actual", color="#1f2328", width=1.2))
        if len(fc):
            if "p99" in fc and fc["p99"].notna().any():
                bands.append(dict(x=fc["ts"], lo=fc["mean"], hi=fc["p99"], label="mean .. P99", color="#1f6feb",
                                  opacity=0.12))
            if "p90" in fc and fc["p90"].notna().any():
                bands.append(dict(x=fc["ts"], lo=fc["mean"], hi=fc["p90"], label="mean .. P90", color="#1f6feb",
                                  opacity=0.22))
            lines.append(dict(x=fc["ts"], y=fc["mean"], label="forecast mean", color=PALETTE[0], width=1.6))
        out.append(f"<h3>{escape(p.label)}</h3>")
        if p.note:
            out.append(f'<p class="note">{escape(p.note)}</p>')
        out.append(time_chart(lines, bands, title=f"{p.label}: forecast vs actuals", vline=run_date,
                              vline_label="run date", css_class="chart forecast-chart"))
    return "".join(out)


def _components(data: ReportData) -> str:
    out, any_ = [], False
    for p in data.plots:
        c = p.components
        if c is None or len(c) == 0:
            continue
        any_ = True
        out.append(f"<h3>{escape(p.label)}</h3><div class=\"row\">")
        flat = []
        for i, (name, g) in enumerate(c.groupby("component", sort=True)):
            g = g.sort_values("ts")
            v = g["value"].to_numpy(float)
            if len(v) and np.nanmax(v) - np.nanmin(v) <= 1e-9 * max(abs(np.nanmax(v)), 1.0):
                flat.append(f"{name} = {fmt(float(v[0]))}")
                continue
            out.append(time_chart([dict(x=g["ts"], y=g["value"], label=name, color=PALETTE[i % len(PALETTE)])],
                                  title=name, width=360, height=170, css_class="chart component-chart",
                                  zero=False, legend=False))
        out.append("</div>")
        if flat:
            out.append(f'<p class="muted">Constant over these days (not drawn): {escape(", ".join(flat))}.</p>')
    if not any_:
        return ('<p class="muted">No components for the chosen series (the run wrote none, or their models '
                'have no named parts).</p>')
    return ('<p class="muted">Hourly means of each named part (forecast_components). The forecast is their product '
            '(multiplicative) or sum (additive), hour by hour.</p>' + "".join(out))


def _peaks(data: ReportData) -> str:
    pk = data.peaks
    if pk is None or len(pk) == 0:
        return '<p class="muted">No event peaks in this run (no upcoming event within the horizon).</p>'
    cols = [c for c in ("service", "region", "metric", "event", "event_start", "peak_p50", "peak_p90", "peak_p99",
                        "peak_ts", "peak_to_mean") if c in pk.columns]
    pk = pk.sort_values([c for c in ("event_start", "region", "service") if c in pk.columns])
    return ('<p class="muted">Per event occurrence (whole window), soonest first: quantiles of the peak minute\'s '
            'load, its expected time and the peak-to-mean ratio (expected peak over the window\'s mean load). '
            'Service or region * is an aggregate level.</p>' + table(pk, "peaks-table", cols, max_rows=30))


def _accuracy(data: ReportData) -> str:
    acc = data.accuracy
    note = f'<p class="muted">{escape(data.accuracy_note)}</p>' if data.accuracy_note else ""
    if acc is None or len(acc) == 0:
        return note + '<p class="muted">The accuracy table has no rows for this run yet (backtests write it).</p>'
    summary, groups, metrics = accuracy_summary(acc)
    out = [note, f"<p>{len(acc):,} rows. Mean of each metric by {', '.join(groups) or 'run'}:</p>",
           table(summary, "accuracy-summary")]
    hists = []
    for m in [c for c in ("mase", "smape", "coverage_p90", "coverage_p99") if c in metrics][:4] or metrics[:2]:
        marker = {"mase": (1.0, "seasonal naive"), "coverage_p90": (0.9, "target"),
                  "coverage_p99": (0.99, "target")}.get(m, (None, ""))
        hists.append(histogram(acc[m], title=f"{m}: distribution over {acc[m].notna().sum():,} rows",
                               marker=marker[0], marker_label=marker[1]))
    out.append('<div class="row">' + "".join(hists) + "</div>")
    show = [c for c in acc.columns if c not in ("run_id", "run_date")]
    keycols = [c for c in _KEY if c in acc.columns]
    rows = acc.sort_values(keycols + [c for c in groups if c not in keycols]) if keycols else acc
    out.append("<h3>All rows</h3>" + table(rows, "accuracy-rows", show, max_rows=300))
    return "".join(out)


def _outliers(data: ReportData) -> str:
    fl = data.flags
    if fl is None or len(fl) == 0:
        return '<p class="muted">No outliers were excluded from this run\'s fits.</p>'
    fl = fl.copy()
    fl["minutes"] = ((pd.to_datetime(fl["end"], utc=True) - pd.to_datetime(fl["start"], utc=True))
                     / pd.Timedelta("1min")).astype(int) + 1
    by = fl.groupby("reason").agg(windows=("reason", "size"), minutes=("minutes", "sum")).reset_index()
    cols = [c for c in ("service", "region", "metric", "start", "end", "minutes", "reason", "score", "method", "team",
                        "note") if c in fl.columns]
    return ('<p class="muted">Windows left out of the fit; the actuals themselves are kept.</p>'
            + table(by, "outliers-by-reason") + table(fl.sort_values(["service", "start"]), "outliers-table", cols))


def _reconciliation(data: ReportData) -> str:
    levels = sorted(set(data.levels))
    if not [lv for lv in levels if lv != "series"]:
        return (f'<p class="note">This run has forecasts at level {", ".join(levels) or "(none)"} only: there are no '
                f'region or global forecasts to check against the sum of their children.</p>')
    rc = data.reconciliation
    if rc is None or len(rc) == 0:
        return '<p class="muted">No aggregate forecast has children in this run.</p>'
    worst = float(rc["max_rel_diff"].max())
    verdict = "coherent" if worst <= 1e-6 else "NOT coherent"
    return (f"<p>Each aggregate forecast against the sum of its children's means, per timestamp: "
            f"<b>{verdict}</b> (largest relative gap {worst:.3g}).</p>" + table(rc, "reconciliation-table"))


def _changes(data: ReportData) -> str:
    prev = data.previous_run
    if not data.explanations:
        if prev is None:
            return '<p class="muted">No earlier succeeded run to compare with.</p>'
        return '<p class="muted">No change explanation was asked for.</p>'
    out = [f'<p class="muted">Since run {escape(str(prev.get("run_id")) if prev else "?")} '
           f'({escape(str(prev.get("run_date")) if prev else "?")}). Parts add up to the change; see '
           f'<code>cloudtune explain</code> for the method.</p>' if prev else ""]
    for i, exp in enumerate(data.explanations):
        if isinstance(exp, str):
            out.append(f'<p class="note">{escape(exp)}</p>')
            continue
        rows = pd.DataFrame([dict(part=k, change=v, share_of_before=v / exp.value_b if exp.value_b else np.nan)
                             for k, v in exp.parts.items()])
        rows = pd.concat([rows, pd.DataFrame([dict(part="total", change=exp.total,
                                                   share_of_before=exp.total / exp.value_b if exp.value_b else np.nan)])])
        what = (f"peak of the mean forecast during {exp.event} {exp.window[0]:%Y-%m-%d}" if exp.quantity == "event_peak"
                else f"total of the mean forecast {exp.window[0]:%Y-%m-%d} .. {exp.window[1]:%Y-%m-%d}")
        out.append(f"<h3>{escape(exp.label)}: {escape(what)}</h3><p>{fmt(exp.value_b)} &rarr; {fmt(exp.value_a)}</p>")
        out.append(waterfall(exp.parts, exp.value_b, exp.value_a, title=f"{exp.label}: change by part",
                             labels=(f"run {exp.run_b}"[:18], f"run {exp.run_a}"[:18])))
        out.append(table(rows, f"change-{i}"))
        out.extend(f'<p class="note">{escape(n)}</p>' for n in exp.notes)
    return "".join(out)
