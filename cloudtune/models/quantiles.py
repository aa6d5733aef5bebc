"""Quantiles and sample paths from out-of-sample errors (rolling origin inside the history).

`backtest_pairs` refits a model at several origins inside the history and keeps (actual, forecast) over the
window after each origin. `ErrorModel` turns those pairs into quantiles of the log error
``log(actual + c) - log(forecast + c)`` (c = 1% of the mean level, so zeros are fine) by horizon bucket, at any
output grain (pairs are aggregated to the grain first). Buckets beyond the longest backtest window are
extrapolated by growing the day-level part of each error with sqrt(horizon) (minute noise does not grow), and the
spread never shrinks with the horizon. Quantile values are
``(forecast + c) * exp(q) - c``, floored at 0, so they are non-negative.

Level jumps of the history that no calibration window saw (an outage day before the first origin, a lasting level
shift; see `level_jumps`) are added to the pointwise quantiles as a mixture: with the history's chance of being
off the origin's level, the error is shifted by one of the observed jump sizes, either way. This widens the far
tail (the P99) of series whose own history shows such jumps; the middle barely moves. Sample paths do not use it.

`ErrorModel.sample_paths` draws correlated error paths: for each path and each day a day-level error is drawn from
one origin (the day-mean error at that horizon), and the within-day errors come from one-hour blocks of another
origin's errors at the same horizon (demeaned per day). Peaks over a window therefore see both a common level error
and realistic, autocorrelated minute noise.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from cloudtune.models import paths
from cloudtune.models.grain import DAY, WEEK

BUCKET_EDGES_DAYS = np.array([0, 1, 2, 4, 7, 14, 28, 56, 112, 224, 448, 1e9])
MIN_ERRORS = 10
PATH_OUTLIER_SDS = 6.0  # sample paths leave out errors further than this many robust SDs from their origin's median
JUMP_MIN_LOG = float(np.log(2.0))  # a day-to-day change of the daily level residual this large (x2 or /2) is a jump
JUMP_SDS = 5.0  # ... and also this many robust SDs of the day-to-day changes (ordinary day noise is not a jump)
MAX_JUMP_SIZES = 8  # the mixture uses at most this many jump sizes (quantiles of the observed ones)
MAX_EXCURSION_DAYS = 3  # a jump undone within this many days is an excursion (outage, holiday), not a lasting shift


def _jump_stats(d: np.ndarray, big: np.ndarray, max_excursion: int) -> tuple[int, float, int]:
    """(lasting shifts, days spent in excursions, days) of day-to-day changes `d` with jumps at `big`. A jump
    followed within `max_excursion` days by a jump back (opposite sign, the two cancelling to within half of the
    larger) is an excursion (an outage, a holiday, a storm day) lasting the days between; the others are lasting
    shifts."""
    idx = np.flatnonzero(big)
    used = np.zeros(len(idx), bool)
    shifts, excursion_days = 0, 0.0
    for a in range(len(idx)):
        if used[a]:
            continue
        used[a] = True
        back = None
        for b in range(a + 1, len(idx)):
            if idx[b] - idx[a] > max_excursion:
                break
            if not used[b] and np.sign(d[idx[b]]) != np.sign(d[idx[a]]) and \
                    abs(d[idx[a]] + d[idx[b]]) <= 0.5 * max(abs(d[idx[a]]), abs(d[idx[b]])):
                back = b
                break
        if back is None:
            shifts += 1
        else:
            used[back] = True
            excursion_days += idx[back] - idx[a]
    return shifts, excursion_days, len(d)


def level_jumps(resid: np.ndarray, days: pd.DatetimeIndex | None = None,
                windows: list[tuple] | None = None) -> tuple[np.ndarray, float, float]:
    """(sizes, lasting-shift rate per day, share of days in excursions) of the level jumps in a history that the
    calibration errors do not already hold.

    A jump is a day-to-day change of the daily log-level residual (after trend, day of week and the other level
    terms) of at least max(`JUMP_MIN_LOG`, `JUMP_SDS` robust SDs of those changes). A jump that is undone within
    `MAX_EXCURSION_DAYS` (a day-long outage: down, then back up) is an excursion: the chance that a forecast step
    falls in one is the share of days the history spent in them, whatever the horizon. Any other jump is a lasting
    shift: the chance that one happened between the origin and a step grows with the horizon. Sizes are absolute:
    a history that fell to a tenth for a day says the level can move by that much, either way.

    Calibration origins sit in the later half of the history, so the out-of-sample errors hold the jumps inside
    their windows (`windows`: [(start, end)]) at that span's rates, and none from the earlier half. The rates
    returned are the excess of the whole history's over those inside the windows (0 when the windows saw as
    many), so jumps are not counted twice; without `days`/`windows`, the whole history's."""
    r = np.asarray(resid, dtype=float)
    ok = np.isfinite(r)
    if ok.sum() < 5:
        return np.zeros(0), 0.0, 0.0
    d = np.diff(r[ok])
    sd = 1.4826 * np.median(np.abs(d - np.median(d)))
    big = np.abs(d) >= max(JUMP_MIN_LOG, JUMP_SDS * sd)
    if not big.any():
        return np.zeros(0), 0.0, 0.0
    shifts, exc, n = _jump_stats(d, big, MAX_EXCURSION_DAYS)
    rate, share = shifts / n, exc / n
    if days is not None and windows:
        at = pd.DatetimeIndex(days)[ok][1:]  # a change belongs to the day it lands on
        inside = np.zeros(len(at), bool)
        for lo, hi in windows:
            inside |= (at >= lo) & (at < hi)
        if inside.any():
            s_in, e_in, n_in = _jump_stats(d[inside], big[inside], MAX_EXCURSION_DAYS)
            rate, share = max(rate - s_in / n_in, 0.0), max(share - e_in / n_in, 0.0)
    return np.abs(d[big]), float(rate), float(share)


