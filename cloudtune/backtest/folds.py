"""The folds of one series (or hierarchy node): for each origin and each configured model, fit on the history
before the origin, forecast the horizon, and score it per horizon bucket.

`backtest_node` is the one function both paths run: the pandas path loops over nodes, the Spark job maps it over
groups with applyInPandas. It returns one row per (model, origin, bucket) holding the SUM_COLUMNS of
`cloudtune.backtest.metrics` (so folds aggregate exactly into series, team and level figures) and the metrics.
Models answer through `fit_with_fallback` with the model under test as the default, as the daily run would: the row
says which model answered (`answered_by`), with `status` ok / fallback / failed and the reason. No fold is dropped.
"""
from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from cloudtune.backtest.metrics import QUANTILES, SUM_COLUMNS, metrics_from_sums, naive_scale, point_sums, \
    quantile_name, season_steps
from cloudtune.backtest.peaks import peak_sums
from cloudtune.backtest.settings import BacktestSettings
from cloudtune.errors import CloudTuneError, InputError
from cloudtune.models.grain import regular_series
from cloudtune.models.selection import fit_with_fallback
from cloudtune.models.settings import ModelSettings

log = logging.getLogger(__name__)
KEYS = ["service", "region", "metric"]
ALL = "all"  # the bucket covering the whole horizon
FOLD_COLUMNS = [*KEYS, "level", "model", "answered_by", "status", "reason", "origin", "horizon_bucket",
                "windows", "fallback_windows", "failed_windows", *SUM_COLUMNS]


def origins_for(start: pd.Timestamp, end: pd.Timestamp, settings: BacktestSettings) -> list[pd.Timestamp]:
    """Origins (oldest first) for a series observed over [start, end): explicit cutoff dates, or the last
    `cutoffs` multiples of `step` that leave a whole horizon before `end`. An origin needs `min_train` of history
    before it and at least one point after it."""
    horizon, step = pd.Timedelta(settings.horizon), pd.Timedelta(settings.step)
    if settings.cutoff_dates:
        candidates = sorted(_utc(d) for d in settings.cutoff_dates)
    else:
        last = end - horizon
        last = last.floor(step) if step <= pd.Timedelta("1d") else last
        candidates = [last - k * step for k in range(settings.cutoffs - 1, -1, -1)]
    return [o for o in candidates if o - start >= pd.Timedelta(settings.min_train) and o < end]


def _utc(value) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def backtest_node(rows: pd.DataFrame, key: tuple, level: str, settings: BacktestSettings, model: ModelSettings,
                  events: pd.DataFrame | None = None) -> pd.DataFrame:
    """rows: one node's actuals (ts, value). key: (service, region, metric), '*' for a summed part of the key.
    events: the calendar that applies to the node (used by the cloudtune model and for per-event peak errors)."""
    label = "/".join(key)
    y, step = regular_series(rows["ts"], rows["value"], what=label)
    end = y.index[-1] + step
    out = []
    for origin in origins_for(y.index[0], end, settings):
        train = y[(y.index < origin) & (y.index >= origin - pd.Timedelta(days=settings.history_days))]
        test = y[(y.index >= origin) & (y.index < origin + pd.Timedelta(settings.horizon))].dropna()
        if test.empty or train.notna().sum() < 2:
            continue
        scale = naive_scale(train.to_numpy(), season_steps(step, len(train)))
        history = pd.DataFrame({"ts": train.index, "value": train.to_numpy()}).dropna()
        for name in settings.models:
            out.extend(_score_model(name, history, test, origin, step, scale, key, level, settings, model, events))
    if not out:
        return pd.DataFrame(columns=FOLD_COLUMNS + list(metrics_from_sums(pd.DataFrame(columns=SUM_COLUMNS))))
    folds = pd.DataFrame(out)[FOLD_COLUMNS]
    return pd.concat([folds, metrics_from_sums(folds)], axis=1)


def _score_model(name, history, test, origin, step, scale, key, level, settings, model, events) -> list[dict]:
    base = dict(zip(KEYS, key), level=level, model=name, origin=origin, windows=1)
    only = dataclasses.replace(model, default=name, overrides=[])
    try:
        fitted, report = fit_with_fallback(history, key, only, events if events is not None and len(events) else None)
        if fitted is not None:
            n_steps = int(np.ceil((origin + pd.Timedelta(settings.horizon) - fitted.end_) / step))
            own_events = events if report["model"] == "cloudtune" else None
            fc = fitted.forecast(n_steps, quantiles=QUANTILES, events=own_events).set_index("ts").reindex(test.index)
    except InputError as exc:  # bad data no model can answer: say which node and fold
        raise InputError(f"backtest {'/'.join(key)} ({level}) origin {origin}: {exc}") from None
    except (CloudTuneError, ValueError, np.linalg.LinAlgError) as exc:
        log.debug("backtest %s %s failed", key, name, exc_info=True)
        fitted, report = None, dict(model="none", status="failed", reason=f"{type(exc).__name__}: {exc}")
    base.update(answered_by=report["model"], status=report["status"], reason=report["reason"] or None,
                fallback_windows=int(report["status"] == "fallback"), failed_windows=int(report["status"] == "failed"))
    rows = []
    for bucket, lo, hi in [(ALL, pd.Timedelta(0), pd.Timedelta(settings.horizon)), *settings.bucket_edges()]:
        offset = test.index - origin
        sel = np.asarray((offset >= lo) & (offset < hi))
        if not sel.any():
            continue
        if fitted is None:
            sums = {c: 0 for c in SUM_COLUMNS}
        else:
            ts, actual = test.index[sel], test.to_numpy()[sel]
            mean = fc["mean"].to_numpy()[sel]
            qs = {q: fc[quantile_name(q)].to_numpy()[sel] for q in QUANTILES}
            sums = {**point_sums(actual, mean, qs, scale), **peak_sums(ts, actual, mean, origin, events)}
        rows.append({**base, "horizon_bucket": bucket, **sums})
    return rows
