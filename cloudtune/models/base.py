"""Spec / fitted-result protocol shared by every model family.

A spec (`ModelSpec` subclass) holds settings only. `spec.fit(history, events=None, regressors=None, outliers=None)`
validates the history (see `cloudtune.models.grain`), masks outlier windows (never deletes them), fits the model's
core, calibrates quantiles on rolling-origin refits inside the history and returns a `FittedForecast` with
`forecast(horizon, grain)`, `components(horizon)`, `summary()` and `sample_paths(...)`.

A core is the fitted maths of one family: `parts(ts, regressors, events) -> {component: array}` and `combine`
("multiply" or "add"); the point forecast is the product (or sum) of the parts, so components reproduce it exactly.
"""
from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from cloudtune.errors import InputError, ModelError
from cloudtune.models.grain import grain_name, horizon_steps, parse_grain, regular_series
from cloudtune.models.quantiles import ErrorModel, aggregate, backtest_pairs, level_jumps
from cloudtune.timestamps import utc_index

log = logging.getLogger(__name__)


class Summary:
    """What drives a forecast: `str(summary)` is text, `summary.to_dict()` is a JSON-friendly dict."""

    def __init__(self, data: dict):
        self.data = data

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self.data, default=str))

    def __getitem__(self, key):
        return self.data[key]

    def __str__(self) -> str:
        lines = []
        for k, v in self.data.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                lines.append(f"{k}:")
                lines.extend("  - " + ", ".join(f"{a}={_fmt(b)}" for a, b in item.items()) for item in v)
            elif isinstance(v, dict):
                lines.append(f"{k}: " + ", ".join(f"{a}={_fmt(b)}" for a, b in v.items()))
            else:
                lines.append(f"{k}: {_fmt(v)}")
        return "\n".join(lines)

    __repr__ = __str__


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def history_series(history, what: str = "series") -> tuple[pd.Series, pd.Series]:
    """Accept a Series indexed by ts or a DataFrame with ts and value columns -> (ts, value) arrays."""
    if isinstance(history, pd.Series):
        return pd.Series(history.index), pd.Series(history.to_numpy())
    if isinstance(history, pd.DataFrame):
        missing = [c for c in ("ts", "value") if c not in history.columns]
        if missing:
            raise InputError(f"{what}: history needs columns ts and value; missing {', '.join(missing)}")
        return history["ts"].reset_index(drop=True), history["value"].reset_index(drop=True)
    raise InputError(f"{what}: history must be a pandas Series or a DataFrame with ts, value; "
                     f"got {type(history).__name__}")


def mask_outliers(y: pd.Series, outliers: pd.DataFrame | None) -> tuple[pd.Series, dict]:
    """NaN out flagged windows [start, end] in a copy of y; counts of masked points by reason."""
    if outliers is None or len(outliers) == 0:
        return y, {}
    missing = [c for c in ("start", "end") if c not in outliers.columns]
    if missing:
        raise InputError(f"outliers need columns start, end (and reason); missing {', '.join(missing)}")
    out = y.copy()
    counts: dict[str, int] = {}
    starts = pd.to_datetime(outliers["start"], utc=True)
    ends = pd.to_datetime(outliers["end"], utc=True)
    reasons = outliers["reason"] if "reason" in outliers.columns else pd.Series(["unspecified"] * len(outliers))
    idx = y.index
    for s, e, r in zip(starts, ends, reasons):
        sel = (idx >= s) & (idx <= e) & out.notna().to_numpy()
        n = int(sel.sum())
        if n:
            out[sel] = np.nan
            counts[str(r)] = counts.get(str(r), 0) + n
    return out, counts


