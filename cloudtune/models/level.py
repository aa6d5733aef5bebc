"""The daily level: a robust statsmodels regression on one value per day.

Columns: intercept, linear trend (per day), hinges at slope breaks (configured + detected), day-of-week effects
(effect-coded so they average to zero), yearly Fourier terms (only with more than a year of history), extra
Fourier seasonalities (period >= 2 days) and regressors (their daily mean). The target is the log of the daily level
for a multiplicative model and the level itself for an additive one. The fit is statsmodels RLM with Huber's T
(or OLS), so outlier days do not pull the level.

Trend extrapolation is damped beyond the evidence (`DailyLevel.trend_time`): the last segment's slope is
followed linearly for as long as the segment it was estimated on (L days, from the last break or the first day to
the last day), then damped with an e-folding time of L days, so it adds at most 2 L days of growth in total. A
slope fitted on the last 10 days of history is not extrapolated for a year: 28 days of history with a late break
had made a year-ahead forecast x1000 (or x0.001).
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cloudtune.models.breaks import detect_breaks, hinge

log = logging.getLogger(__name__)
NS_PER_DAY = 86_400 * 10**9
CURVATURE_MIN_SPAN_DAYS = 60  # from this span on, smooth yearly curvature is a nuisance in the break test


def fourier(t_days: np.ndarray, period_days: float, order: int) -> np.ndarray:
    k = np.arange(1, order + 1)[None, :]
    w = 2 * np.pi * t_days[:, None] / period_days
    return np.column_stack([np.sin(k * w), np.cos(k * w)])


def huber_rlm(X: np.ndarray, y: np.ndarray, t: float = 1.345, maxiter: int = 15, tol: float = 1e-5):
    """(params, scale) of statsmodels `RLM(y, X, M=HuberT(t)).fit(maxiter, tol)`: IRLS from OLS, MAD scale
    (about 0, as statsmodels' default) re-estimated each iteration, stop when the sum of Huber rho changes by
    less than `tol`. The same estimator in plain numpy: statsmodels' per-call wrapping cost 40% of a 14-day
    fit, and the calibration refits call it seven times per series (tests/models check the numbers agree)."""
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    scale = float(np.median(np.abs(r))) / 0.6744897501960817
    dev_old = np.inf
    for _ in range(maxiter):
        if not scale > 0:
            break
        a = np.abs(r) / scale
        sw = np.sqrt(np.where(a <= t, 1.0, t / np.maximum(a, 1e-300)))
        beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
        r = y - X @ beta
        scale = float(np.median(np.abs(r))) / 0.6744897501960817
        if not scale > 0:
            break
        a = np.abs(r) / scale
        dev = float(np.sum(np.where(a <= t, 0.5 * a**2, t * a - 0.5 * t**2)))
        if abs(dev - dev_old) < tol:
            break
        dev_old = dev
    return beta, scale


class DailyLevel:
    """Spec: settings only. `fit(days, y, regressors)` sets trailing-underscore attributes."""

    def __init__(self, settings, weekly: bool = True, yearly: bool = False, center: float = 0.0):
        self.settings = settings
        self.weekly = weekly
        self.yearly = yearly
        self.center = center  # 0.5 when a row is a whole day's mean: it stands for midday

    # -- design -----------------------------------------------------------------------------------------------
    def _t(self, days: pd.DatetimeIndex) -> np.ndarray:
        return (days.asi8 - self.t0_) / NS_PER_DAY + self.center

    def trend_time(self, t: np.ndarray) -> np.ndarray:
        """The trend's clock: t itself up to the last fitted day, then the damped extrapolation
        t_end + D(h), D(h) = h for h <= L and L + tau (1 - exp(-(h - L) / tau)) beyond, tau = L, where L is the
        length of the last trend segment (days from the last break, or from the first day, to the last day).
        The last slope is thus followed for as long as it was observed, and never for more than 2 L in total."""
        t_end = getattr(self, "t_end_", None)
        if t_end is None:
            return t
        L = self.damp_days_
        h = t - t_end
        far = h > L
        d = np.where(far, L + L * (1.0 - np.exp(-np.where(far, h - L, 0.0) / L)), h)
        return np.where(h > 0, t_end + d, t)

    def _blocks(self, days: pd.DatetimeIndex, regressors: pd.DataFrame | None) -> dict[str, np.ndarray]:
        """Design blocks by component name (trend holds intercept, slope and hinges; beyond the last fitted day
        on the damped clock of `trend_time`)."""
        t = self._t(days)
        tt = self.trend_time(t)
        blocks = {"trend": np.column_stack([np.ones_like(t), tt, hinge(tt, self.knots_)])}
        if self.weekly:
            dow = days.dayofweek.to_numpy()
            eff = np.zeros((len(t), 6))
            for j in range(6):
                eff[:, j] = (dow == j).astype(float) - (dow == 6).astype(float)
            blocks["weekly"] = eff
        abs_days = days.asi8 / NS_PER_DAY
        if self.yearly:
            blocks["yearly"] = fourier(abs_days, 365.25, self.settings.yearly_order)
        for s in self.extra_:
            blocks[s[0]] = fourier(abs_days, s[1], s[2])
        for name in self.regressor_names_:
            blocks[f"regressor:{name}"] = regressors[name].to_numpy(dtype=float)[:, None]
        return blocks

    # -- fit --------------------------------------------------------------------------------------------------
    def fit(self, days: pd.DatetimeIndex, y: np.ndarray, regressors: pd.DataFrame | None = None,
            fixed_breaks: list[pd.Timestamp] = (), extra=(), known_knots=None,
            detect_y: np.ndarray | None = None) -> "DailyLevel":
        """`y`: transformed daily level (NaN = left out). `extra`: (name, period_days, order) tuples.
        `known_knots`: reuse these knots (days since t0) instead of detecting (used by calibration refits).
        `detect_y`: a less noisy daily level for the break test only, on the same days (default `y`)."""
        ok = np.isfinite(y)
        self.break_test_ = None  # set below when this fit runs the break test
        self.t0_ = int(days[ok][0].value) if ok.any() else int(days[0].value)
        self.t_end_ = None  # no damping while fitting (set below, once the knots are known)
        self.extra_ = list(extra)
        self.regressor_names_ = list(regressors.columns) if regressors is not None else []
        t = self._t(days)
        fixed = [(pd.Timestamp(b).value - self.t0_) / NS_PER_DAY for b in fixed_breaks]
        fixed = [k for k in fixed if t[ok].min() < k < t[ok].max()]
        self.fixed_knots_ = fixed
        if known_knots is not None:
            knots = [k for k in known_knots if t[ok].min() < k < t[ok].max() - 1]
            self.knots_ = sorted(set(knots))
            self.detected_knots_ = [k for k in self.knots_ if k not in fixed]
        else:
            self.knots_ = sorted(fixed)
            detected = []
            if self.settings.auto_breaks and ok.sum() > 3 * self.settings.min_break_gap_days:
                blocks = self._blocks(days[ok], regressors[ok] if regressors is not None else None)
                base = np.column_stack([b for b in blocks.values()])
                span = float(t[ok].max() - t[ok].min())
                if not self.yearly and span >= CURVATURE_MIN_SPAN_DAYS:
                    # Under a year the model has no yearly term, but over months a yearly cycle bends the level.
                    # A first-harmonic yearly nuisance in the break test keeps that smooth bend from becoming
                    # breaks: a break must be a kink, not curvature. (Detection only; the fit stays piecewise.)
                    base = np.column_stack([base, fourier(days[ok].asi8 / NS_PER_DAY, 365.25, 1)])
                yd = y if detect_y is None else np.where(np.isfinite(detect_y), detect_y, y)
                self.break_test_ = (t[ok], yd[ok], base)  # the test's days, level and design (for diagnostics)
                detected = detect_breaks(t[ok], yd[ok], base, fixed=fixed, max_breaks=self.settings.max_breaks,
                                         penalty=self.settings.break_penalty,
                                         min_gap=self.settings.min_break_gap_days)
            self.detected_knots_ = detected
            self.knots_ = sorted(fixed + detected)
        blocks = self._blocks(days, regressors)
        t_ok = t[ok] if ok.any() else t
        self.damp_days_ = float(max(1.0, t_ok.max() - max([t_ok.min(), *self.knots_])))
        self.t_end_ = float(t_ok.max())
        self.block_names_ = list(blocks)
        self.block_sizes_ = [b.shape[1] for b in blocks.values()]
        X = np.column_stack(list(blocks.values()))[ok]
        yy = y[ok]
        hl = pd.Timedelta(getattr(self.settings, "level_halflife", "0d")) / pd.Timedelta("1d")
        if hl > 0:  # recency weights: rows scaled by sqrt(w), so the (robust) fit is a weighted one
            tt = t[ok]
            sw = np.sqrt(0.5 ** ((tt.max() - tt) / hl))
            Xw, yw = X * sw[:, None], yy * sw
        else:
            sw = np.ones(len(yy))
            Xw, yw = X, yy
        keep = np.ones(X.shape[1], bool)
        # A column that is all zero in the fit rows (e.g. a day of week never seen) is dropped, coefficient 0.
        keep[np.all(np.abs(X) < 1e-12, axis=0)] = False
        beta = np.zeros(X.shape[1])
        Xk = Xw[:, keep]
        if len(yy) > Xk.shape[1] + 2 and self.settings.robust:
            beta[keep], self.scale_ = huber_rlm(Xk, yw)
        else:
            b, *_ = np.linalg.lstsq(Xk, yw, rcond=None)
            beta[keep] = b
            r = yw - Xk @ b
            self.scale_ = float(np.sqrt(np.mean(r**2))) if len(r) else 0.0
        self.params_ = beta
        self.n_days_ = int(ok.sum())
        fitted = X @ beta
        self.resid_ = np.full(len(y), np.nan)
        self.resid_[ok] = yy - fitted
        return self

    # -- predict ----------------------------------------------------------------------------------------------
    def parts(self, days: pd.DatetimeIndex, regressors: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
        """Each component's contribution in the transformed space, one value per day."""
        blocks = self._blocks(days, regressors)
        out, i = {}, 0
        for name, size in zip(self.block_names_, self.block_sizes_):
            out[name] = blocks[name] @ self.params_[i:i + size]
            i += size
        return out

    def coef(self, name: str) -> np.ndarray:
        i = 0
        for n, size in zip(self.block_names_, self.block_sizes_):
            if n == name:
                return self.params_[i:i + size]
            i += size
        raise KeyError(name)

    def knot_dates(self) -> list[pd.Timestamp]:
        return [pd.Timestamp(self.t0_ + int(round(k * NS_PER_DAY)), tz="UTC") for k in self.knots_]
