"""The intra-day shape: one profile per day type over the slots of a day (minute-of-week by day type).

Each day's values are divided by (multiplicative) or reduced by (additive) that day's own mean, then the profile of
a day type is a recency-weighted mean (`shape_halflife`) over the most recent `shape_weeks` weeks of such days, each
slot clipped to its median +- 3 robust SDs first, which makes it robust to spikes. It is then smoothed with a
centred moving average of `shape_smooth`, and normalised to mean 1 (or 0). Cost: O(days x slots per day), no model
fit per minute.

A day with 80% of its slots or more is a whole day. A partial one (from 25%: a history ending mid-day, a few hours
missing) has no mean of its own to divide by, since its hours are not the day's average; it is scaled by what the
whole days' profile expects over its slots instead, and then counts in the slots it has: in a history cut
mid-day, the latest day is the most recent evidence of the shape.
"""
from __future__ import annotations

import warnings

import bottleneck
import numpy as np

SMALL_MEDIAN_SIZE = 1 << 15  # elements: up to this, bottleneck's selection beats a sort for <= 16 values a median
WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def nanmedian(a: np.ndarray, axis: int = 0, overwrite_input: bool = False) -> np.ndarray:
    """np.nanmedian along `axis` of a 2-D array, without the masked-array path numpy takes for small arrays
    (several times faster here). NaN where a column (row) has no finite value. `overwrite_input`: `a` may be
    sorted in place instead of a copy (a large scratch array the caller no longer needs; its contents after are
    unspecified).

    Few medians, or few values each (a day type's days, a slot's neighbours), go to bottleneck's selection: the
    same numbers for finite values, several times faster there. Many medians of more than 16 values (or of 6-16
    over a large array) are faster sorted."""
    m = a.shape[axis]
    if m <= 5 or a.size <= 64 * max(m, 1) or (m <= 16 and a.size <= SMALL_MEDIAN_SIZE):
        return bottleneck.nanmedian(a, axis=axis)
    if overwrite_input:
        a.sort(axis=axis)  # NaNs sort last
    else:
        a = np.sort(a, axis=axis)
    if m and not np.isnan(a.take(m - 1, axis=axis)).any():  # no NaN (the usual case): the middle of the sort
        return (a.take((m - 1) // 2, axis=axis) + a.take(m // 2, axis=axis)) / 2
    n = np.isfinite(a).sum(axis=axis)
    lo = np.maximum((n - 1) // 2, 0)
    hi = np.maximum(n // 2, 0)
    take = (lambda i: np.take_along_axis(a, i[None, :], axis=0)[0]) if axis == 0 else \
        (lambda i: np.take_along_axis(a, i[:, None], axis=1)[:, 0])
    out = (take(lo) + take(hi)) / 2
    return np.where(n > 0, out, np.nan)


def smooth_circular(profile: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return profile
    half = width // 2
    padded = np.concatenate([profile[-half:], profile, profile[:half]])
    kernel = np.ones(2 * half + 1) / (2 * half + 1)
    return np.convolve(padded, kernel, mode="valid")


def robust_recent_mean(rows: np.ndarray, age: np.ndarray, halflife_days: float) -> np.ndarray:
    """Recency-weighted mean (half-life `halflife_days`) of the rows after clipping each slot to its
    median +- 3 robust SDs, so a spike on one day cannot move the profile much."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if len(rows) >= 3:
            med = nanmedian(rows, axis=0)
            mad = 1.4826 * nanmedian(np.abs(rows - med), axis=0)
            rows = np.clip(rows, med - 3 * mad, med + 3 * mad)
        w = 0.5 ** ((age - age.min()) / halflife_days)
        w = np.where(np.isfinite(rows), w[:, None], 0.0)
        den = w.sum(axis=0)
        num = np.nansum(np.where(np.isfinite(rows), rows, 0.0) * w, axis=0)
        return np.where(den > 0, num / np.maximum(den, 1e-300), np.nan)  # NaN: no row has the slot


def clip_departure(prof: np.ndarray, pooled: np.ndarray, k: float = 3.0) -> np.ndarray:
    """A profile from one or two days cannot tell an outlier hour from its own shape slot by slot (a median needs
    three); compared with the pooled profile it can: a different day type departs from it smoothly over the day,
    an outlier in a few slots. So the departure is clipped to its median +- k robust SDs over the slots."""
    dev = (prof - pooled)[None, :]
    med = nanmedian(dev, axis=1)
    mad = 1.4826 * nanmedian(np.abs(dev - med[:, None]), axis=1)
    return pooled + np.clip(dev[0], med[0] - k * mad[0], med[0] + k * mad[0])


def normalise(prof: np.ndarray, multiplicative: bool) -> np.ndarray:
    """A profile scaled to mean 1 (non-negative; flat when its mean is not positive), or shifted to mean 0."""
    if multiplicative:
        m = prof.mean()
        return np.maximum(prof / m, 0.0) if m > 0 else np.ones_like(prof)
    return prof - prof.mean()


class IntradayShape:
    """Spec: (multiplicative, smoothing width in slots, number of weeks). `fit(grid, day_groups)`."""

    def __init__(self, multiplicative: bool = True, smooth: int = 15, weeks: int = 8, min_coverage: float = 0.8,
                 halflife_days: float = 7.0, min_partial: float = 0.25):
        self.multiplicative = multiplicative
        self.smooth = smooth
        self.weeks = weeks
        self.min_coverage = min_coverage
        self.halflife_days = halflife_days
        self.min_partial = min_partial

    def fit(self, grid: np.ndarray, groups: np.ndarray, day_types=None) -> "IntradayShape":
        """`grid`: (n_days, slots) values with NaN for missing/masked slots. `groups`: one label per day.
        `day_types`: the labels of regular day-type groups (None: all); those with fewer than 3 usable days have
        their departure from the pooled profile clipped (`clip_departure`), conditional shapes are kept as seen."""
        n_days, slots = grid.shape
        self.slots_ = slots
        cover = np.isfinite(grid).mean(axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(grid, axis=1)
        usable = (cover >= self.min_coverage) & np.isfinite(mean)
        if self.multiplicative:
            usable &= mean > 0
        recent = np.zeros(n_days, bool)
        recent[max(0, n_days - 7 * self.weeks):] = True
        usable &= recent
        if self.multiplicative:
            rel = grid / np.where(mean > 0, mean, np.nan)[:, None]
        else:
            rel = grid - mean[:, None]
        neutral = 1.0 if self.multiplicative else 0.0
        self.profiles_ = {}
        self.n_days_used_ = {}
        age = (n_days - 1 - np.arange(n_days)).astype(float)
        whole = usable
        partial = recent & (cover >= self.min_partial) & (cover < self.min_coverage) & np.isfinite(mean)
        if partial.any() and whole.any():
            self._fit_groups(rel, whole, whole, groups, age, day_types, neutral)
            rel = rel.copy()
            for d in np.nonzero(partial)[0]:
                have = np.isfinite(grid[d])
                expect = self.profile(groups[d])[have]
                if self.multiplicative:
                    scale = np.nanmean(grid[d][have]) / expect.mean() if expect.mean() > 0 else np.nan
                    rel[d] = grid[d] / scale if scale > 0 else np.nan
                else:
                    rel[d] = grid[d] - (np.nanmean(grid[d][have]) - expect.mean())
            usable = whole | (partial & np.isfinite(rel).any(axis=1))
            self.profiles_, self.n_days_used_ = {}, {}
        self._fit_groups(rel, usable, whole, groups, age, day_types, neutral)
        return self

    def _fit_groups(self, rel, usable, whole, groups, age, day_types, neutral):
        """Profiles from the `usable` days. A group needs a whole day of its own (else it falls back to the pooled
        profile; `n_days_used_` counts whole days); partial days add to the slots they have. In the slots a regular
        group has seen on fewer than 3 days, where a per-slot median cannot tell a spike, its departure from the
        pooled profile is clipped (`clip_departure`). A slot no day of a group has takes the pooled value."""
        slots = rel.shape[1]
        all_prof = self._center(rel[usable], age[usable]) if usable.any() else np.full(slots, neutral)
        self.profiles_["__all__"] = self._finish(all_prof, neutral)
        for g in np.unique(groups):
            in_group = groups == g
            n_whole = int((whole & in_group).sum())
            self.n_days_used_[str(g)] = n_whole
            if n_whole == 0:
                continue
            rows = usable & in_group
            prof = self._center(rel[rows], age[rows])
            if (day_types is None or g in day_types) and whole.sum() > n_whole:
                thin = np.isfinite(rel[rows]).sum(axis=0) < 3  # slots seen on fewer than 3 of the group's days
                if thin.any():
                    prof = np.where(thin, clip_departure(prof, all_prof), prof)
            self.profiles_[str(g)] = self._finish(np.where(np.isfinite(prof), prof, all_prof), neutral)

    def _center(self, rows: np.ndarray, age: np.ndarray) -> np.ndarray:
        return robust_recent_mean(rows, age, self.halflife_days)

    def _finish(self, prof: np.ndarray, neutral: float) -> np.ndarray:
        prof = np.where(np.isfinite(prof), prof, neutral)
        return normalise(smooth_circular(prof, self.smooth), self.multiplicative)

    def profile(self, group) -> np.ndarray:
        return self.profiles_.get(str(group), self.profiles_["__all__"])

    def matrix(self, groups) -> np.ndarray:
        """(len(groups), slots) profiles, one row per day."""
        return np.stack([self.profile(g) for g in groups]) if len(groups) else np.zeros((0, self.slots_))


def holdout_errors(grid: np.ndarray, structures: dict, multiplicative: bool = True, weeks: int = 8,
                   halflife_days: float = 7.0, holdout: int = 7, min_coverage: float = 0.8) -> np.ndarray:
    """Out-of-sample errors of the intra-day shape under competing day-type structures.

    `structures`: {name: one group label per day of `grid`}. Each of the last `holdout` usable days is held out in
    turn; its shape is estimated from the usable days before it (same window, recency weights and clipping as
    `IntradayShape`), from the held-out day's own group, or pooled over all days when that group has none yet
    (as `IntradayShape.profile` falls back). The error is the mean absolute difference between the held-out day's
    relative profile (values / its mean, or minus it) and that estimate. The work is on hourly block means (a
    grid of `S` slots with `S % 24 == 0`): the minute noise, the same for every structure, averages out, and a
    held-out day costs a few small array operations. Only whole days are held out and estimated from: the partial
    days that `IntradayShape` adds to the slots they have would tell structures apart on a fraction of a day.
    Returns an array (held-out days, structures), columns in the order of `structures`; no rows when the history
    is too short to hold a day out."""
    first = max(0, len(grid) - 7 * weeks - max(holdout, 0))  # older days are in no held-out day's window
    grid = grid[first:]
    n_days, S = grid.shape
    blk = S // 24 if S >= 24 and S % 24 == 0 else 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cover = np.isfinite(grid).mean(axis=1)
        mean = np.nanmean(grid, axis=1)
        blocks = np.nanmean(grid.reshape(n_days, S // blk, blk), axis=2) if blk > 1 else grid
    usable = (cover >= min_coverage) & np.isfinite(mean)
    if multiplicative:
        usable &= mean > 0
        rel = blocks / np.where(usable, mean, np.nan)[:, None]
    else:
        rel = blocks - mean[:, None]
    neutral = 1.0 if multiplicative else 0.0

    def finish(prof):
        return normalise(np.where(np.isfinite(prof), prof, neutral), multiplicative)

    idx = np.nonzero(usable)[0]
    held = idx[1:][-holdout:] if holdout > 0 else idx[:0]
    labels = [np.asarray(v)[first:] for v in structures.values()]
    out = np.zeros((len(held), len(labels)))
    for i, d in enumerate(held):
        prior = idx[(idx < d) & (idx >= d - 7 * weeks)]
        age = (d - 1 - prior).astype(float)
        pooled = robust_recent_mean(rel[prior], age, halflife_days)
        cache = {np.ones(len(prior), bool).tobytes(): finish(pooled)}
        for j, lab in enumerate(labels):
            rows = lab[prior] == lab[d]
            if not rows.any():  # no day of its group yet: the pooled shape, as IntradayShape.profile falls back
                rows[:] = True
            key = rows.tobytes()
            if key not in cache:
                prof = robust_recent_mean(rel[prior[rows]], age[rows], halflife_days)
                if rows.sum() < 3:  # as IntradayShape does for a small day-type group
                    prof = clip_departure(prof, pooled)
                cache[key] = finish(prof)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[i, j] = np.nanmean(np.abs(rel[d] - cache[key]))
    return out