class ModelSpec:
    """Base spec: subclasses set `name` and implement `_fit_core` and `min_history`."""

    name = "base"

    def __init__(self, settings=None, aggregation: str = "mean"):
        self.settings = settings
        self.aggregation = aggregation

    def min_history(self, step: pd.Timedelta) -> pd.Timedelta:
        return 2 * step

    def max_horizon(self) -> pd.Timedelta:
        return pd.Timedelta("750d")

    def _fit_core(self, y: pd.Series, step: pd.Timedelta, events=None, regressors=None, reuse=None):
        raise NotImplementedError

    def fit(self, history, events: pd.DataFrame | None = None, regressors: pd.DataFrame | None = None,
            outliers: pd.DataFrame | None = None, grain=None, key: str = "series") -> "FittedForecast":
        ts, values = history_series(history, key)
        y_raw, step = regular_series(ts, values, parse_grain(grain) if grain is not None else None, key)
        y, masked = mask_outliers(y_raw, outliers)
        n_obs = int(y.notna().sum())
        span = y.index[-1] + step - y.index[0]
        need = self.min_history(step)
        if span < need or n_obs < 2:
            raise ModelError(f"{key}: history too short for model '{self.name}': {span} "
                             f"({n_obs} points) < {need} needed")
        regs = _check_regressors(regressors, y.index, key)
        core = self._fit_core(y, step, events, regs)
        offset = 0.01 * max(float(np.nanmean(y.to_numpy())), 1e-9)
        calib = self._calibration(y, step, events, regs, core)
        pairs = backtest_pairs(calib["fit_predict"], y, step, calib["origins"], calib["horizon"], need,
                               drop=_unlearned_event_points(events, y.index[0]))
        if pairs:
            jumps, rate, share = np.zeros(0), 0.0, 0.0
            level = getattr(core, "level_", None)
            if level is not None and getattr(core, "mult_", False):  # jumps of the daily log level
                windows = [(origin, ts[-1] + step) for origin, ts, _, _ in pairs]
                jumps, rate, share = level_jumps(level.resid_, getattr(core, "days_", None), windows)
            errors = ErrorModel(pairs, offset, step, y.index[-1] + step, self.aggregation, jumps=jumps,
                                jump_rate=rate, jump_share=share)
        else:  # history too short to hold anything out: in-sample residuals, widened, and said so
            ok = y.notna().to_numpy()
            fitted = combine_parts(core.parts(y.index, regs, events), core.combine)
            pairs = [(y.index[0], y.index[ok], y.to_numpy()[ok], fitted[ok])]
            errors = ErrorModel(pairs, offset, step, y.index[-1] + step, self.aggregation,
                                source="in-sample (history too short to hold out)", inflate=1.5)
        return FittedForecast(self, core, y_raw, y, step, errors, regs, events, masked, key)

    def _calibration(self, y, step, events, regs, core) -> dict:
        def fit_predict(train, ts):
            c = self._fit_core(train, step, events, regs, reuse=core)
            return combine_parts(c.parts(ts, regs, events), c.combine)
        return dict(fit_predict=fit_predict, origins=4, horizon=pd.Timedelta("7d"))


def _unlearned_event_points(events, history_start=None):
    """For calibration refits: a `drop(origin, ts)` marking window points inside an occurrence (ramp and decay
    included) of an event with no occurrence complete before the origin (and, given `history_start`, ending
    after it: an occurrence before the history was never seen by any fit). Such a refit has no learned effect
    for it, so the event's whole lift would count as a forecast error and, sampled anywhere, blow up the spread
    of every forecast; the final fit has learned it. None without events."""
    if events is None or len(events) == 0:
        return None
    ev = events.copy()
    ramp = pd.to_timedelta(ev["ramp_before"]) if "ramp_before" in ev else pd.Timedelta(0)
    decay = pd.to_timedelta(ev["decay_after"]) if "decay_after" in ev else pd.Timedelta(0)
    lo = pd.to_datetime(ev["start"], utc=True) - ramp
    hi = pd.to_datetime(ev["end"], utc=True) + decay
    names = ev["name"].to_numpy()
    seen = (hi > pd.Timestamp(history_start)).to_numpy() if history_start is not None else np.ones(len(ev), bool)

    def drop(origin, ts):
        done = set(names[(hi <= origin).to_numpy() & seen])
        mask = np.zeros(len(ts), bool)
        for name, a, b in zip(names, lo, hi):
            if name not in done and b > ts[0] and a <= ts[-1]:
                mask |= (ts >= a) & (ts < b)
        return mask
    return drop


