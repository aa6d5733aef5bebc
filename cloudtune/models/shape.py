"""The intra-day shape: one profile per day type over the slots of a day (minute-of-week by day type).

Each day's values are divided by (multiplicative) or reduced by (additive) that day's own mean, then the profile of
a day type is the median over the most recent `shape_weeks` weeks of such days (the mean when fewer than 3 days),
which makes it robust to spikes. It is then smoothed with a centred moving average of `shape_smooth`, and
normalised to mean 1 (or 0). Cost: O(days x slots per day), no model fit per minute.
"""
from __future__ import annotations

import warnings

import numpy as np

WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def nanmedian(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """np.nanmedian along `axis` of a 2-D array, without the masked-array path numpy takes for small arrays
    (several times faster here). NaN where a column (row) has no finite value."""
    a = np.sort(a, axis=axis)  # NaNs sort last
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


class IntradayShape:
    """Spec: (multiplicative, smoothing width in slots, number of weeks). `fit(grid, day_groups)`."""

    def __init__(self, multiplicative: bool = True, smooth: int = 15, weeks: int = 8, min_coverage: float = 0.8,
                 halflife_days: float = 7.0):
        self.multiplicative = multiplicative
        self.smooth = smooth
        self.weeks = weeks
        self.min_coverage = min_coverage
        self.halflife_days = halflife_days

    def fit(self, grid: np.ndarray, groups: np.ndarray) -> "IntradayShape":
        """`grid`: (n_days, slots) values with NaN for missing/masked slots. `groups`: one label per day."""
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
        all_prof = self._center(rel[usable], age[usable]) if usable.any() else np.full(slots, neutral)
        self.profiles_["__all__"] = self._finish(all_prof, neutral)
        for g in np.unique(groups):
            rows = usable & (groups == g)
            self.n_days_used_[str(g)] = int(rows.sum())
            if rows.sum() == 0:
                continue
            self.profiles_[str(g)] = self._finish(self._center(rel[rows], age[rows]), neutral)
        return self

    def _center(self, rows: np.ndarray, age: np.ndarray) -> np.ndarray:
        """Recency-weighted mean (half-life `halflife_days`) of the rows after clipping each slot to its
        median +- 3 robust SDs, so a spike on one day cannot move the profile much."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if len(rows) >= 3:
                med = nanmedian(rows, axis=0)
                mad = 1.4826 * nanmedian(np.abs(rows - med), axis=0)
                rows = np.clip(rows, med - 3 * mad, med + 3 * mad)
            w = 0.5 ** ((age - age.min()) / self.halflife_days)
            w = np.where(np.isfinite(rows), w[:, None], 0.0)
            prof = np.nansum(np.where(np.isfinite(rows), rows, 0.0) * w, axis=0) / np.maximum(w.sum(axis=0), 1e-300)
        return prof

    def _finish(self, prof: np.ndarray, neutral: float) -> np.ndarray:
        prof = np.where(np.isfinite(prof), prof, neutral)
        prof = smooth_circular(prof, self.smooth)
        if self.multiplicative:
            m = prof.mean()
            prof = np.maximum(prof / m, 0.0) if m > 0 else np.ones_like(prof)
        else:
            prof = prof - prof.mean()
        return prof

    def profile(self, group) -> np.ndarray:
        return self.profiles_.get(str(group), self.profiles_["__all__"])

    def matrix(self, groups) -> np.ndarray:
        """(len(groups), slots) profiles, one row per day."""
        return np.stack([self.profile(g) for g in groups]) if len(groups) else np.zeros((0, self.slots_))