def _mixture_quantiles(e: np.ndarray, levels: np.ndarray, pi: float, jumps: np.ndarray) -> np.ndarray:
    """Quantiles at `levels` of the mixture: with probability 1 - pi the error e, with probability pi e plus a
    jump drawn from `jumps` with a random sign (a level jump that happened between the origin and the step)."""
    if pi <= 0 or len(jumps) == 0:
        return np.quantile(e, levels)
    e = np.sort(e)
    if len(jumps) > MAX_JUMP_SIZES:  # a few representative sizes keep the cost O(n log n)
        jumps = np.quantile(jumps, (np.arange(MAX_JUMP_SIZES) + 0.5) / MAX_JUMP_SIZES)
    # the jumped parts from evenly spaced order statistics of the errors (all of them when there are few)
    sub = e[np.linspace(0, len(e) - 1, min(len(e), 2000)).round().astype(int)]
    n, k, m = len(e), len(sub), len(jumps)
    vals = np.concatenate([e] + [sub + j for j in jumps] + [sub - j for j in jumps])
    w = np.concatenate([np.full(n, (1 - pi) / n), np.full(2 * m * k, pi / (2 * m * k))])
    o = np.argsort(vals, kind="stable")
    vals, cw = vals[o], np.cumsum(w[o])
    cw /= cw[-1]
    # the inverse of the mixture's CDF (a step function; the levels are already the finite-sample ones)
    pos = np.clip(np.searchsorted(cw, levels, side="left"), 0, len(vals) - 1)
    return vals[pos]


def _drop_outlying(e: np.ndarray, k: float) -> np.ndarray:
    """A copy of one origin's step errors with those further than `k` robust SDs (1.4826 MAD) from its
    median set to NaN: short incidents (robot spikes, outages) that the fit would leave out had they been
    flagged. Their rate is not the rate of a window's peak: the same spike, resampled as an hour block into
    many paths, makes the P90 of a peak several times the load (see `sample_errors`)."""
    ok = np.isfinite(e)
    if ok.sum() < 20:
        return e
    med = np.median(e[ok])
    mad = 1.4826 * np.median(np.abs(e[ok] - med))
    if not mad > 0:
        return e
    out = e.copy()
    out[ok & (np.abs(e - med) > k * mad)] = np.nan
    return out


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


