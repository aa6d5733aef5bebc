"""Baselines that always answer: seasonal naive (the same slot last week) and naive (the last value).

Seasonal naive uses a season of one week when the history holds at least a week, else one day (documented in
its summary). Missing history slots take the value one season earlier, else the history mean.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.models.base import ModelSpec
from cloudtune.models.grain import DAY, WEEK


def season_for(span: pd.Timedelta, step: pd.Timedelta) -> pd.Timedelta:
    if step >= WEEK:
        return step
    return WEEK if span >= WEEK else max(DAY, step)


class SeasonalNaiveModel(ModelSpec):
    """Spec: value(t) = value(t - k * season) for the smallest k landing in the history."""

    name = "seasonal_naive"

    def min_history(self, step):
        return max(DAY, step) if step < DAY else step

    def _fit_core(self, y, step, events=None, regressors=None, reuse=None):
        return SeasonalNaiveCore().fit(y, step)


class SeasonalNaiveCore:
    combine = "add"

    def fit(self, y: pd.Series, step: pd.Timedelta):
        self.step_ = step
        self.start_ = y.index[0]
        self.end_ = y.index[-1] + step
        self.season_ = season_for(self.end_ - self.start_, step)
        P = max(1, int(self.season_ // step))
        v = y.to_numpy(dtype=float).copy()
        for _ in range(4):
            miss = np.isnan(v)
            if not miss.any():
                break
            idx = np.nonzero(miss)[0]
            src = idx - P
            okk = src >= 0
            v[idx[okk]] = v[src[okk]]
        mean = float(np.nanmean(y.to_numpy())) if y.notna().any() else 0.0
        self.values_ = np.where(np.isnan(v), mean, v)
        self.P_ = P
        return self

    def parts(self, ts, regs=None, events=None):
        pos = np.asarray((pd.DatetimeIndex(ts) - self.start_) // self.step_, dtype=np.int64)
        n = len(self.values_)
        k = np.where(pos >= n, (pos - n) // self.P_ + 1, 0)
        j = np.clip(pos - k * self.P_, 0, n - 1)
        return {"seasonal_naive": self.values_[j]}

    def describe(self):
        return {"season": str(self.season_)}


class NaiveModel(ModelSpec):
    """Spec: the last observed value, flat. The last resort of the fallback chain; needs one point."""

    name = "naive"

    def min_history(self, step):
        return step

    def _fit_core(self, y, step, events=None, regressors=None, reuse=None):
        return NaiveCore().fit(y)


class NaiveCore:
    combine = "add"

    def fit(self, y: pd.Series):
        obs = y.dropna()
        self.last_ = float(obs.iloc[-1]) if len(obs) else 0.0
        return self

    def parts(self, ts, regs=None, events=None):
        return {"naive": np.full(len(ts), self.last_)}

    def describe(self):
        return {"last_value": self.last_}
