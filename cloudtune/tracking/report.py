"""The post-event report: how an event went against the forecast in force before it, as Markdown."""
from __future__ import annotations

import pandas as pd

from cloudtune.tracking.live import KEYS, _f, _num, _pct, breach_windows


def post_event_markdown(event: dict, run_id: str, run_date, summary: pd.DataFrame, breaches: pd.DataFrame,
                        peaks: pd.DataFrame | None = None, max_windows: int = 10, step: str = "1min") -> str:
    """event: find_occurrence's dict; summary: rows with SUMMARY_COLUMNS; breaches: BREACH_COLUMNS;
    peaks: optional event_peaks rows (key, peak_p50, peak_p90, peak_p99) of the occurrence as a whole;
    step: the forecasts' grain (breaches one step apart form one window)."""
    title = f"{event['name']} {event['start']:%Y-%m-%d} ({', '.join(event['regions'])})"
    out = [f"# Post-event report: {title}", "",
           f"- Occurrence: {event['start']:%Y-%m-%dT%H:%MZ} .. {event['end']:%Y-%m-%dT%H:%MZ} (UTC, end exclusive)",
           f"- Forecast in force: run `{run_id}` (run date {run_date}), the latest succeeded run on or before the "
           f"event's start date",
           "- A breach is a minute whose actual load is above the forecast's P90 (or P99). Expected about 10% "
           "and 1% of minutes when the forecast is calibrated.",
           *([f"- The forecasts' grain is {step}: counts below are of {step} steps, not minutes."]
             if pd.Timedelta(step) != pd.Timedelta("1min") else []), ""]
    if summary is None or len(summary) == 0:
        return "\n".join(out + ["No series had both actuals and a forecast for this occurrence.", ""])
    s = summary.copy()
    if peaks is not None and len(peaks):
        s = s.merge(peaks[[*KEYS, "peak_p50", "peak_p90"]], on=KEYS, how="left")
    else:
        s["peak_p50"], s["peak_p90"] = None, None
    out += ["## Peaks and totals", "",
            "| series | actual peak | at (UTC) | forecast peak (mean) | peak P50 | peak P90 | peak error | "
            "cumulative error | cum. error % | min > P90 | min > P99 | minutes tracked |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in s.sort_values(KEYS).itertuples(index=False):
        at = f"{pd.Timestamp(r.actual_peak_ts):%m-%d %H:%M}" if _num(r.actual_peak) else "-"
        perr = r.actual_peak / r.forecast_peak - 1 if _num(r.actual_peak) and _num(r.forecast_peak) else None
        out.append(f"| {r.service}/{r.region}/{r.metric} | {_f(r.actual_peak)} | {at} | {_f(r.forecast_peak)} | "
                   f"{_f(r.peak_p50)} | {_f(r.peak_p90)} | {_pct(perr)} | {_f(r.cumulative_error)} | "
                   f"{_pct(r.cumulative_error_pct)} | {int(r.minutes_above_p90)} | {int(r.minutes_above_p99)} | "
                   f"{int(r.minutes_tracked)} of {int(r.minutes_expected)} |")
    tracked = int(s["minutes_tracked"].sum())
    share90 = s["minutes_above_p90"].sum() / tracked if tracked else None
    share99 = s["minutes_above_p99"].sum() / tracked if tracked else None
    out += ["", f"Across {len(s)} series: {_pct(share90)} of tracked minutes above P90, {_pct(share99)} above P99.", ""]
    windows = breach_windows(breaches, step)
    out += ["## Longest breach windows", ""]
    if windows.empty:
        out += ["No minute was above P90.", ""]
    else:
        top = windows.sort_values(["minutes", "max_excess"], ascending=False).head(max_windows)
        out += ["| series | from (UTC) | to (UTC) | minutes | worst | max excess | peak actual |",
                "|---|---|---|---:|---|---:|---:|"]
        for w in top.itertuples(index=False):
            out.append(f"| {w.service}/{w.region}/{w.metric} | {w.start:%m-%d %H:%M} | {w.end:%m-%d %H:%M} | "
                       f"{w.minutes} | {w.severity} | {_pct(w.max_excess)} | {_f(w.peak_actual)} |")
        if len(windows) > max_windows:
            out.append(f"\n{len(windows) - max_windows} shorter windows not shown; all breached minutes are in the "
                       f"table event_breaches.")
        out.append("")
    return "\n".join(out)