def finite_sample_levels(qs, n: int) -> np.ndarray:
    """Empirical levels that cover `qs` out of sample from n calibration errors (split-conformal): the
    ceil((n + 1) q)-th smallest error for q > 0.5 (mirrored below 0.5), capped at the largest. With a few hundred
    hourly errors the P99 moves from about the 1.4th to the 1st largest error; with minute data it is unchanged."""
    q = np.asarray(qs, dtype=float)
    up = np.minimum(np.ceil((n + 1) * q) / n, 1.0)
    lo = np.maximum((n + 1 - np.ceil((n + 1) * (1.0 - q))) / n, 1.0 / n)
    kth = (np.where(q > 0.5, up, lo) * n - 1) / max(n - 1, 1)  # the k-th order statistic, numpy's linear method
    return np.clip(np.where(q == 0.5, q, kth), 0.0, 1.0)


def backtest_pairs(fit_predict, y: pd.Series, step: pd.Timedelta, n_origins: int, horizon: pd.Timedelta,
                   min_train: pd.Timedelta, drop=None) -> list[tuple]:
    """[(origin, ts, actual, forecast)] for origins inside the history; `fit_predict(train, ts) -> forecast`.
    `drop(origin, ts) -> bool mask`: window points to leave out (e.g. events the refit could not have learned)."""
    end = y.index[-1] + step
    span = end - y.index[0]
    min_train = max(min_train, span / 2)
    avail = span - min_train
    if avail < step:
        return []
    H = min(horizon, avail)
    spacing = max(step, H / n_origins)
    if step < DAY:  # origins at UTC midnights, whole days apart: offsets from an origin are clock times of day
        spacing = max(DAY, spacing.round("D"))
    pairs = []
    for k in range(1, n_origins + 1):
        origin = (end - k * spacing).floor("D") if step < DAY else end - k * spacing
        if origin - y.index[0] < min_train:
            break
        train = y[y.index < origin]
        window = y[(y.index >= origin) & (y.index < origin + H)]
        ok = np.isfinite(window.to_numpy())
        if drop is not None:
            ok &= ~np.asarray(drop(origin, window.index), dtype=bool)
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
                 how: str = "mean", source: str = "out-of-sample", inflate: float = 1.0,
                 jumps: np.ndarray | None = None, jump_rate: float = 0.0, jump_share: float = 0.0):
        self.pairs = pairs
        self.offset = float(offset)
        self.step = step
        self.end = end
        self.how = how
        self.source = source
        self.inflate = inflate
        self.jumps = np.zeros(0) if jumps is None else np.asarray(jumps, dtype=float)
        self.jump_rate = float(jump_rate)
        self.jump_share = float(jump_share)
        self._cache: dict = {}

    def _jump_prob(self, days: float) -> float:
        """Chance that a step `days` ahead is off the origin's level by a jump (see `level_jumps`): in an
        excursion (the history's share of days in them), or after a lasting shift since the origin (Poisson at
        the history's shift rate); at most one half."""
        if len(self.jumps) == 0 or (self.jump_rate <= 0 and self.jump_share <= 0):
            return 0.0
        return float(min(1.0 - np.exp(-self.jump_rate * days) + self.jump_share, 0.5))

    def _errors(self, grain: pd.Timedelta) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(horizon days, log error, its day-level part) for every pair point aggregated to `grain`. The day-level
        part is the mean error of the same origin and horizon day: what a level error shares across the day."""
        hs, es, ds = [], [], []
        for origin, ts, actual, pred in self.pairs:
            if grain > self.step:
                a = aggregate(ts, actual, grain, self.how)
                p = aggregate(ts, pred, grain, self.how)
                labels = a.index
                actual, pred = a.to_numpy(), p.to_numpy()
                right = labels + grain
            else:
                right = ts + self.step
            h = np.asarray((right - origin) / DAY, dtype=float)
            e = np.log(np.maximum(actual, 0) + self.offset) - np.log(np.maximum(pred, 0) + self.offset)
            day = np.floor(np.maximum(h - 1e-9, 0)).astype(int)
            sums = np.bincount(day, weights=np.where(np.isfinite(e), e, 0.0))
            counts = np.bincount(day, weights=np.isfinite(e).astype(float))
            hs.append(h)
            es.append(e)
            ds.append((sums / np.maximum(counts, 1))[day])
        if not hs:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        return np.concatenate(hs), np.concatenate(es), np.concatenate(ds)

    def table(self, grain: pd.Timedelta, qs: tuple) -> np.ndarray:
        """(n_buckets, len(qs)) log-error quantiles, monotone in the horizon."""
        key = (grain, tuple(qs))
        if key in self._cache:
            return self._cache[key]
        h, e, d = self._errors(grain)
        if len(e) < MIN_ERRORS and grain > self.step:
            h, e, d = self._errors(self.step)
        nb = len(BUCKET_EDGES_DAYS) - 1
        mids = np.sqrt(np.maximum(BUCKET_EDGES_DAYS[:-1], 0.25) * np.minimum(BUCKET_EDGES_DAYS[1:], 2000))
        out = np.full((nb, len(qs)), np.nan)
        b = np.clip(np.searchsorted(BUCKET_EDGES_DAYS, h, side="right") - 1, 0, nb - 1)
        for i in range(nb):
            sel = e[b == i]
            if len(sel) >= MIN_ERRORS:
                out[i] = _mixture_quantiles(sel, finite_sample_levels(qs, len(sel)), self._jump_prob(mids[i]),
                                            self.jumps)
        if np.isnan(out).all():
            spread = np.quantile(e, qs) if len(e) else np.zeros(len(qs))
            out[0] = spread
        last = 0
        for i in range(nb):  # fill forward: the day-level part of the error grows as sqrt(horizon), the noise not
            if np.isnan(out[i]).any():
                sel = b == last
                if sel.sum() >= MIN_ERRORS:
                    center = np.median(d[sel])  # the spread of the level error grows, not its bias
                    grown = (e[sel] - d[sel]) + center + (d[sel] - center) * np.sqrt(mids[i] / mids[last])
                    out[i] = _mixture_quantiles(grown, finite_sample_levels(qs, len(grown)),
                                                self._jump_prob(mids[i]), self.jumps)
                else:
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
    def sample_errors(self, ts: pd.DatetimeIndex, n_paths: int, seed: int | None,
                      point: np.ndarray | None = None) -> np.ndarray:
        """(n_paths, len(ts)) log errors at the native step, correlated within days (see module doc).

        Each calibration origin's errors are cut into origin-days (horizon day s = 0, 1, ...); each origin-day
        gives a day-level error (its mean) and demeaned within-day noise.

        - Level: for forecast horizon day d, the day-level errors of the origin-days at horizon d (widened to the
          neighbouring horizons until there are at least `paths.MIN_LEVEL_SOURCES`), each grown by
          sqrt((d + 0.5) / (s + 0.5)) from its own horizon s; beyond the backtested days, those of the later half
          of the backtested days. One uniform draw per path picks the same quantile of that pool every day, so a
          path's level error persists across the days of a window (it is a level, not noise).
        - Noise: one-hour blocks, each from an origin-day drawn at random from the same pool (the within-day
          noise is not grown with the horizon), at the same clock time of day; missing (NaN) values are redrawn.

        Drawing every path's level and blocks from the whole pool matters: when one origin alone covered a
        far horizon day, every path reused it and a window's maximum was the same number for all paths.

        With `point` (the forecast at ts), the within-day noise drawn from a calibration step is rescaled to the
        target step's volume with the noise model of `noise_variance` (count noise shrinks, relative to the load,
        where the load is higher: an event's peak minutes are less noisy, relative to their level, than the
        night-time minutes their errors may be drawn from)."""
        draws = paths.draw(self, ts, n_paths, seed, point is not None)
        if draws is None:
            return np.zeros((n_paths, len(ts)))
        return paths.error_paths(draws, None if point is None else np.asarray(point, dtype=float))

    def path_maxima(self, ts: pd.DatetimeIndex, point: np.ndarray, windows: list, n_paths: int,
                    seed: int | None) -> np.ndarray:
        """(n_paths, len(windows)): each value path's maximum over each window (a boolean mask over ts), for the
        paths max((point + offset) * exp(sample_errors(ts, n_paths, seed, point)) - offset, 0), equal to them up to
        rounding, without drawing them (see `cloudtune.models.paths`)."""
        point = np.asarray(point, dtype=float)
        return paths.path_maxima(paths.draw(self, ts, n_paths, seed, True), point, self.offset, windows, n_paths)

    def _origin_days(self, per_day: int, with_var: bool):
        """The calibration pairs cut into origin-days, the same for every draw (a fit's peaks draw several
        windows): (noise variance model or None, horizon day and level error per origin-day, their demeaned
        within-day noise, where it is finite, and 1 / the noise variance at their forecasts, as (origin-days,
        per_day) arrays); None when no origin-day is usable."""
        key = ("origin_days", per_day, with_var)
        if key in self._cache:
            return self._cache[key]
        mats, preds = [], []  # per origin: errors (and forecasts) by step offset from the origin (NaN where missing)
        for origin, pts, actual, pred in self.pairs:
            k = np.asarray((pts - origin) // self.step, dtype=int)
            m = np.full(k.max() + 1, np.nan)
            m[k] = np.log(np.maximum(actual, 0) + self.offset) - np.log(np.maximum(pred, 0) + self.offset)
            mats.append(_drop_outlying(m, PATH_OUTLIER_SDS))
            f = np.full(k.max() + 1, np.nan)
            f[k] = np.maximum(pred, 0)
            preds.append(f)
        var = self.noise_variance(mats, preds, per_day) if with_var else None
        # Origin-days: (n_od, per_day) demeaned noise and forecasts, their horizon day and level error.
        noise_rows, pred_rows, lev_s, lev_v = [], [], [], []
        for m, f in zip(mats, preds):
            nd = -(-len(m) // per_day)
            pad = nd * per_day - len(m)
            mm = np.concatenate([m, np.full(pad, np.nan)]).reshape(nd, per_day)
            ff = np.concatenate([f, np.full(pad, np.nan)]).reshape(nd, per_day)
            for s in range(nd):
                ok = np.isfinite(mm[s])
                if ok.sum() < max(1, per_day // 4):
                    continue
                mu = float(mm[s][ok].mean())
                lev_s.append(s)
                lev_v.append(mu)
                noise_rows.append(mm[s] - mu)
                pred_rows.append(ff[s])
        if not lev_v:
            self._cache[key] = None
            return None
        lev_s, lev_v = np.asarray(lev_s), np.asarray(lev_v)
        noise_mat, pred_mat = np.vstack(noise_rows), np.vstack(pred_rows)
        inv_src_var = None if var is None else 1.0 / var(pred_mat)
        self._cache[key] = out = (var, lev_s, lev_v, noise_mat, np.isfinite(noise_mat), inv_src_var)
        return out

    def noise_variance(self, mats: list[np.ndarray], preds: list[np.ndarray], per_day: int):
        """var(noise | forecast f) = a + b / (f + offset), fitted by least squares (a, b >= 0) on the squared
        within-day errors (each origin-day's mean error removed) of the calibration pairs: b is count (Poisson)
        noise, a the multiplicative rest. Returns a function of f (NaN f -> the pooled variance), or None
        when there is too little to fit or the fit is degenerate."""
        e2, x = [], []
        for m, f in zip(mats, preds):
            nd = len(m) // per_day
            if nd == 0:
                continue
            mm = m[:nd * per_day].reshape(nd, per_day)
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                dev = mm - np.nanmean(mm, axis=1, keepdims=True)
            e2.append(dev.ravel() ** 2)
            x.append(1.0 / (f[:nd * per_day] + self.offset))
        if not e2:
            return None
        e2, x = np.concatenate(e2), np.concatenate(x)
        ok = np.isfinite(e2) & np.isfinite(x)
        if ok.sum() < 100 or np.ptp(x[ok]) <= 0:
            return None
        e2, x = e2[ok], x[ok]
        A = np.column_stack([np.ones_like(x), x])
        a, b = np.linalg.lstsq(A, e2, rcond=None)[0]
        if b < 0:
            a, b = float(e2.mean()), 0.0
        elif a < 0:
            a, b = 0.0, float((x @ e2) / (x @ x))
        pooled = float(e2.mean())
        if not (a + b * x.min()) > 0 or not pooled > 0:
            return None

        def var(f):
            v = a + b / (np.asarray(f, dtype=float) + self.offset)
            return np.where(np.isfinite(v) & (v > 0), v, pooled)
        return var
