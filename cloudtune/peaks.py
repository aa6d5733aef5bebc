"""Peak forecasts of upcoming events: quantiles of the window's maximum, its expected time, peak-to-mean.

Capacity is sized on the peak minute, and the P90 of a window's maximum is not the maximum of pointwise
P90s (that ignores that one path rarely sits at its P90 everywhere, and on a long window it is also too
low: the max of many noisy minutes is above any one minute's median). So we draw joint sample paths over
the window, take each path's maximum, then quantiles across paths.

    from cloudtune.peaks import forecast_peaks
    peaks = forecast_peaks(fitted, events_for_region(calendar, "us"), key=("checkout", "us", "orders"))

`fitted` is a fitted engine result with `point_and_maxima(ts, windows, n_paths, seed, events=...)` (the maxima
of the engine's calibrated sample paths over each day and the whole window, without drawing the paths), or a
forecast DataFrame (ts, mean, p50, p90, p99): then paths come from a Gaussian copula with AR(1) correlation in
time whose marginals match those pointwise quantiles (`paths_from_quantiles`).
Rows follow the Delta table `event_peaks` (schemas/forecasting.py) without the run columns: one row per
occurrence and UTC day, plus one for the whole occurrence with `day` null.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cloudtune.errors import InputError, ModelError

log = logging.getLogger(__name__)

KEY_COLUMNS = ["service", "region", "metric"]


def peak_columns(quantiles) -> list[str]:
    return [*KEY_COLUMNS, "event", "event_start", "day", *[_qcol(q) for q in quantiles], "peak_ts", "peak_to_mean"]


def _qcol(q: float) -> str:
    return "peak_p" + f"{q * 100:.10g}".replace(".", "_")


def forecast_peaks(fitted, events: pd.DataFrame, quantiles=(0.5, 0.9, 0.99), n_paths: int = 1000,
                   seed: int | None = 0, key=None, rho: float = 0.9) -> pd.DataFrame:
    """Peaks of every occurrence in `events` (already filtered to the series' region) that the forecast covers.

    fitted: an engine result with `point_and_maxima` (and `end_`: occurrences must start after the history), or a
      forecast DataFrame with ts, mean and p-columns (fallback: copula paths with AR(1) correlation `rho` per step).
    key: (service, region, metric) for the output rows; default from `fitted.key` when it reads 'a/b/c'.
    """
    qs = _quantiles(quantiles)
    events = _check_events(events)
    key = _key(fitted, key)
    rows = []
    for occ in events.itertuples(index=False):
        got = _occurrence_maxima(fitted, occ, n_paths, seed, rho)
        if got is not None:
            rows.extend(_rows(*got, occ.name, occ.start, qs, key))
    return pd.DataFrame(rows, columns=peak_columns(qs))


def occurrence_peaks(ts: pd.DatetimeIndex, mean: np.ndarray, paths: np.ndarray, event: str, start, end,
                     quantiles=(0.5, 0.9, 0.99), key=("", "", "")) -> list[dict]:
    """Rows for one occurrence from its timestamps, mean path and (n_paths, len(ts)) sample paths:
    one per UTC day of [start, end) that ts covers, then one for the whole occurrence (day None)."""
    ts = pd.DatetimeIndex(ts)
    mean = np.asarray(mean, dtype=float)
    paths = np.asarray(paths, dtype=float)
    if paths.ndim != 2 or paths.shape[1] != len(ts) or mean.shape != (len(ts),):
        raise InputError(f"event '{event}': paths must be (n_paths, {len(ts)}) and mean ({len(ts)},); "
                         f"got {paths.shape} and {mean.shape}")
    days, windows = occurrence_windows(ts, start, end)
    return _rows(ts, mean, days, windows, _window_maxima(paths, windows), event, start, _quantiles(quantiles), key)


def occurrence_windows(ts: pd.DatetimeIndex, start, end) -> tuple[list, list[np.ndarray]]:
    """The UTC days of [start, end) that ts covers, then None for the whole occurrence; and each one's boolean
    mask over ts (none when ts misses the occurrence)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    inside = np.asarray((ts >= start) & (ts < end))
    if not inside.any():
        return [], []
    days = ts.floor("D")
    labels = list(pd.unique(days[inside]))
    windows = [inside & np.asarray(days == day) for day in labels]
    return [pd.Timestamp(d).date() for d in labels] + [None], windows + [inside]


def _window_maxima(paths: np.ndarray, windows: list[np.ndarray]) -> np.ndarray:
    """(n_paths, len(windows)): each drawn path's maximum over each window (a boolean mask over its columns)."""
    if not windows:
        return np.zeros((len(paths), 0))
    return np.column_stack([paths[:, w].max(axis=1) for w in windows])


def _rows(ts, mean, days, windows, maxima, event, start, quantiles, key) -> list[dict]:
    return [_row(ts, mean, maxima[:, j], sel, event, pd.Timestamp(start), day, quantiles, key)
            for j, (day, sel) in enumerate(zip(days, windows))]


def _row(ts, mean, window_max, sel, event, start, day, quantiles, key) -> dict:
    qv = np.quantile(window_max, quantiles)
    qv = np.maximum.accumulate(qv)  # monotone in q even with ties
    m = mean[sel]
    window_mean = float(m.mean())
    row = dict(zip(KEY_COLUMNS, key), event=event, event_start=start, day=day)
    row.update({_qcol(q): float(v) for q, v in zip(quantiles, qv)})
    # The expected time is where the mean path peaks: stable, unlike the scattered argmax of noisy paths.
    row["peak_ts"] = ts[sel][int(np.argmax(m))]
    row["peak_to_mean"] = float(window_max.mean() / window_mean) if window_mean > 0 else float("nan")
    return row


def _occurrence_maxima(fitted, occ, n_paths, seed, rho):
    """(ts, mean, days, windows, (n_paths, windows) path maxima) of one occurrence, or None when the forecast
    does not cover it."""
    if hasattr(fitted, "point_and_maxima"):
        step = fitted.step_
        first = max(occ.start.ceil(step), fitted.end_)
        if first >= occ.end:
            log.debug("event %s at %s: not after the history, no peak forecast", occ.name, occ.start)
            return None
        ts = pd.date_range(first, occ.end, freq=step, inclusive="left")
        ev = pd.DataFrame([occ._asdict()]) if not hasattr(fitted, "events_") or fitted.events_ is None \
            else fitted.events_
        days, windows = occurrence_windows(ts, occ.start, occ.end)
        mean, maxima = fitted.point_and_maxima(ts, windows, n_paths=n_paths, seed=seed, events=ev)
        return ts, mean, days, windows, maxima
    if isinstance(fitted, pd.DataFrame):
        f = fitted.set_index("ts") if "ts" in fitted.columns else fitted
        f = f[(f.index >= occ.start) & (f.index < occ.end)]
        if f.empty:
            return None
        qcols = {float(c[1:].replace("_", ".")) / 100: c for c in f.columns if c.startswith("p") and c[1:2].isdigit()}
        mean = f["mean"].to_numpy(float)
        paths = paths_from_quantiles(mean, {q: f[c].to_numpy(float) for q, c in qcols.items()}, n_paths, seed, rho)
        ts = pd.DatetimeIndex(f.index)
        days, windows = occurrence_windows(ts, occ.start, occ.end)
        return ts, mean, days, windows, _window_maxima(paths, windows)
    raise InputError("forecast_peaks: `fitted` must be a fitted model with point_and_maxima or a forecast DataFrame "
                     f"with ts, mean and p-columns; got {type(fitted).__name__}")


def paths_from_quantiles(mean: np.ndarray, quantiles: dict[float, np.ndarray], n_paths: int = 1000,
                         seed: int | None = 0, rho: float = 0.9) -> np.ndarray:
    """Fallback sample paths: a Gaussian copula with AR(1) correlation `rho` per step whose marginal at each
    time passes through the given pointwise quantiles (log-linear between them in normal scores; the lower
    half mirrors the upper one when no lower quantile is given). Without quantiles: the mean itself."""
    mean = np.asarray(mean, dtype=float)
    if not quantiles:
        return np.repeat(mean[None, :], n_paths, axis=0)
    if not 0 <= rho < 1:
        raise InputError(f"rho must be in [0, 1), got {rho}")
    qs = sorted(quantiles)
    from scipy.stats import norm  # here: half a second to import, for the fallback paths only

    z_known = norm.ppf(qs)
    floor = 1e-9 * max(float(np.nanmax(mean)), 1.0)
    logq = np.log(np.maximum(np.vstack([np.asarray(quantiles[q], float) for q in qs]), floor))  # (k, n)
    if 0.5 not in quantiles:  # anchor the median at the mean when it is not given
        z_known = np.append(z_known, 0.0)
        logq = np.vstack([logq, np.log(np.maximum(mean, floor))])
    order = np.argsort(z_known)
    z_known, logq = z_known[order], logq[order]
    if z_known[0] >= 0:  # mirror the upper tail below the median
        mid = logq[z_known == 0][0] if (z_known == 0).any() else logq[0]
        up = z_known > 0
        z_known = np.concatenate([-z_known[up][::-1], z_known])
        logq = np.vstack([2 * mid - logq[up][::-1], logq])
    rng = np.random.default_rng(seed)
    n = len(mean)
    shocks = rng.standard_normal((n_paths, n))
    z = np.empty_like(shocks)
    z[:, 0] = shocks[:, 0]
    scale = np.sqrt(1 - rho**2)
    for i in range(1, n):
        z[:, i] = rho * z[:, i - 1] + scale * shocks[:, i]
    out = np.empty_like(z)
    for i in range(n):  # piecewise-linear in normal score, extended linearly beyond the outer quantiles
        zk, lk = z_known, logq[:, i]
        inner = np.interp(z[:, i], zk, lk)
        lo_slope = (lk[1] - lk[0]) / (zk[1] - zk[0]) if len(zk) > 1 else 0.0
        hi_slope = (lk[-1] - lk[-2]) / (zk[-1] - zk[-2]) if len(zk) > 1 else 0.0
        inner = np.where(z[:, i] < zk[0], lk[0] + lo_slope * (z[:, i] - zk[0]), inner)
        inner = np.where(z[:, i] > zk[-1], lk[-1] + hi_slope * (z[:, i] - zk[-1]), inner)
        out[:, i] = np.exp(inner)
    return out


def _quantiles(quantiles) -> tuple:
    try:
        qs = tuple(sorted({float(q) for q in quantiles}))
    except (TypeError, ValueError):
        raise InputError(f"quantiles must be numbers in (0, 1), got {quantiles!r}") from None
    if not qs or any(not 0 < q < 1 for q in qs):
        raise InputError(f"quantiles must be numbers in (0, 1), got {quantiles!r}")
    return qs


def _check_events(events) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise InputError(f"forecast_peaks: events must be a calendar DataFrame, got {type(events).__name__}")
    from cloudtune.events.calendar import normalize_events
    if "region" not in events.columns:
        events = events.assign(region="global")
    return normalize_events(events, source="forecast_peaks events")


def _key(fitted, key) -> tuple:
    if key is not None:
        key = tuple(key)
        if len(key) != 3:
            raise InputError(f"key must be (service, region, metric), got {key!r}")
        return key
    text = str(getattr(fitted, "key", ""))
    parts = text.split("/")
    if len(parts) == 3:
        return tuple(parts)
    if isinstance(fitted, pd.DataFrame) and set(KEY_COLUMNS) <= set(fitted.columns) and len(fitted):
        return tuple(str(fitted[c].iloc[0]) for c in KEY_COLUMNS)
    raise ModelError("forecast_peaks: cannot tell the series; pass key=(service, region, metric)")
