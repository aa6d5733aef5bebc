"""One series during one event occurrence: which minutes broke P90/P99, and how the event is going so far.

A minute is a breach when its actual is strictly above the forecast's P90 (severity p90) or above its P99
(severity p99; such a minute is not also counted as a p90 row). Minutes without an actual (not ingested yet) or
without a forecast are not scored; the summary says how many minutes were expected and how many were tracked.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.errors import InputError, shorten

KEYS = ["service", "region", "metric"]
BREACH_COLUMNS = [*KEYS, "ts", "actual", "mean", "p90", "p99", "severity", "excess"]
SUMMARY_COLUMNS = [*KEYS, "minutes_expected", "minutes_tracked", "actual_peak", "actual_peak_ts", "forecast_peak",
                   "forecast_peak_ts", "actual_total", "forecast_total", "cumulative_error", "cumulative_error_pct",
                   "minutes_above_p90", "minutes_above_p99"]


def _utc(value, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: cannot read timestamp {value!r}; use ISO 8601 such as 2025-12-01T05:00Z") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def find_occurrence(calendar: pd.DataFrame, name: str, region: str | None = None, start=None,
                    now=None) -> dict:
    """The occurrence of event `name` to track: the one starting on `start` (a date or a timestamp) when given,
    else the latest one that has started by `now` (in progress, or the most recent). Returns name, start, end,
    regions (the regions it applies in, limited to `region` when given). Errors list the known names,
    regions or occurrences."""
    if calendar is None or len(calendar) == 0:
        raise InputError("the event calendar is empty: add events to conf/events/*.yaml")
    known = sorted(set(calendar["name"]))
    if name not in known:
        raise InputError(f"unknown event {name!r}; known events: {shorten(known, 20)}")
    ev = calendar[calendar["name"] == name]
    if region is not None:
        regions = sorted(set(ev["region"]))
        if region not in regions and "global" not in regions:
            raise InputError(f"event {name!r} does not apply in region {region!r}; it applies in: "
                             f"{', '.join(regions)}")
        ev = ev[(ev["region"] == region) | (ev["region"] == "global")]
    starts = pd.to_datetime(ev["start"], utc=True)
    listed = ", ".join(sorted({f"{s:%Y-%m-%dT%H:%MZ}" for s in starts}))
    if start is not None:
        want = _utc(start, "--start")
        is_date = isinstance(start, str) and len(start.strip()) == 10
        hit = ev[(starts.dt.floor("D") == want.floor("D")) if is_date else (starts == want)]
        if hit.empty:
            raise InputError(f"event {name!r} has no occurrence starting {start}; occurrences: {listed}")
    else:
        now = _utc(now if now is not None else pd.Timestamp.now(tz="UTC"), "--now")
        begun = ev[starts <= now]
        if begun.empty:
            raise InputError(f"event {name!r} has not started by {now:%Y-%m-%dT%H:%MZ}; occurrences: {listed}. "
                             f"Pass --start to pick one (or --now to replay)")
        first = pd.to_datetime(begun["start"], utc=True).max()
        hit = begun[pd.to_datetime(begun["start"], utc=True) == first]
    row = hit.iloc[0]
    regions = sorted(set(hit["region"])) if region is None else [region]
    return dict(name=name, start=pd.Timestamp(row["start"]).tz_convert("UTC"),
                end=pd.Timestamp(row["end"]).tz_convert("UTC"), regions=regions)


def track_series(forecast: pd.DataFrame, actuals: pd.DataFrame, start, end, now=None,
                 key: tuple = ("", "", "")) -> tuple[pd.DataFrame, dict]:
    """forecast: ts, mean, p90, p99 over the occurrence [start, end) (the as-of run's rows); actuals: ts, value.
    Returns (breaches with BREACH_COLUMNS, summary dict with SUMMARY_COLUMNS) for minutes before `now`
    (default: all of the occurrence)."""
    start, end = _utc(start, "start"), _utc(end, "end")
    now = end if now is None else min(_utc(now, "now"), end)
    label = "/".join(map(str, key))
    missing = [c for c in ("ts", "mean", "p90", "p99") if c not in forecast.columns]
    if missing:
        raise InputError(f"{label}: forecast needs columns ts, mean, p90, p99; missing {', '.join(missing)}")
    fc = forecast.assign(ts=pd.to_datetime(forecast["ts"], utc=True))
    fc = fc[(fc["ts"] >= start) & (fc["ts"] < end)].sort_values("ts").drop_duplicates("ts")
    act = actuals.assign(ts=pd.to_datetime(actuals["ts"], utc=True))
    act = act[(act["ts"] >= start) & (act["ts"] < now)][["ts", "value"]].drop_duplicates("ts")
    both = fc[fc["ts"] < now].merge(act, on="ts", how="inner").rename(columns={"value": "actual"})
    a = both["actual"].to_numpy(float)
    over99 = a > both["p99"].to_numpy(float)
    over90 = a > both["p90"].to_numpy(float)
    hit = both[over90 | over99].copy()
    sev99 = (hit["actual"] > hit["p99"]).to_numpy()
    hit["severity"] = np.where(sev99, "p99", "p90")
    hit["excess"] = hit["actual"] / np.where(sev99, hit["p99"], hit["p90"]) - 1.0
    for k, v in zip(KEYS, key):
        hit[k] = v
    step = _step(fc["ts"])
    expected = int(max(0, -(-(now - start) // step))) if step is not None else 0
    s = dict(zip(KEYS, key))
    s.update(minutes_expected=expected, minutes_tracked=int(len(both)))
    if len(both):
        i = int(np.argmax(a))
        s.update(actual_peak=float(a[i]), actual_peak_ts=both["ts"].iloc[i])
    else:
        s.update(actual_peak=None, actual_peak_ts=None)
    if len(fc):
        j = int(np.argmax(fc["mean"].to_numpy(float)))
        s.update(forecast_peak=float(fc["mean"].iloc[j]), forecast_peak_ts=fc["ts"].iloc[j])
    else:
        s.update(forecast_peak=None, forecast_peak_ts=None)
    ftot, atot = float(both["mean"].sum()), float(a.sum())
    s.update(actual_total=atot, forecast_total=ftot, cumulative_error=atot - ftot,
             cumulative_error_pct=(atot - ftot) / ftot if ftot > 0 else None,
             minutes_above_p90=int(over90.sum()), minutes_above_p99=int(over99.sum()))
    return hit[BREACH_COLUMNS].reset_index(drop=True), s


def _step(ts: pd.Series) -> pd.Timedelta | None:
    if len(ts) < 2:
        return pd.Timedelta("1min") if len(ts) else None
    return pd.Series(ts).diff().dropna().min()


def breach_windows(breaches: pd.DataFrame, step: str = "1min") -> pd.DataFrame:
    """Contiguous runs of breached minutes per series: start, end (inclusive), minutes, worst severity,
    max excess. For the post-event report."""
    cols = [*KEYS, "start", "end", "minutes", "severity", "max_excess", "peak_actual"]
    if breaches is None or len(breaches) == 0:
        return pd.DataFrame(columns=cols)
    gap = pd.Timedelta(step)
    out = []
    for key, g in breaches.sort_values("ts").groupby(KEYS, sort=True):
        ts = pd.to_datetime(g["ts"], utc=True)
        run = (ts.diff() > gap).cumsum()  # steps at most one grain apart are one window
        for _, w in g.groupby(run.to_numpy()):
            out.append(dict(zip(KEYS, key), start=pd.to_datetime(w["ts"], utc=True).min(),
                            end=pd.to_datetime(w["ts"], utc=True).max(), minutes=len(w),
                            severity="p99" if (w["severity"] == "p99").any() else "p90",
                            max_excess=float(w["excess"].max()), peak_actual=float(w["actual"].max())))
    return pd.DataFrame(out, columns=cols)


def format_summary(summary: pd.DataFrame, event: dict, run_id: str, now) -> str:
    """The running summary printed by `cloudtune track`: one line per series, then the totals."""
    now = _utc(now, "now")
    status = "final" if now >= event["end"] else "live"
    lines = [f"{event['name']} {event['start']:%Y-%m-%dT%H:%MZ} .. {event['end']:%Y-%m-%dT%H:%MZ} "
             f"({status}, as of {min(now, event['end']):%Y-%m-%dT%H:%MZ}) against forecast run {run_id}"]
    if summary is None or len(summary) == 0:
        return "\n".join(lines + ["  no series tracked"])
    header = (f"  {'series':<34} {'peak so far':>12} {'fcst peak':>12} {'peak err':>9} {'cum err':>13} "
              f"{'cum err %':>9} {'>P90':>6} {'>P99':>6} {'tracked':>9}")
    lines.append(header)
    for r in summary.sort_values(KEYS).itertuples(index=False):
        label = f"{r.service}/{r.region}/{r.metric}"
        perr = (r.actual_peak / r.forecast_peak - 1) if _num(r.actual_peak) and _num(r.forecast_peak) else None
        lines.append(f"  {label:<34} {_f(r.actual_peak):>12} {_f(r.forecast_peak):>12} {_pct(perr):>9} "
                     f"{_f(r.cumulative_error):>13} {_pct(r.cumulative_error_pct):>9} {int(r.minutes_above_p90):>6} "
                     f"{int(r.minutes_above_p99):>6} {int(r.minutes_tracked):>4}/{int(r.minutes_expected):<4}")
    tot_f, tot_a = float(summary["forecast_total"].sum()), float(summary["actual_total"].sum())
    lines.append(f"  total: cumulative error {_f(tot_a - tot_f)} ({_pct((tot_a - tot_f) / tot_f if tot_f else None)}), "
                 f"{int(summary['minutes_above_p99'].sum())} series-minutes above P99, "
                 f"{int(summary['minutes_above_p90'].sum())} above P90")
    return "\n".join(lines)


def _num(v) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v))


def _f(v) -> str:
    return f"{v:,.0f}" if _num(v) else "-"


def _pct(v) -> str:
    return f"{100 * v:+.1f}%" if _num(v) else "-"
