"""Planning windows (each event occurrence, each week) and the peak minute of every series in each window.

`window_peaks` is the pandas reference for what cloudtune/spark/capacity.py aggregates in Spark: one row per
series and window with the maximum of each forecast column and the minute it falls on.
"""
from __future__ import annotations

import pandas as pd

from cloudtune.errors import InputError

LOADS = ("mean", "p50", "p90", "p99")
WINDOW_COLUMNS = ["region", "window_kind", "window", "event_start", "window_start", "window_end"]
PEAK_COLUMNS = ["service", "region", "metric", *WINDOW_COLUMNS[1:],
                *[f"peak_{q}" for q in LOADS], *[f"peak_ts_{q}" for q in LOADS]]


def event_windows(calendar: pd.DataFrame, horizons: pd.DataFrame) -> pd.DataFrame:
    """Occurrences whose window [start - ramp_before, end + decay_after) overlaps a region's forecast horizon.

    horizons: region, first_ts, last_ts (the forecast's first and last minute in that region)."""
    rows = []
    for h in horizons.itertuples(index=False):
        cal = calendar[(calendar["region"] == h.region) | (calendar["region"] == "global")]
        for occ in cal.itertuples(index=False):
            start, end = occ.start - _span(occ.ramp_before), occ.end + _span(occ.decay_after)
            if start <= h.last_ts and end > h.first_ts:
                rows.append((h.region, "event", occ.name, occ.start, start, end))
    return _frame(rows)


def week_windows(horizons: pd.DataFrame) -> pd.DataFrame:
    """Monday-to-Monday UTC weeks that a region's forecast horizon touches (the first and last may be partial)."""
    rows = []
    for h in horizons.itertuples(index=False):
        monday = pd.Timestamp(h.first_ts).normalize() - pd.Timedelta(days=pd.Timestamp(h.first_ts).dayofweek)
        while monday <= h.last_ts:
            rows.append((h.region, "week", "week", pd.NaT, monday, monday + pd.Timedelta(days=7)))
            monday += pd.Timedelta(days=7)
    return _frame(rows)


def _frame(rows) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=WINDOW_COLUMNS)
    for col in ("event_start", "window_start", "window_end"):
        out[col] = pd.to_datetime(out[col], utc=True)
    return out


def window_peaks(minutes: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """Per series and window: the maximum of mean/p50/p90/p99 over the window's minutes and when it happens."""
    missing = [c for c in ("service", "region", "metric", "ts", *LOADS) if c not in minutes.columns]
    if missing:
        raise InputError(f"forecast minutes need columns service, region, metric, ts, {', '.join(LOADS)}; "
                         f"missing {', '.join(missing)}")
    parts = []
    for w in windows.itertuples(index=False):
        sel = minutes[(minutes["region"] == w.region) & (minutes["ts"] >= w.window_start)
                      & (minutes["ts"] < w.window_end)]
        if sel.empty:
            continue
        for (service, metric), g in sel.groupby(["service", "metric"], sort=True):
            row = dict(service=service, region=w.region, metric=metric, window_kind=w.window_kind,
                       window=w.window, event_start=w.event_start, window_start=w.window_start,
                       window_end=w.window_end)
            for q in LOADS:
                at = g[q].idxmax()
                row[f"peak_{q}"], row[f"peak_ts_{q}"] = float(g.at[at, q]), g.at[at, "ts"]
            parts.append(row)
    return pd.DataFrame(parts, columns=PEAK_COLUMNS)


def with_event_peaks(peaks: pd.DataFrame, event_peaks: pd.DataFrame | None) -> pd.DataFrame:
    """Raise an event window's p50/p90/p99 to the forecast run's quantiles of the window maximum (event_peaks).

    A quantile of the maximum over many minutes is above the maximum of pointwise quantiles; where the run
    computed it, sizing uses it. `source_<q>` says which one each peak came from."""
    out = peaks.copy()
    for q in LOADS:
        out[f"source_{q}"] = "forecasts"
    if event_peaks is None or event_peaks.empty or out.empty:
        return out
    keys = ["service", "region", "metric", "event", "event_start"]
    ep = event_peaks.assign(event_start=pd.to_datetime(event_peaks["event_start"], utc=True),
                            peak_ts=pd.to_datetime(event_peaks["peak_ts"], utc=True))
    # The whole-occurrence row (day null) and the per-day rows: the largest of them is the occurrence's peak.
    ep = ep.sort_values("peak_p99").groupby(keys, as_index=False).agg(
        ep_p50=("peak_p50", "max"), ep_p90=("peak_p90", "max"), ep_p99=("peak_p99", "max"), ep_ts=("peak_ts", "last"))
    out = out.merge(ep.rename(columns={"event": "window"}), how="left",
                    on=["service", "region", "metric", "window", "event_start"])
    for q in ("p50", "p90", "p99"):
        higher = (out["window_kind"] == "event") & out[f"ep_{q}"].notna() & (out[f"ep_{q}"] > out[f"peak_{q}"])
        out.loc[higher, f"peak_{q}"] = out.loc[higher, f"ep_{q}"]
        out.loc[higher, f"peak_ts_{q}"] = out.loc[higher, "ep_ts"]
        out.loc[higher, f"source_{q}"] = "event_peaks"
    return out.drop(columns=[c for c in out.columns if c.startswith("ep_")])


def _span(value) -> pd.Timedelta:
    """A ramp or decay; missing (NaT in a hand-built calendar) means none."""
    return pd.Timedelta(0) if pd.isna(value) else pd.Timedelta(value)
