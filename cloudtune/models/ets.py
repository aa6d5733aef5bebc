"""Statsmodels baseline: Holt-Winters ETS on the daily level x the robust intra-day shape.

ETS at minute resolution with a 10,080-slot season is not practical, so the baseline uses the same two-resolution
split as the default model: statsmodels `ExponentialSmoothing` (additive damped trend, additive day-of-week season
when there are two weeks of days) on the log of the shape-adjusted daily level, times the intra-day shape.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from cloudtune.models.base import ModelSpec
from cloudtune.models.grain import DAY
from cloudtune.models.shape import IntradayShape


class ETSModel(ModelSpec):
    name = "ets"

    def __init__(self, trend: str | None = "add", damped: bool = True, aggregation: str = "mean"):
        super().__init__(dict(trend=trend, damped=damped), aggregation)

    def min_history(self, step):
        return max(4 * DAY, 4 * step)

    def _fit_core(self, y, step, events=None, regressors=None, reuse=None):
        return ETSCore(**self.settings).fit(y, step)


class ETSCore:
    combine = "multiply"

    def __init__(self, trend="add", damped=True):
        self.trend = trend
        self.damped = damped

    def fit(self, y: pd.Series, step: pd.Timedelta):
        self.step_ = step
        v = y.to_numpy(dtype=float)
        self.offset_ = 1e-3 * max(float(np.nanmean(v)), 1e-9)
        if step < DAY:
            S = int(DAY // step)
            day0 = y.index[0].floor("D")
            n_days = int((y.index[-1].floor("D") - day0) // DAY) + 1
            grid = np.full(n_days * S, np.nan)
            grid[np.asarray((y.index - day0) // step, dtype=int)] = v
            grid = grid.reshape(n_days, S)
            self.shape_ = IntradayShape(True, max(1, int(pd.Timedelta("15min") // step))).fit(
                grid, np.full(n_days, "all", dtype=object))
            prof = self.shape_.profile("all")
            have = np.isfinite(grid)
            psum = np.where(have, prof, 0).sum(axis=1)
            lvl = np.where(psum > 0, np.where(have, grid, 0).sum(axis=1) / np.maximum(psum, 1e-12), np.nan)
            lvl[have.mean(axis=1) < 0.25] = np.nan
            self.days_ = pd.date_range(day0, periods=n_days, freq="D")
        else:
            self.shape_ = None
            lvl = v
            self.days_ = y.index
        s = pd.Series(np.log(np.maximum(lvl, 0) + self.offset_))
        s = s.interpolate(limit_direction="both")
        seasonal = "add" if step <= DAY and len(s) >= 14 else None
        trend = self.trend if len(s) >= 6 else None
        # Imported here: statsmodels takes a second to import, and most runs never fall back to this model (every
        # Spark worker would pay it on its first series).
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.res_ = ExponentialSmoothing(s.to_numpy(), trend=trend, damped_trend=self.damped and trend is not None,
                                             seasonal=seasonal, seasonal_periods=7 if seasonal else None,
                                             initialization_method="estimated").fit()
        self.n_days_ = len(s)
        return self

    def parts(self, ts, regs=None, events=None):
        ts = pd.DatetimeIndex(ts)
        unit = DAY if self.step_ < DAY else self.step_
        d = ts.floor("D") if self.step_ <= DAY else ts
        k = np.asarray((d - self.days_[0]) // unit, dtype=int)
        kmax = max(int(k.max()) + 1 - self.n_days_, 0)
        fitted = np.asarray(self.res_.fittedvalues)
        path = np.concatenate([fitted, np.asarray(self.res_.forecast(kmax)) if kmax else []])
        level = np.exp(path[np.clip(k, 0, len(path) - 1)])
        out = {"level": level}
        if self.shape_ is not None:
            slot = np.asarray((ts - d) // self.step_, dtype=int)
            out["daily"] = self.shape_.profile("all")[slot]
        return out

    def describe(self):
        return {"ets_params": {k: float(v) for k, v in self.res_.params.items()
                               if np.isscalar(v) and np.isfinite(v)}}
