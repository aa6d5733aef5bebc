"""Ground-truth tables of a simulated fleet, built from the series plans (small; components aside).

Definitions later tests rely on:
- seasonality: `*_amplitude` is (max - min) / 2 of the component's log-multiplier over its period, so the
  component ranges over exp(+-amplitude) around its geometric mean of 1 (max / min == exp(2 * amplitude));
  `daily_peak_hour_utc` is where the daily multiplier is largest, `weekly_peak_hour` the hour of the week
  (0 = Monday 00:00 UTC) where the weekly one is, `yearly_peak_day` the day of year (0 = 1 January).
- events: `lift` is the mean event multiplier over [start, end) (the occurrence itself, ramp and decay
  excluded; continuous-time mean of the shape). `peak_lift` is the largest multiplier and
  `peak_offset_minutes` its time after `start`. The shape is g(u) on relative time u = (t - start) /
  (end - start): `shape` plateau ('flat' 1, 'front_loaded' 1.5 - u, 'spike' 0.3) plus
  `spike_height` * x * exp(1 - x) with x = u / `spike_at`; multiplier = 1 + (lift - 1) * g(u) / mean(g).
  Ramp: 1 + (m(start) - 1) * v**2 over [start - ramp, start); decay: 1 + (m(end) - 1) * (1 - w)**2
  over [end, end + decay), v and w the relative position. Every occurrence of an event name has the same
  lift, shape and relative spike time on a series; `peak_offset_minutes` scales with the duration.
- outliers: the clean value over [start, end) is multiplied by `magnitude`.
- breaks: the trend's slope (d log(trend) / d day) changes from `slope_before` to `slope_after` at `ts`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.simulate.series import Grid, SeriesPlan, profiles

KEY = ["service", "region", "metric"]
_NS_PER_MIN = 60_000_000_000


def _frame(rows: list[dict], columns: list[str], times: tuple[str, ...] = ()) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=columns)
    for col in times:
        out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[ns, UTC]")
    return out


def _ts(minutes: float) -> pd.Timestamp:
    return pd.Timestamp(int(round(minutes * _NS_PER_MIN)), tz="UTC")


OUTLIER_COLUMNS = [*KEY, "kind", "start", "end", "duration_minutes", "magnitude"]


def outliers_table(plans: list[SeriesPlan], grid: Grid) -> pd.DataFrame:
    step = grid.step.value
    rows = [dict(service=p.service, region=p.region, metric=p.metric, kind=o.kind,
                 start=pd.Timestamp(grid.start.value + o.start * step, tz="UTC"),
                 end=pd.Timestamp(grid.start.value + o.end * step, tz="UTC"),
                 duration_minutes=(o.end - o.start) * grid.step_minutes, magnitude=o.magnitude)
            for p in plans for o in p.outliers]
    return _frame(rows, OUTLIER_COLUMNS, ("start", "end"))


BREAK_COLUMNS = [*KEY, "ts", "slope_before", "slope_after"]


def breaks_table(plans: list[SeriesPlan]) -> pd.DataFrame:
    rows = [dict(service=p.service, region=p.region, metric=p.metric, ts=b.ts, slope_before=b.slope_before,
                 slope_after=b.slope_after) for p in plans for b in p.breaks]
    return _frame(rows, BREAK_COLUMNS, ("ts",))


EVENT_COLUMNS = [*KEY, "name", "kind", "start", "end", "ramp_minutes", "decay_minutes", "duration_minutes",
                 "lift", "peak_lift", "peak_offset_minutes", "shape", "spike_height", "spike_at", "complete"]


def events_table(plans: list[SeriesPlan], grid: Grid) -> pd.DataFrame:
    t0, t1 = grid.t0, grid.t0 + grid.n * grid.step_minutes
    rows = []
    for p in plans:
        for e in p.effects:
            peak_u, peak_g = e.shape.peak()
            duration = e.end - e.start
            rows.append(dict(
                service=p.service, region=p.region, metric=p.metric, name=e.name, kind=e.kind,
                start=_ts(e.start), end=_ts(e.end), ramp_minutes=e.ramp, decay_minutes=e.decay,
                duration_minutes=duration, lift=e.lift,
                peak_lift=1.0 + (e.lift - 1.0) * peak_g / e.shape.mean, peak_offset_minutes=peak_u * duration,
                shape=e.shape.family, spike_height=e.shape.spike_height,
                spike_at=e.shape.spike_at if e.shape.spike_height > 0 else np.nan,
                complete=bool(e.window[0] >= t0 and e.window[1] <= t1),
            ))
    return _frame(rows, EVENT_COLUMNS, ("start", "end"))


SEASONALITY_COLUMNS = [*KEY, "daily_amplitude", "daily_peak_hour_utc", "weekly_amplitude", "weekly_peak_hour",
                       "yearly_amplitude", "yearly_peak_day"]


def seasonality_table(plans: list[SeriesPlan]) -> pd.DataFrame:
    rows = []
    for p in plans:
        daily, weekly = profiles(p.params)
        rows.append(dict(service=p.service, region=p.region, metric=p.metric,
                         daily_amplitude=p.params.daily_amplitude, daily_peak_hour_utc=daily.peak / 60.0,
                         weekly_amplitude=p.params.weekly_amplitude, weekly_peak_hour=weekly.peak / 60.0,
                         yearly_amplitude=p.params.yearly_amplitude, yearly_peak_day=p.params.yearly_peak_day))
    return _frame(rows, SEASONALITY_COLUMNS)


SERIES_COLUMNS = [*KEY, "level", "rate_per_minute", "slope", "noise_sigma", "ar_sigma", "missing_rate",
                  "n_steps", "n_missing", "n_outliers", "n_breaks", "n_events"]


def series_table(plans: list[SeriesPlan], grid: Grid) -> pd.DataFrame:
    rows = [dict(service=p.service, region=p.region, metric=p.metric, level=p.level, rate_per_minute=p.params.rate,
                 slope=p.params.slope, noise_sigma=p.params.noise_sigma, ar_sigma=p.params.ar_sigma,
                 missing_rate=p.params.missing_rate, n_steps=grid.n, n_missing=len(p.missing),
                 n_outliers=len(p.outliers), n_breaks=len(p.breaks), n_events=len(p.effects))
            for p in plans]
    return _frame(rows, SERIES_COLUMNS)
