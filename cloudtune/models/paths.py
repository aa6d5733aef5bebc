"""Correlated sample paths of log errors, and the maxima of value paths over windows without the paths.

`draw` makes a path's random choices from an `ErrorModel`'s calibration origin-days (see
`ErrorModel.sample_errors` for the scheme): per path and horizon day a day-level error, and per path and one-hour
block the origin-day whose within-day noise fills the block. `error_paths` turns the choices into the
(n_paths, len(ts)) log errors; `path_maxima` gives each path's maximum over windows of the value paths
``(point + c) * exp(error) - c`` (floored at 0) from the same choices, at the cost of the origin-days rather than of
the paths: within a block a path is one origin-day's noise times a constant, so its maximum there is that origin-day's
block maximum times the constant. Peak quantiles need only the maxima, and an event's paths are hundreds of paths
times thousands of minutes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from cloudtune.errors import InputError
from cloudtune.models.grain import DAY

MIN_LEVEL_SOURCES = 4  # day-level errors pooled per horizon day of a sample path (neighbouring days added)


@dataclass
class Draws:
    """One set of random choices for n_paths paths over ts (arrays over ts have its length)."""

    per_day: int  # steps a day: the origin-days' row length
    slot: np.ndarray  # clock slot of the day of each ts (a column of the origin-day matrices)
    day_t: np.ndarray  # horizon day of each ts
    blk_id: np.ndarray  # one-hour block of each ts
    pick: np.ndarray  # (n_paths, blocks): the origin-day row each path's block takes its noise from
    level_of_day: dict  # horizon day -> (n_paths,) day-level log error
    noise: np.ndarray  # (origin-days, per_day) demeaned within-day log errors (NaN where missing)
    var: Callable | None  # noise variance at a forecast value, or None: no rescaling to the target's volume
    inv_src_var: np.ndarray | None  # (origin-days, per_day) 1 / the noise variance at the source's forecast
    inflate: float

    def scaled_noise(self, flat: np.ndarray, point: np.ndarray | None) -> np.ndarray:
        """Within-day noise at the flat indices `flat` (origin-day row * per_day + slot), rescaled to the target's
        volume (`point`, broadcast along the last axis) and with missing values as 0."""
        noise = self.noise.ravel().take(flat)
        if self.var is not None and point is not None:
            scale = self.inv_src_var.ravel().take(flat)
            scale *= self.var(np.maximum(point, 0))
            # At most 4x (or 1/4) the source's noise SD: the variance model is fitted over the calibration loads,
            # and far outside them (a collapsed or exploded level) a linear 1/f term would be extrapolated.
            np.clip(scale, 1.0 / 16, 16.0, out=scale)
            np.sqrt(scale, out=scale)
            noise *= scale
            del scale
        noise[~np.isfinite(noise)] = 0.0
        return noise


def draw(errors, ts: pd.DatetimeIndex, n_paths: int, seed: int | None, with_var: bool) -> Draws | None:
    """The random choices of `errors.sample_errors(ts, n_paths, seed, ...)`; None when no origin-day is usable
    (every path is then the point forecast)."""
    rng = np.random.default_rng(seed)
    n = len(ts)
    if not errors.pairs:
        return None
    step = errors.step
    per_day = max(1, int(DAY // step)) if step < DAY else 1
    block = max(1, per_day // 24)
    got = errors._origin_days(per_day, with_var)
    if got is None:
        return None
    var, lev_s, lev_v, noise_mat, finite, inv_src_var = got
    k_t = np.maximum(np.asarray((ts - errors.end) // step, dtype=int), 0)
    day_t = k_t // per_day
    if per_day > 1:  # clock slot of the day (origins are UTC midnights, so offsets are clock times)
        slot = np.asarray((ts.asi8 % DAY.value) // step.value, dtype=int)
    else:
        slot = np.zeros(n, dtype=int)
    # Per horizon day: a pool of origin-days (same horizon, widened to neighbours until MIN_LEVEL_SOURCES;
    # beyond the backtested days, the later half of them). Level: one uniform per path, the same quantile of
    # each day's (grown) pool. Noise: hour blocks of random origin-days of the pool, same clock slots.
    u = rng.uniform(size=n_paths)
    max_s = int(lev_s.max())
    blk_id = np.zeros(n, dtype=int)
    if n:
        new = np.ones(n, bool)
        new[1:] = (day_t[1:] != day_t[:-1]) | (slot[1:] // block != slot[:-1] // block)
        blk_id = np.cumsum(new) - 1
    n_blk = int(blk_id[-1]) + 1 if n else 0
    first_of_blk = np.searchsorted(blk_id, np.arange(n_blk))
    level_of_day, pool_of_day = {}, {}
    for d in np.unique(day_t):
        if d <= max_s:
            w = 0
            sel = lev_s == d
            while sel.sum() < MIN_LEVEL_SOURCES and w < max_s:
                w += 1
                sel = np.abs(lev_s - d) <= w
        else:
            sel = lev_s >= max_s // 2
        # The spread grows with the horizon, the pool's bias does not: a bias multiplied by sqrt(horizon) turned
        # one missed slope break into year-ahead peaks 10x the forecast.
        center = np.median(lev_v[sel])
        pool = center + (lev_v[sel] - center) * np.sqrt((d + 0.5) / (lev_s[sel] + 0.5))
        level_of_day[int(d)] = np.quantile(pool, u)
        pool_of_day[int(d)] = np.flatnonzero(sel)
    # Each hour block draws its origin-day among the pool's rows with no missing value (gaps, left-out
    # incidents or events) at the block's slots; when every row misses some, among the whole pool.
    pick = np.empty((n_paths, n_blk), dtype=np.int64)
    bounds = np.append(first_of_blk, n)
    for b in range(n_blk):
        pool = pool_of_day[int(day_t[first_of_blk[b]])]
        usable = pool[finite[np.ix_(pool, slot[bounds[b]:bounds[b + 1]])].all(axis=1)]
        pool = usable if len(usable) else pool
        pick[:, b] = pool[rng.integers(len(pool), size=n_paths)]
    return Draws(per_day, slot, day_t, blk_id, pick, level_of_day, noise_mat, var, inv_src_var, errors.inflate)


def error_paths(draws: Draws, point: np.ndarray | None) -> np.ndarray:
    """(n_paths, len(ts)) log errors from the draws: each block's noise, plus the day's level, times inflate."""
    # One flat gather per (path, ts) instead of 2-D fancy indexing: this runs over every minute of an event.
    flat = draws.pick[:, draws.blk_id]
    flat *= draws.per_day
    flat += draws.slot[None, :]
    noise = draws.scaled_noise(flat, None if point is None else point[None, :])
    day_t = draws.day_t
    in_order = bool(len(day_t)) and bool((day_t[1:] >= day_t[:-1]).all())  # a window's ts: each day is a slice
    for d, lev in draws.level_of_day.items():  # only the level error grows with the horizon
        if in_order:  # in place: a boolean column mask copies every path's minutes of the day twice
            first, end = np.searchsorted(day_t, [d, d + 1])
            noise[:, first:end] += lev[:, None]
        else:
            cols = day_t == d
            noise[:, cols] += lev[:, None]
    if draws.inflate != 1.0:
        noise *= draws.inflate
    return noise


def path_maxima(draws: Draws | None, point: np.ndarray, offset: float, windows: list, n_paths: int) -> np.ndarray:
    """(n_paths, len(windows)): each path's maximum over each window (a boolean mask over ts) of the value paths
    max((point + offset) * exp(error) - offset, 0) whose errors `error_paths` would give from the same draws.

    A segment is a run of ts in one block and in the same windows. Within it a path's value is the picked
    origin-day's exp(inflate * noise) times (point + offset) times the path's exp(inflate * level) of that day,
    so its maximum is the origin-day's segment maximum times that factor: the work is origin-days x ts once,
    then paths x segments."""
    point = np.maximum(np.asarray(point, dtype=float), 0.0)
    member = np.array([np.asarray(w, dtype=bool) for w in windows]).reshape(len(windows), len(point))
    if not member.any(axis=1).all():
        raise InputError(f"window {int(np.flatnonzero(~member.any(axis=1))[0])} of the path maxima has no timestamp")
    if draws is None:  # no calibration errors: every path is the point forecast
        return np.tile([point[w].max() for w in member], (n_paths, 1))
    cut = np.ones(len(point), bool)
    cut[1:] = (draws.blk_id[1:] != draws.blk_id[:-1]) | (member[:, 1:] != member[:, :-1]).any(axis=0)
    starts = np.flatnonzero(cut)
    seg_blk, seg_day = draws.blk_id[starts], draws.day_t[starts]
    rows, pos = np.unique(draws.pick, return_inverse=True)  # the origin-days some path uses
    pos = pos.reshape(draws.pick.shape)
    value = draws.scaled_noise(rows[:, None] * draws.per_day + draws.slot[None, :], point[None, :])
    value *= draws.inflate
    np.exp(value, out=value)
    value *= (point + offset)[None, :]
    seg_max = np.maximum.reduceat(value, starts, axis=1)  # (origin-days used, segments)
    days = np.unique(seg_day)
    level = np.exp(draws.inflate * np.column_stack([draws.level_of_day[int(d)] for d in days]))  # (n_paths, days)
    per_path = seg_max[pos[:, seg_blk], np.arange(len(starts))[None, :]]  # (n_paths, segments)
    per_path *= level[:, np.searchsorted(days, seg_day)]
    out = np.empty((n_paths, len(windows)))
    for j, inside in enumerate(member[:, starts]):
        out[:, j] = per_path[:, inside].max(axis=1)
    out -= offset
    return np.maximum(out, 0.0, out=out)
