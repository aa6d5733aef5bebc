"""Quantiles and sample paths from out-of-sample errors (rolling origin inside the history).

`backtest_pairs` refits a model at several origins inside the history and keeps (actual, forecast) over the
window after each origin. `ErrorModel` turns those pairs into quantiles of the log error
``log(actual + c) - log(forecast + c)`` (c = 1% of the mean level, so zeros are fine) by horizon bucket, at any
output grain (pairs are aggregated to the grain first). Buckets beyond the longest backtest window are
extrapolated with sqrt(horizon) growth, and the spread never shrinks with the horizon. Quantile values are
``(forecast + c) * exp(q) - c``, floored at 0, so they are non-negative.

`ErrorModel.sample_paths` draws correlated error paths: for each path and each day a day-level error is drawn from
one origin (the day-mean error at that horizon), and the within-day errors come from one-hour blocks of another
origin's errors at the same horizon (demeaned per day). Peaks over a window therefore see both a common level error
and realistic, autocorrelated minute noise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.models.grain import DAY, WEEK

BUCKET_EDGES_DAYS = np.array([0, 1, 2, 4, 7, 14, 28, 56, 112, 224, 448, 1e9])
MIN_ERRORS = 10


def bucket_labels(ts: pd.DatetimeIndex, grain: pd.Timedelta) -> pd.DatetimeIndex:
    """The start of the output-grain bucket each timestamp falls in (weeks start on Monday 00:00 UTC)."""
    if grain == WEEK:
        days = ts.floor("D")
        return days - pd.to_timedelta(days.dayofweek, unit="D")
    return ts.floor(grain)


def aggregate(ts: pd.DatetimeIndex, values: np.ndarray, grain: pd.Timedelta, how: str = "mean") -> pd.Series:
    s = pd.Series(values, index=bucket_labels(ts, grain))
    g = s.groupby(level=0)
    return g.sum() if how == "sum" else g.mean()


def backtest_pairs(fit_predict, y: pd.Series, step: pd.Timedelta, n_origins: int, horizon: pd.Timedelta,
                   min_train: pd.Timedelta) -> list[tuple]:
    """[(origin, ts, actual, forecast)] for origins inside the history; `fit_predict(train, ts) -> forecast`."""
    end = y.index[-1] + step
    span = end - y.index[0]
    min_train = max(min_train, span / 2)
    avail = span - min_train
    if avail < step:
        return []
    H = min(horizon, avail)
    spacing = max(step, H / n_origins)
    pairs = []
    for k in range(1, n_origins + 1):
        origin = (end - k * spacing).floor(step) if step < DAY else end - k * spacing
        if origin - y.index[0] < min_train:
            break
        train = y[y.index < origin]
        window = y[(y.index >= origin) & (y.index < origin + H)]
        ok = np.isfinite(window.to_numpy())
        if train.notna().sum() < 2 or ok.sum() == 0:
            continue
        try:
            pred = fit_predict(train, window.index)
        except Exception:  # a refit that cannot run on a shorter history just gives no pairs
            continue
        pairs.append((origin, window.index[ok], window.to_numpy()[ok], np.asarray(pred)[ok]))
    return pairs


class ErrorModel:
    """Out-of-sample log errors by horizon; fitted from backtest pairs (or in-sample residuals as a last resort)."""

    def __init__(self, pairs: list[tuple], offset: float, step: pd.Timedelta, end: pd.Timestamp,
                 how: str = "mean", source: str = "out-of-sample", inflate: float = 1.0):
        self.pairs = pairs
        self.offset = float(offset)
        self.step = step
        self.end = end
        self.how = how
        self.source = source
        self.inflate = inflate
        self._cache: dict = {}

    def _errors(self, grain: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
        """(horizon days, log error) for every pair point aggregated to `grain`."""
        hs, es = [], []
        for origin, ts, actual, pred in self.pairs:
            if grain > self.step:
                a = aggregate(ts, actual, grain, self.how)
                p = aggregate(ts, pred, grain, self.how)
                labels = a.index
                actual, pred = a.to_numpy(), p.to_numpy()
                right = labels + grain
            else:
                right = ts + self.step
            hs.append(np.asarray((right - origin) / DAY, dtype=float))
            es.append(np.log(np.maximum(actual, 0) + self.offset) - np.log(np.maximum(pred, 0) + self.offset))
        if not hs:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(hs), np.concatenate(es)

    def table(self, grain: pd.Timedelta, qs: tuple) -> np.ndarray:
        """(n_buckets, len(qs)) log-error quantiles, monotone in the horizon."""
        key = (grain, tuple(qs))
        if key in self._cache:
            return self._cache[key]
        h, e = self._errors(grain)
        if len(e) < MIN_ERRORS and grain > self.step:
            h, e = self._errors(self.step)
        nb = len(BUCKET_EDGES_DAYS) - 1
        mids = np.sqrt(np.maximum(BUCKET_EDGES_DAYS[:-1], 0.25) * np.minimum(BUCKET_EDGES_DAYS[1:], 2000))
        out = np.full((nb, len(qs)), np.nan)
        b = np.clip(np.searchsorted(BUCKET_EDGES_DAYS, h, side="right") - 1, 0, nb - 1)
        for i in range(nb):
            sel = e[b == i]
            if len(sel) >= MIN_ERRORS:
                out[i] = np.quantile(sel, qs)
        if np.isnan(out).all():
            spread = np.quantile(e, qs) if len(e) else np.zeros(len(qs))
            out[0] = spread
        last = 0
        for i in range(nb):  # fill forward with sqrt(horizon) growth around the median
            if np.isnan(out[i]).any():
                med = out[last]
                q50 = np.interp(0.5, qs, med) if len(qs) > 1 else 0.0
                out[i] = q50 + (med - q50) * np.sqrt(mids[i] / mids[last])
            else:
                last = i
        out = out * self.inflate
        qs_arr = np.asarray(qs)
        up, lo = qs_arr > 0.5, qs_arr < 0.5
        out[:, up] = np.maximum.accumulate(out[:, up], axis=0)
        out[:, lo] = np.minimum.accumulate(out[:, lo], axis=0)
        out = np.sort(out, axis=1)  # quantiles never cross
        self._cache[key] = out
        return out

    def quantiles(self, labels: pd.DatetimeIndex, point: np.ndarray, grain: pd.Timedelta, qs: tuple) -> np.ndarray:
        """(len(labels), len(qs)) non-negative quantile values around `point`."""
        tab = self.table(grain, qs)
        h = np.asarray(((labels + grain) - self.end) / DAY, dtype=float)
        b = np.clip(np.searchsorted(BUCKET_EDGES_DAYS, h, side="right") - 1, 0, len(tab) - 1)
        vals = (np.maximum(point, 0)[:, None] + self.offset) * np.exp(tab[b]) - self.offset
        return np.maximum(vals, 0.0)

    # -- sample paths -----------------------------------------------------------------------------------------
    def sample_errors(self, ts: pd.DatetimeIndex, n_paths: int, seed: int | None) -> np.ndarray:
        """(n_paths, len(ts)) log errors at the native step, correlated within days (see module doc)."""
        rng = np.random.default_rng(seed)
        n = len(ts)
        if not self.pairs:
            return np.zeros((n_paths, n))
        per_day = max(1, int(DAY // self.step)) if self.step < DAY else 1
        block = max(1, per_day // 24)
        mats = []  # per origin: errors by step offset from the origin (NaN where missing)
        for origin, pts, actual, pred in self.pairs:
            k = np.asarray((pts - origin) // self.step, dtype=int)
            m = np.full(k.max() + 1, np.nan)
            m[k] = np.log(np.maximum(actual, 0) + self.offset) - np.log(np.maximum(pred, 0) + self.offset)
            mats.append(m)
        k_t = np.asarray((ts - self.end) // self.step, dtype=int)
        k_t = np.maximum(k_t, 0)
        day_t = k_t // per_day
        out = np.zeros((n_paths, n))
        for d in np.unique(day_t):
            cols = np.nonzero(day_t == d)[0]
            cover = [m for m in mats if len(m) >= (d + 1) * per_day] or [max(mats, key=len)]
            scale = 1.0
            longest = max(len(m) for m in cover)
            avail_days = max(1, longest // per_day)
            src_day = min(d, avail_days - 1)
            if d > src_day:
                scale = np.sqrt((d + 0.5) / (src_day + 0.5))
            within = k_t[cols] - d * per_day + src_day * per_day
            for p in range(n_paths):
                lvl_src = cover[rng.integers(len(cover))]
                seg = lvl_src[src_day * per_day:(src_day + 1) * per_day]
                level = np.nanmean(seg) if np.isfinite(seg).any() else 0.0
                noise = np.zeros(len(cols))
                for start in range(0, len(cols), block):
                    m = cover[rng.integers(len(cover))]
                    day_seg = m[src_day * per_day:(src_day + 1) * per_day]
                    mu = np.nanmean(day_seg) if np.isfinite(day_seg).any() else 0.0
                    idx = np.minimum(within[start:start + block], len(m) - 1)
                    vals = m[idx] - mu
                    noise[start:start + block] = np.where(np.isfinite(vals), vals, 0.0)
                out[p, cols] = (level + noise) * scale * self.inflate
        return out
