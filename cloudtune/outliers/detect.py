"""Automatic outlier detection for one series: robust residual vs a robust seasonal expectation.

The expectation is built so that outliers cannot pull it: for each point, the median of the same slot
(minute of day) on the other days around it, plus a rolling-median local level, plus a smoothed weekday
adjustment. Residuals are in log space for multiplicative load and scaled by a MAD per hour of day
(night noise differs from day noise). A point or a rolling median over several scales that sits far
off is a core flag; cores grow over neighbours that are off in the same direction, close runs merge
into windows, and each window gets a reason. Points in `quiet` (events, keep windows) never flag and
points in `hide` (events, manual exclusions) never shape the expectation.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import bottleneck
import numpy as np
import pandas as pd

from cloudtune.config.durations import parse_duration
from cloudtune.models.shape import nanmedian
from cloudtune.outliers.settings import DetectSettings

log = logging.getLogger(__name__)

DAY_NS = 86_400 * 10**9
WEEK_NS = 7 * DAY_NS
MONDAY_NS = 4 * DAY_NS  # 1970-01-05, the first Monday after the epoch
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Window:
    """A flagged window: first and last flagged timestamps (UTC ns, both inclusive), reason, signed score."""

    start_ns: int
    end_ns: int
    reason: str
    score: float
    points: int


def detect_series(ts_ns: np.ndarray, values: np.ndarray, grain_ns: int, hide: np.ndarray, quiet: np.ndarray,
                  settings: DetectSettings) -> list[Window]:
    """Flag windows in one series. `ts_ns` sorted unique int64 UTC ns; `values` float (NaN = missing)."""
    grid = _Grid.build(ts_ns, grain_ns)
    v = grid.place(values)
    y, offset = _transform(v, settings)
    hidden = grid.place(hide.astype(float), fill=1.0) > 0
    silent = grid.place(quiet.astype(float), fill=1.0) > 0
    flagged = np.zeros(grid.n, dtype=bool)
    used, profile = None, None
    for _ in range(settings.passes):
        if used is not None and np.array_equal(flagged, used):
            break  # the last pass returned the flags it was given: another would return them again
        # Later passes rebuild the expectation without the windows flagged so far, so a long drop on
        # one Monday cannot bend the weekday profile that judges the other Mondays.
        used = flagged
        flagged, zc, r, expected, profile = _flag(y, hidden, hidden | flagged, silent, grid, settings, profile)

    windows = _windows(flagged, zc, r, v, expected, offset, grid, settings)
    share = flagged.sum() / max(1, np.count_nonzero(~np.isnan(v)))
    if share > settings.max_flag_share:
        log.warning("%.1f%% of a series flagged (more than max_flag_share %.1f%%); check the data or thresholds",
                    100 * share, 100 * settings.max_flag_share)
    return windows


def _flag(y, hidden, unfit, silent, grid: "_Grid", settings: DetectSettings, previous=None):
    """One detection pass: the expectation from points not in `unfit`; flags never on `silent` points.
    `previous`: the last pass's (points used, profile) pair (see `_expectation`). Returns the flags, the strongest
    z and residual per point, the expectation and that pair for the next pass."""
    expected, profile = _expectation(np.where(unfit, np.nan, y), grid, settings, previous)
    r = y - expected
    r_sig = np.where(hidden, np.nan, r)  # what the detector looks at: everything but events and exclusions
    buckets = grid.buckets()
    z = r / _scale(np.where(unfit, np.nan, r), buckets)
    big = _effect_test(expected, settings)

    # Each scale sees the rolling median of the residual; it catches windows too mild point by point.
    zc = np.where(np.isnan(z), 0.0, z)
    ratio = np.where(big(r), np.abs(zc) / settings.point_z, 0.0)
    for w in settings.windows:
        n = int(parse_duration(w) // pd.Timedelta(grid.grain))
        if n < 3 or n > grid.n // 2:
            continue
        rs = _rolling_median(r_sig, n)
        zs = rs / _scale(np.where(unfit, np.nan, rs), buckets)
        zs = np.where(np.isnan(zs), 0.0, zs)
        stronger = big(rs) & (np.abs(zs) / settings.window_z > ratio)
        zc = np.where(stronger, zs, zc)
        ratio = np.where(stronger, np.abs(zs) / settings.window_z, ratio)

    ok = ~silent & ~np.isnan(r)
    core = ok & (ratio > 1.0)
    flagged = (_grow(core & (zc > 0), ok & (z > settings.extend_z))
               | _grow(core & (zc < 0), ok & (z < -settings.extend_z)))
    gap = int(parse_duration(settings.merge_gap) // pd.Timedelta(grid.grain))
    return _close_gaps(flagged, gap, silent), zc, r, expected, profile


class _Grid:
    """The series on a regular grid of whole cycles (days, or weeks for daily data), NaN where missing."""

    def __init__(self, anchor: int, grain: int, cycle: int, pos: np.ndarray, n: int):
        self.anchor, self.grain, self.cycle, self.pos, self.n = anchor, grain, cycle, pos, n

    @classmethod
    def build(cls, ts_ns: np.ndarray, grain: int) -> "_Grid":
        if grain < DAY_NS and DAY_NS % grain == 0:
            cycle, anchor = DAY_NS // grain, (ts_ns[0] // DAY_NS) * DAY_NS
        elif grain == DAY_NS:
            cycle, anchor = 7, ((ts_ns[0] - MONDAY_NS) // WEEK_NS) * WEEK_NS + MONDAY_NS
        else:
            cycle, anchor = 1, ts_ns[0]
        pos = np.rint((ts_ns - anchor) / grain).astype(np.int64)
        n = int(-(-(pos[-1] + 1) // cycle) * cycle)
        return cls(int(anchor), int(grain), int(cycle), pos, n)

    def place(self, a: np.ndarray, fill: float = np.nan) -> np.ndarray:
        out = np.full(self.n, fill, dtype=float)
        out[self.pos] = a
        return out

    def time(self, i: int) -> int:
        return self.anchor + i * self.grain

    def buckets(self) -> np.ndarray:
        """Hour of day for sub-daily grains (the noise level follows the daily cycle), else one bucket."""
        slot = np.arange(self.n) % self.cycle
        return slot * 24 // self.cycle if self.cycle >= 24 else np.zeros(self.n, dtype=np.int64)


def _transform(v: np.ndarray, s: DetectSettings) -> tuple[np.ndarray, float]:
    """Log with an offset (a share of the median) so zeros stay finite; returns the values and the offset."""
    if s.transform == "none":
        return v, 0.0
    med = np.nanmedian(v) if np.any(~np.isnan(v)) else 0.0
    offset = s.log_offset * med if med > 0 else max(s.log_offset, s.log_offset * np.nanmax(np.r_[v, 0.0]))
    return np.log(np.maximum(v, 0.0) + offset), float(offset)


def _effect_test(expected: np.ndarray, s: DetectSettings):
    """A test `residual -> bool`: is it at least min_effect of expected, up or down?"""
    if s.transform == "log":
        up, down = np.log1p(s.min_effect), np.log1p(-s.min_effect)
        return lambda r: (r >= up) | (r <= down)
    size = np.abs(expected)
    return lambda r: np.abs(r) >= s.min_effect * size


def _expectation(y_fit: np.ndarray, grid: _Grid, s: DetectSettings, previous=None) -> tuple[np.ndarray, tuple]:
    """The expectation of every point, and its seasonal profile as (points used, profile). The profile of a
    slot of the cycle reads that slot's column only, so with `previous` (the pair from another pass over the same
    series) only the columns whose points changed, masked or given back, are recomputed: the same numbers, a
    fraction of the cost in a pass after a few short windows were flagged."""
    cycles = grid.n // grid.cycle
    m = y_fit.reshape(cycles, grid.cycle)
    if previous is not None and previous[1].shape == m.shape:
        same = (m == previous[0]) | (np.isnan(m) & np.isnan(previous[0]))
        cols = np.flatnonzero(~same.all(axis=0))
        profile = previous[1].copy()
        profile[:, cols] = _profile(m[:, cols], grid, s)
    else:
        profile = _profile(m, grid, s)
    used = (m, profile)
    profile = profile.ravel()
    if np.isnan(profile).all():
        log.info("series too short for a seasonal profile (%d cycles); using a rolling median", cycles)
    gaps = np.isnan(profile) & ~np.isnan(y_fit)
    if gaps.any():  # too few other cycles for these points: a centred rolling median is the best we have
        fallback = _rolling_median(y_fit, max(5, min(grid.cycle, len(y_fit) // 4) | 1))
        profile = np.where(np.isnan(profile), fallback, profile)

    level = np.zeros(grid.n)
    if grid.cycle >= 24:  # the day's own level (weekends, trend), robust to a few hours of outage
        level = _level(y_fit - profile, grid.cycle // 24, 24)
    expected = profile + level

    if s.weekly and grid.cycle >= 24 and grid.grain * grid.cycle == DAY_NS:
        resid = (y_fit - expected).reshape(cycles, grid.cycle)
        weeks = [k for k in range(-s.profile_cycles, s.profile_cycles + 1) if k and k % 7 == 0 and abs(k) < cycles]
        # A zero joins the other weeks: with two weeks, one of them odd, the median stays near zero.
        weekday = _shifted_median(resid, weeks, 2, extra=0.0).ravel()
        hour = max(1, grid.cycle // 24)
        weekday = pd.Series(weekday).rolling(hour, center=True, min_periods=1).mean().to_numpy()
        expected = expected + np.nan_to_num(weekday)
    return expected, used


def _profile(m: np.ndarray, grid: _Grid, s: DetectSettings) -> np.ndarray:
    """(cycles, columns): each point's median of its column on the other cycles around it (any subset of the
    cycle's columns: each column is its own)."""
    cycles = len(m)
    shifts = [k for k in range(-s.profile_cycles, s.profile_cycles + 1) if k and abs(k) < cycles]
    if s.weekend_profile and grid.grain * grid.cycle == DAY_NS:
        # Weekends often have their own shape (later, flatter peak): judge a Saturday by other weekend days
        # when there are enough of them, by every day otherwise (only days short somewhere need that median).
        weekend = ((grid.anchor // DAY_NS + np.arange(cycles) + 3) % 7) >= 5  # epoch day 0 was a Thursday
        profile = _shifted_median(m, shifts, s.min_profile_cycles, groups=weekend)
        short = np.flatnonzero(np.isnan(profile).any(axis=1))
        if len(short):
            every = _shifted_median(m, shifts, s.min_profile_cycles, rows=short)
            profile = np.where(np.isnan(profile), every, profile)
        return profile
    return _shifted_median(m, shifts, s.min_profile_cycles)


def _shifted_median(m: np.ndarray, shifts: list[int], min_count: int, extra: float | None = None,
                    groups: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """Median over the rows `shifts` away from each row (never the row itself), ignoring NaN.

    `extra` adds a constant pseudo-observation (counted only once min_count real ones exist);
    `groups` (one label per row) keeps only rows with the same label as the row judged;
    `rows` (indices) judges only those rows, the others are NaN."""
    n, cols = m.shape
    out = np.full(m.shape, np.nan)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    if not shifts or not len(rows):
        return out
    stack = np.full((len(shifts) + (extra is not None), len(rows), cols), np.nan)
    if extra is not None:
        stack[-1] = extra
    for i, k in enumerate(shifts):
        source = rows + k
        valid = (source >= 0) & (source < n)
        if groups is not None:
            valid[valid] &= groups[source[valid]] == groups[rows[valid]]
        stack[i, valid] = m[source[valid]]
    count = np.count_nonzero(~np.isnan(stack), axis=0)
    # Vectorised over all points (nanmedian picks a sort or bottleneck's selection by the stack's shape). The stack
    # is scratch and may be sorted in place: two years of minutes make it hundreds of MB.
    med = nanmedian(stack.reshape(len(stack), -1), axis=0, overwrite_input=True).reshape(len(rows), cols)
    out[rows] = np.where(count - (extra is not None) >= min_count, med, np.nan)
    return out


def _level(a: np.ndarray, block: int, blocks: int) -> np.ndarray:
    """A centred rolling median over `blocks` blocks of `block` points, on block medians: the same
    robustness as a day-long rolling median at a fraction of the cost; linear between block centres."""
    n = len(a) // block * block
    med = bottleneck.nanmedian(a[:n].reshape(-1, block), axis=1)  # NaN for a block of missing points only
    smooth = pd.Series(med).rolling(blocks, center=True, min_periods=blocks // 4 + 1).median().to_numpy()
    centre = np.arange(len(med)) * block + (block - 1) / 2
    ok = ~np.isnan(smooth)
    if not ok.any():
        return np.zeros(len(a))
    return np.interp(np.arange(len(a)), centre[ok], smooth[ok])


def _rolling_median(a: np.ndarray, n: int) -> np.ndarray:
    """Centred median over n points ignoring NaN, NaN with fewer than n // 2 + 1: pandas'
    rolling(n, center=True, min_periods=n // 2 + 1).median() bit for bit, from bottleneck's trailing window shifted
    back (a tenth of the time, and detection takes several per series)."""
    ahead = (n - 1) // 2  # how far a centred window reaches past its point (pandas' convention for even n too)
    padded = np.concatenate([np.asarray(a, dtype=float), np.full(ahead, np.nan)])
    if n > len(padded):
        return pd.Series(a).rolling(n, center=True, min_periods=n // 2 + 1).median().to_numpy()
    return bottleneck.move_median(padded, n, min_count=n // 2 + 1)[ahead:]


def _scale(r: np.ndarray, buckets: np.ndarray) -> np.ndarray:
    """Robust sd of `r` per bucket (hour of day), smoothed over neighbouring hours and floored."""
    ok = ~np.isnan(r)
    if not ok.any():
        return np.full(len(r), np.inf)
    nb = int(buckets.max()) + 1
    values = r[ok]
    global_mad = float(np.median(np.abs(values - np.median(values))))
    mad = _bucket_mads(r, buckets, nb, ok)
    mad = np.where(np.isnan(mad), global_mad, mad)  # a bucket with no value takes the series' MAD
    if nb > 2:
        mad = (np.roll(mad, 1) + mad + np.roll(mad, -1)) / 3
    # A floor keeps a flat stretch (all-equal values) from turning noise into huge z.
    floor = max(0.5 * global_mad, 1e-6 * max(1.0, float(np.nanmax(np.abs(r)))), 1e-9)
    return MAD_TO_SD * np.maximum(mad, floor)[buckets]


def _bucket_mads(r: np.ndarray, buckets: np.ndarray, nb: int, ok: np.ndarray) -> np.ndarray:
    """Median absolute deviation from the median of each bucket's finite values (NaN for an empty bucket).
    Hour buckets of whole days are equal runs of each day: one (bucket, points) matrix and two C medians
    (bottleneck) instead of two numpy medians per bucket, which were most of the detector's Python overhead."""
    run = int(np.argmax(buckets != buckets[0]))  # the first run's length (0: a single bucket)
    cycles = len(r) // (nb * run) if run else 0
    if cycles and np.array_equal(buckets, np.tile(np.repeat(np.arange(nb), run), cycles)):
        by = r.reshape(cycles, nb, run).transpose(1, 0, 2).reshape(nb, -1)
        med = bottleneck.nanmedian(by, axis=1)
        return bottleneck.nanmedian(np.abs(by - med[:, None]), axis=1)
    values, groups = r[ok], buckets[ok]
    # Per bucket with numpy on the values sorted by bucket: a pandas groupby here cost more than the medians.
    parts = np.split(values[np.argsort(groups, kind="stable")], np.cumsum(np.bincount(groups, minlength=nb))[:-1])
    return np.array([np.median(np.abs(g - np.median(g))) if len(g) else np.nan for g in parts])


def _grow(core: np.ndarray, ext: np.ndarray) -> np.ndarray:
    """Keep the runs of (core | ext) that contain a core point: a flag spreads over its like neighbours."""
    both = core | ext
    if not core.any():
        return core
    starts = both & ~np.r_[False, both[:-1]]
    run = np.cumsum(starts) * both
    has_core = np.bincount(run[core], minlength=run.max() + 1) > 0
    has_core[0] = False
    return has_core[run]


def _close_gaps(flagged: np.ndarray, gap: int, silent: np.ndarray) -> np.ndarray:
    """Join flagged runs separated by at most `gap` points, unless the gap touches a quiet point."""
    if gap < 1 or not flagged.any():
        return flagged
    idx = np.flatnonzero(flagged)
    breaks = np.flatnonzero(np.diff(idx) > 1)
    out = flagged.copy()
    quiet_before = np.cumsum(np.r_[0, silent.astype(np.int64)])
    for b in breaks:
        lo, hi = idx[b] + 1, idx[b + 1]  # the gap is [lo, hi)
        if hi - lo <= gap and quiet_before[hi] == quiet_before[lo]:
            out[lo:hi] = True
    return out


def _windows(flagged, zc, r, v, expected, offset, grid: _Grid, s: DetectSettings) -> list[Window]:
    if not flagged.any():
        return []
    edges = np.diff(np.r_[0, flagged.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    drop_after = int(parse_duration(s.level_drop_after).value)
    out = []
    for a, b in zip(starts, ends):
        seg = slice(a, b + 1)
        k = a + int(np.argmax(np.abs(zc[seg])))
        if zc[k] > 0:  # the strongest evidence in the window decides its direction
            reason = "spike_up"
        else:
            exp_v = np.nanmedian(np.exp(expected[seg]) - offset if s.transform == "log" else expected[seg])
            seen = np.nanmedian(v[seg])
            if seen <= s.outage_ratio * exp_v:
                reason = "outage"
            elif b > a and (b - a + 1) * grid.grain >= drop_after:  # one coarse point is a spike, not a level
                reason = "level_drop"
            else:
                reason = "spike_down"
        out.append(Window(grid.time(a), grid.time(b), reason, float(zc[k]), int(np.count_nonzero(~np.isnan(v[seg])))))
    return out