def combine_parts(parts: dict, how: str) -> np.ndarray:
    arrs = list(parts.values())
    if how == "multiply":
        out = np.ones_like(arrs[0], dtype=float)
        for a in arrs:
            out = out * a
    else:
        out = np.zeros_like(arrs[0], dtype=float)
        for a in arrs:
            out = out + a
    return out


def _check_regressors(regressors, index: pd.DatetimeIndex, key: str) -> pd.DataFrame | None:
    if regressors is None:
        return None
    if not isinstance(regressors, pd.DataFrame):
        raise InputError(f"{key}: regressors must be a DataFrame indexed by ts (or with a ts column)")
    r = regressors.set_index("ts") if "ts" in regressors.columns else regressors
    r = r.copy()
    r.index = pd.DatetimeIndex(pd.to_datetime(r.index, utc=True))
    r = r.sort_index()
    if r.index.has_duplicates:
        raise InputError(f"{key}: regressors have duplicate timestamps")
    reserved = {"trend", "daily", "weekly", "yearly", "level_adjust", "mean", "ts"}
    clash = [c for c in r.columns if c in reserved]
    if clash:
        raise InputError(f"{key}: regressor name(s) {clash} are reserved; rename them")
    bad = [c for c in r.columns if not np.issubdtype(r[c].dtype, np.number) or not np.isfinite(r[c]).all()]
    if bad:
        raise InputError(f"{key}: regressor(s) {bad} must be finite numbers")
    return r.astype(float)


