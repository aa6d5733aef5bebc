"""One series through a forecast run: flag outliers, fit (with fallback), forecast, explain, size the peaks.

Pure pandas. The Spark job maps `run_series` over groups; a notebook can call it on one series and get the
same numbers (a test checks the two agree).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cloudtune.config.pipeline import ForecastSettings
from cloudtune.errors import CloudTuneError
from cloudtune.models.grain import grain_name, parse_grain
from cloudtune.models.selection import fit_with_fallback
from cloudtune.models.settings import ModelSettings
from cloudtune.outliers.settings import OutlierSettings

log = logging.getLogger(__name__)
KEYS = ["service", "region", "metric"]
TABLE_QUANTILES = (0.5, 0.9, 0.99)  # the p50/p90/p99 columns of the forecasts table
RESIDUAL_GRAIN = "1h"  # of the in-sample residuals MinT weighs the nodes by


@dataclass
class SeriesResult:
    forecast: pd.DataFrame
    components: pd.DataFrame
    flags: pd.DataFrame
    peaks: pd.DataFrame
    report: dict
    residuals: pd.DataFrame = field(default_factory=pd.DataFrame)  # ts (RESIDUAL_GRAIN), residual: for MinT
    fitted: object = None  # the model that answered (None when the series failed)

    @property
    def summary(self) -> dict:
        """What drives the forecast (FittedForecast.summary, with the peaks drawn here); built when asked, since
        the Spark job does not keep it."""
        if self.fitted is None:
            return {}
        summary = self.fitted.summary(peaks=self.peaks) if len(self.peaks) else self.fitted.summary()
        return summary.to_dict()


def run_series(rows: pd.DataFrame, key: tuple, run: ForecastSettings, model: ModelSettings,
               outliers: OutlierSettings, events: pd.DataFrame | None) -> SeriesResult:
    """rows: one series' actuals (ts, value). events: the calendar already limited to the series' region."""
    from cloudtune.outliers import detect_series_outliers
    from cloudtune.peaks import forecast_peaks

    history = rows[["ts", "value"]].sort_values("ts")
    empty = SeriesResult(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {})
    flags = pd.DataFrame()
    try:
        if outliers.enabled:
            flags = detect_series_outliers(history, key, events=events, config=outliers)
        fitted, report = fit_with_fallback(history, key, model, events, None, flags if len(flags) else None)
        if fitted is None:
            empty.report, empty.flags = report, flags
            return empty
        own_events = events if report["model"] == "cloudtune" else None
        grain = max(parse_grain(run.grain), fitted.step_)  # an hourly series is forecast hourly, not failed
        fc = fitted.forecast(run.horizon, grain, TABLE_QUANTILES, events=own_events).assign(grain=grain_name(grain))
        comps = _components(fitted, run, own_events) if run.components else pd.DataFrame()
        peaks = pd.DataFrame()
        if run.peaks and own_events is not None and len(own_events):
            soon = own_events[pd.to_datetime(own_events["start"], utc=True) < fitted.end_ + pd.Timedelta(run.peaks_within)]
            peaks = forecast_peaks(fitted, soon, TABLE_QUANTILES, n_paths=run.peak_paths, seed=0, key=key)
        if grain >= pd.Timedelta("1d") and grain > fitted.step_:  # long range: the busiest step in each bucket
            fc["peak_to_mean"] = _peak_to_mean(fitted, fc["ts"], grain, own_events)
        return SeriesResult(fc, comps, flags, peaks, report, _residuals(fitted, run.residual_days), fitted)
    except Exception as exc:  # noqa: BLE001 - one series' failure is recorded, never a lost run or a silent gap
        if not isinstance(exc, CloudTuneError):
            log.warning("series %s failed", "/".join(key), exc_info=True)
        empty.report = dict(model="none", status="failed", reason=f"{type(exc).__name__}: {exc}")
        empty.flags = flags
        return empty


def _residuals(fitted, days: int) -> pd.DataFrame:
    """Hourly mean in-sample residuals over the last `days` (outlier windows left out): the base forecast errors
    whose covariance MinT reconciliation weighs the hierarchy's nodes by."""
    if days <= 0:
        return pd.DataFrame()
    y = fitted.fit_history_
    y = y[y.index >= y.index[-1] - pd.Timedelta(days=days)]
    resid = (y - fitted.predict_native(y.index)).resample(RESIDUAL_GRAIN).mean().dropna()
    return pd.DataFrame({"ts": resid.index, "residual": resid.to_numpy()})


def _peak_to_mean(fitted, starts: pd.Series, grain: pd.Timedelta, events) -> np.ndarray:
    """Per forecast bucket: its busiest native step over its mean, from the same point forecast the bucket
    averages, so a week's peak minute is the week's quantile times this ratio."""
    starts = pd.DatetimeIndex(starts)
    ts = pd.date_range(starts[0], starts[-1] + grain, freq=fitted.step_, inclusive="left")
    point = pd.Series(np.maximum(fitted.predict_native(ts, events=events), 0.0), index=ts)
    bucket = np.searchsorted(starts.asi8, ts.asi8, side="right") - 1
    by = point.groupby(bucket)
    mean, peak = by.mean().to_numpy(), by.max().to_numpy()
    return np.where(mean > 0, peak / np.where(mean > 0, mean, 1), 1.0)


def _components(fitted, run: ForecastSettings, events) -> pd.DataFrame:
    """Components at a coarser grain than the forecast, so the table explains without repeating every minute."""
    try:
        comps = fitted.components(run.components_horizon, events=events)
    except (AttributeError, CloudTuneError, NotImplementedError) as exc:
        log.debug("no components for %s: %s", fitted.key, exc)
        return pd.DataFrame()
    combine = comps.attrs.get("combine", "multiply")
    comps = comps.drop(columns=["mean"]).resample(pd.Timedelta(run.components_grain)).mean()
    long = comps.reset_index().melt(id_vars="ts", var_name="component", value_name="value")
    long["combine"] = "multiply" if combine in ("multiplicative", "multiply") else "add"
    long["grain"] = run.components_grain
    return long
