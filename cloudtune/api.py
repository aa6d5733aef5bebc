"""The one-call facade, also `cloudtune.forecast`: actuals in, one long forecast DataFrame out.

Example::

    from cloudtune.api import forecast
    out = forecast(actuals, "90d")                       # per-minute, 90 days, P50/P90/P99
    weekly = forecast(actuals, 104, grain="1w")          # 104 weekly steps
    fit_report(out)                                      # service, region, metric, model, status, reason
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from cloudtune.config.sections import config_section
from cloudtune.errors import CloudTuneError, InputError, shorten
from cloudtune.models.base import _check_quantiles, quantile_column
from cloudtune.models.selection import fit_with_fallback
from cloudtune.models.settings import ModelSettings

log = logging.getLogger(__name__)
KEYS = ["service", "region", "metric"]
REPORT_COLUMNS = KEYS + ["model", "status", "reason"]


def model_settings(config) -> ModelSettings:
    """A PipelineConfig (its `.model`), a ModelSettings, a path to a pipeline YAML, or None (defaults)."""
    return config_section(config, "model", ModelSettings)


def _events(events) -> pd.DataFrame | None:
    if events is None:
        return None
    from cloudtune.events import load_calendar, normalize_events
    if isinstance(events, (str, Path)):
        return load_calendar(events)
    if isinstance(events, pd.DataFrame):
        return normalize_events(events)
    raise InputError(f"events must be a calendar YAML path or folder, or a DataFrame; got {type(events).__name__}")


def _for_key(frame, key: dict):
    """Rows of an optional side table (regressors, outliers) that apply to one series: key columns it has must
    match; columns it lacks match everything."""
    if frame is None:
        return None
    sel = pd.Series(True, index=frame.index)
    for k, v in key.items():
        if k in frame.columns:
            sel &= frame[k].astype(str) == str(v)
    return frame[sel]


def forecast(actuals: pd.DataFrame, horizon="90d", grain=None, events=None, regressors=None,
             quantiles=(0.5, 0.9, 0.99), config=None, outliers=None, on_error: str = "raise") -> pd.DataFrame:
    """Forecast every (service, region, metric) series in `actuals`.

    horizon: a pd.Timedelta, a string such as '90d', or an int number of `grain` steps (104 with grain='1w').
    grain: output grain (1min 5min 15min 30min 1h 1d 1w); default: each series' own grain, inferred from its ts.
    events: a calendar path (file or folder) or a DataFrame with name, region, start, end; applied per region.
    regressors: DataFrame with ts, one column per named regressor, optionally service/region/metric to target
      series; values must cover the history and the horizon (the default model only).
    outliers: flags with start, end, reason (and optionally service/region/metric); flagged points are left out of
      the fit, never deleted; counts by reason are in each fitted summary.
    on_error: "raise" (default) raises input errors such as NaN values with the series in the message;
      "report" records them in the fit report with status failed and goes on (the Spark job uses this).

    Returns columns service, region, metric, ts, mean, p50, p90, p99 (one per quantile), model, and
    `result.attrs["fit_report"]`: one record per series with service, region, metric, model, status
    (ok / fallback / failed) and reason; `fit_report(result)` returns it as a DataFrame.
    """
    if not isinstance(actuals, pd.DataFrame):
        raise InputError(f"actuals must be a pandas DataFrame, got {type(actuals).__name__}")
    missing = [c for c in KEYS + ["ts", "value"] if c not in actuals.columns]
    if missing:
        raise InputError(f"actuals need columns service, region, metric, ts, value; missing {', '.join(missing)}")
    if on_error not in ("raise", "report"):
        raise InputError(f"on_error must be 'raise' or 'report', got {on_error!r}")
    qs = _check_quantiles(quantiles)
    settings = model_settings(config)
    cal = _events(events)
    qcols = [quantile_column(q) for q in qs]
    columns = KEYS + ["ts", "mean"] + qcols + ["model"]
    frames, report = [], []
    if len(actuals) == 0:
        raise InputError("actuals is empty: nothing to forecast")
    blank = actuals[KEYS].isna().any(axis=1) | (actuals[KEYS].astype(str).apply(lambda c: c.str.strip()) == "").any(axis=1)
    if blank.any():  # groupby would drop these rows, and a series would vanish without a report
        first = actuals.index[blank.to_numpy()][0]
        raise InputError(f"actuals has {int(blank.sum())} row(s) with an empty service, region or metric "
                         f"(first at index {first}); fill or drop them")
    for key, rows in actuals.groupby(KEYS, sort=True):
        kd = dict(zip(KEYS, key))
        ev = None
        if cal is not None:
            from cloudtune.events import events_for_region
            ev = events_for_region(cal, kd["region"])
            ev = ev if len(ev) else None
        regs = _for_key(regressors, kd)
        if regs is not None:
            regs = regs.drop(columns=[c for c in KEYS if c in regs.columns])
        flags = _for_key(outliers, kd)
        try:
            fitted, rep = fit_with_fallback(rows[["ts", "value"]], key, settings, ev, regs, flags)
            if fitted is not None:
                fc = fitted.forecast(horizon, grain, qs, regressors=regs if rep["model"] == "cloudtune" else None,
                                     events=ev if rep["model"] == "cloudtune" else None)
        except CloudTuneError as exc:
            if on_error == "raise":
                raise
            fitted, rep = None, dict(model="none", status="failed", reason=str(exc))
        report.append({**kd, **rep})
        if fitted is None:
            continue
        for k, v in kd.items():
            fc.insert(list(kd).index(k), k, v)
        fc["model"] = rep["model"]
        frames.append(fc[columns])
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    failed = [r for r in report if r["status"] == "failed"]
    if failed:
        log.warning("%d series failed: %s", len(failed), shorten("/".join(map(str, (r[k] for k in KEYS))) for r in failed))
    # Records, not a DataFrame: pandas compares attrs with == when printing or concatenating, which a DataFrame in
    # attrs breaks. `fit_report(result)` (or pd.DataFrame(result.attrs["fit_report"])) gives the table.
    out.attrs["fit_report"] = [{c: r[c] for c in REPORT_COLUMNS} for r in report]
    return out


def fit_report(result: pd.DataFrame) -> pd.DataFrame:
    """The per-series fit report of a `forecast` result: service, region, metric, model, status, reason."""
    return pd.DataFrame(result.attrs.get("fit_report", []), columns=REPORT_COLUMNS)