class FittedForecast:
    """A fitted model for one series. Built by `ModelSpec.fit`; read it, don't build it."""

    def __init__(self, spec, core, y_raw, y, step, errors, regressors, events, masked, key):
        self.spec = spec
        self.core_ = core
        self.history_ = y_raw
        self.fit_history_ = y
        self.step_ = step
        self.errors_ = errors
        self.regressors_ = regressors
        self.events_ = events
        self.masked_ = masked
        self.key = key
        self.end_ = y.index[-1] + step

    @property
    def model(self) -> str:
        return self.spec.name

    def future_index(self, horizon, grain=None) -> tuple[pd.DatetimeIndex, pd.Timedelta]:
        g = parse_grain(grain) if grain is not None else self.step_
        if g < self.step_:
            raise ModelError(f"{self.key}: grain {grain_name(g)} is finer than the history's grain "
                             f"{grain_name(self.step_)}; ask for {grain_name(self.step_)} or coarser")
        if g % self.step_ != pd.Timedelta(0) and g != pd.Timedelta("7d"):
            raise ModelError(f"{self.key}: grain {grain_name(g)} is not a multiple of {grain_name(self.step_)}")
        n = horizon_steps(horizon, g)
        total = n * g
        limit = self.spec.max_horizon()
        if total > limit:
            raise ModelError(f"{self.key}: horizon {total} is longer than model '{self.model}' supports "
                             f"({limit}); shorten it or use a coarser grain for long range")
        ts = pd.date_range(self.end_, self.end_ + total, freq=self.step_, inclusive="left")
        return ts, g

    def bucket_start(self, grain: pd.Timedelta) -> pd.Timestamp:
        """The first output-grain bucket start at or after the history's end: Monday 00:00 UTC for weeks,
        else the end rounded up to the grain (00:00 UTC for days)."""
        if grain == pd.Timedelta("7d"):
            day = self.end_.ceil("D")
            return day + pd.Timedelta(days=(7 - day.dayofweek) % 7)
        return self.end_.ceil(grain)

    def _check_reach(self, total: pd.Timedelta) -> None:
        limit = self.spec.max_horizon()
        if total > limit:
            raise ModelError(f"{self.key}: horizon {total} is longer than model '{self.model}' supports "
                             f"({limit}); shorten it or use a coarser grain for long range")

    def _resolve_regs(self, regressors):
        regs = self.regressors_ if regressors is None else _check_regressors(regressors, None, self.key)
        return regs

    def predict_native(self, ts: pd.DatetimeIndex, regressors=None, events=None) -> np.ndarray:
        ev = self.events_ if events is None else events
        return combine_parts(self.core_.parts(ts, self._resolve_regs(regressors), ev), self.core_.combine)

    def forecast(self, horizon="90d", grain=None, quantiles=(0.5, 0.9, 0.99), regressors=None,
                 events=None) -> pd.DataFrame:
        """ts, mean, one column per quantile (p50, p90, ...). `horizon`: Timedelta, '90d' or int steps of `grain`.
        A coarser `grain` aggregates the native forecast (mean or sum, per settings) over whole buckets only: the
        first bucket is the first one starting at or after the history's end (weeks start Monday 00:00 UTC, days
        at 00:00 UTC), and there are exactly horizon // grain of them. A history ending mid-week (mid-day) thus
        gives no partial first bucket whose sum would be low, and 104 weeks are 104 rows."""
        qs = _check_quantiles(quantiles)
        ts, g = self.future_index(horizon, grain)
        if g > self.step_:  # whole buckets only: from the first bucket start at or after the history's end
            first = self.bucket_start(g)
            ts = pd.date_range(first, first + len(ts) * self.step_, freq=self.step_, inclusive="left")
            self._check_reach(ts[-1] + self.step_ - self.end_)
        point = self.predict_native(ts, regressors, events)
        if g > self.step_:
            agg = aggregate(ts, point, g, self.spec.aggregation)
            labels, point = agg.index, agg.to_numpy()
        else:
            labels = ts
        point = np.maximum(point, 0.0)
        qv = self.errors_.quantiles(labels, point, g, qs)
        out = pd.DataFrame({"ts": labels, "mean": point})
        for j, q in enumerate(qs):
            out[quantile_column(q)] = qv[:, j]
        return out

    def components(self, horizon="1d", regressors=None, events=None) -> pd.DataFrame:
        """Per native timestamp: one column per component and `mean`; their product (multiplicative) or sum
        (additive) equals `mean` exactly. `horizon` may also be a DatetimeIndex (e.g. the history's)."""
        ts = horizon if isinstance(horizon, pd.DatetimeIndex) else self.future_index(horizon)[0]
        ev = self.events_ if events is None else events
        parts = self.core_.parts(ts, self._resolve_regs(regressors), ev)
        out = pd.DataFrame(parts, index=ts)
        out["mean"] = combine_parts(parts, self.core_.combine)
        out.index.name = "ts"
        out.attrs["combine"] = self.core_.combine
        return out

    def in_sample(self) -> pd.Series:
        """The fitted values at the history's timestamps (events included), e.g. for residual-based outliers."""
        return pd.Series(self.predict_native(self.history_.index), index=self.history_.index)

    def sample_paths(self, ts_or_horizon, n_paths: int = 1000, seed: int | None = None,
                     regressors=None, events=None) -> np.ndarray:
        """(n_paths, len(ts)) simulated future values at the native grain, non-negative: the point forecast times
        exp(error), errors drawn from this fit's out-of-sample errors with day-level and hourly-block structure
        (see `cloudtune.models.quantiles`). Use the max over a window of each path for peak quantiles."""
        return self.point_and_paths(ts_or_horizon, n_paths, seed, regressors, events)[1]

    def point_and_paths(self, ts_or_horizon, n_paths: int = 1000, seed: int | None = None,
                        regressors=None, events=None) -> tuple[np.ndarray, np.ndarray]:
        """(the non-negative point forecast, `sample_paths`) at the same timestamps, predicted once."""
        if isinstance(ts_or_horizon, pd.DatetimeIndex):
            ts = utc_index(ts_or_horizon)
        else:
            ts = self.future_index(ts_or_horizon)[0]
        point = np.maximum(self.predict_native(ts, regressors, events), 0.0)
        paths = self.errors_.sample_errors(ts, n_paths, seed, point)  # log errors, turned into values in place:
        c = self.errors_.offset  # an event's (n_paths, minutes) arrays are tens of MB, each temporary a pass
        np.exp(paths, out=paths)
        paths *= (point + c)[None, :]
        paths -= c
        np.maximum(paths, 0.0, out=paths)
        return point, paths

    def point_and_maxima(self, ts: pd.DatetimeIndex, windows: list, n_paths: int = 1000, seed: int | None = None,
                         regressors=None, events=None) -> tuple[np.ndarray, np.ndarray]:
        """(the point forecast at ts, (n_paths, len(windows)) maxima of each sample path over each window): the
        same numbers as `point_and_paths` and a max over each window's columns (up to rounding), at a fraction
        of the cost. windows: boolean masks over ts, e.g. an event's days."""
        ts = utc_index(ts)
        point = np.maximum(self.predict_native(ts, regressors, events), 0.0)
        return point, self.errors_.path_maxima(ts, point, windows, n_paths, seed)

    def summary(self, peaks: pd.DataFrame | None = None) -> Summary:
        """What drives the forecast. With events, `upcoming_event_peaks` lists the occurrences after the history
        (within a year) with their peak P50/P90 and time: from `peaks` when given (a `forecast_peaks` result
        with peak_p50 and peak_p90, to avoid drawing the paths twice), else drawn here (200 paths)."""
        d = {"model": self.model, "series": self.key, "grain": grain_name(self.step_),
             "history": f"{self.history_.index[0]} .. {self.end_} ({int(self.history_.notna().sum())} points, "
                        f"{int(self.history_.isna().sum())} missing)",
             "outliers_excluded": dict(self.masked_), "calibration": self.errors_.source}
        d.update(self.core_.describe())
        if self.events_ is not None and len(self.events_):
            d["upcoming_event_peaks"] = self._upcoming_peaks(peaks=peaks)
        return Summary(d)

    def _upcoming_peaks(self, within=pd.Timedelta("365d"), n_paths: int = 200, peaks=None) -> list[dict]:
        """Forecast peaks (P50/P90 of the window's peak minute, its expected time, peak-to-mean) of the event
        occurrences that start after the history and within `within`, from `cloudtune.peaks.forecast_peaks`.
        A failure there is reported in the list, never raised: the summary must not depend on it."""
        ev = self.events_
        try:
            start = pd.to_datetime(ev["start"], utc=True)
            upcoming = ev[(start >= self.end_) & (start < self.end_ + within)]
            upcoming = upcoming[pd.to_datetime(upcoming["start"], utc=True) < self.end_ + self.spec.max_horizon()]
            if upcoming.empty:
                return []
            if peaks is None:
                from cloudtune.peaks import forecast_peaks  # lazy: peaks imports the events package
                parts = str(self.key).split("/")
                key = tuple(parts) if len(parts) == 3 else ("", "", str(self.key))
                peaks = forecast_peaks(self, upcoming, quantiles=(0.5, 0.9), n_paths=n_paths, seed=0, key=key)
            whole = peaks[peaks["day"].isna()]
            starts = pd.to_datetime(upcoming["start"], utc=True)
            whole = whole[pd.to_datetime(whole["event_start"], utc=True).isin(starts)]
            return [dict(event=r.event, start=str(r.event_start), peak_p50=float(r.peak_p50),
                         peak_p90=float(r.peak_p90), peak_ts=str(r.peak_ts), peak_to_mean=float(r.peak_to_mean))
                    for r in whole.itertuples()]
        except Exception as exc:  # noqa: BLE001 - a partner module's failure must not break the summary
            log.warning("%s: upcoming event peaks failed: %s", self.key, exc)
            return [dict(error=f"{type(exc).__name__}: {exc}")]


def quantile_column(q: float) -> str:
    s = f"{q * 100:.10g}".replace(".", "_")
    return f"p{s}"


def _check_quantiles(quantiles) -> tuple:
    try:
        qs = tuple(float(q) for q in quantiles)
    except (TypeError, ValueError):
        raise InputError(f"quantiles must be numbers in (0, 1), got {quantiles!r}") from None
    if not qs or any(not 0 < q < 1 for q in qs):
        raise InputError(f"quantiles must be numbers in (0, 1), got {quantiles!r}")
    return tuple(sorted(set(qs)))
