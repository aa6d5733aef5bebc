"""CloudTune's default model: a robust daily level x a minute-of-week intra-day shape (two resolutions).

    value(t) = trend(day) x weekly(day, slot) x daily(slot) x yearly(day) x extra(day) x regressors(day)
               x conditional(day, slot) x level_adjust(day) x events(t)          (multiplicative mode)

and the same as a sum in additive mode. The level is a statsmodels RLM on one value per day (`level.py`) with
piecewise-linear trend and penalized breaks (`breaks.py`); the shape is a robust median profile per day type
(`shape.py`); `level_adjust` carries the last day's level residual forward with its AR(1) decay. Beyond the history the trend's
last slope is followed for as many days as its segment spans (L, from the last break or the first day) and damped
beyond (D(h) = L + L (1 - exp(-(h - L) / L))), so a short history is not extrapolated a year ahead; the summary's
growth says "damped beyond L days". Event windows
(with ramp and decay) are left out of the level and shape fits and their effects are learned by
`cloudtune.events.effects.EventEffects` on the event-free baseline. Cost grows with days + slots per day.
"""
from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from cloudtune.errors import ModelError
from cloudtune.events.effects import EventEffects, learned_effects_reach
from cloudtune.models.base import ModelSpec, combine_parts
from cloudtune.models.grain import DAY
from cloudtune.models.level import NS_PER_DAY, DailyLevel
from cloudtune.models.settings import CloudTuneSettings
from cloudtune.models.shape import WEEKDAY_INDEX, IntradayShape, holdout_errors, nanmedian, smooth_circular

log = logging.getLogger(__name__)

DAY_TYPES_HOLDOUT = 7  # days held out to choose day_types "auto" (one of each weekday)
DAY_TYPES_MARGIN = 0.05  # relative error reduction a richer day-type structure needs over a simpler one


def _window_mask(ts: pd.DatetimeIndex, events: pd.DataFrame, ramps: bool = True) -> np.ndarray:
    lo, hi = events["start"], events["end"]
    if ramps:
        lo, hi = lo - events["ramp_before"], hi + events["decay_after"]
    known = (lo < hi).to_numpy()  # an open or unknown window (NaT) masks nothing, as a comparison with NaT
    lo, hi = pd.DatetimeIndex(lo[known]), pd.DatetimeIndex(hi[known])
    if ts.is_monotonic_increasing:  # the usual case: each window is one slice, all found by one binary search
        edges = np.zeros(len(ts) + 1, np.int64)
        np.add.at(edges, ts.searchsorted(lo), 1)
        np.add.at(edges, ts.searchsorted(hi), -1)
        return np.cumsum(edges[:-1]) > 0
    m = np.zeros(len(ts), bool)
    for s, e in zip(lo, hi):
        m |= (ts >= s) & (ts < e)
    return m


def _robust_day_sums(grid, prof, have, mult: bool, offset: float, k: float = 4.0, floor: float = 0.05):
    """Per day: sums of values, of the shape and of the slots present, over the day's hours that agree with the
    day. Each hour's level (values / shape, or values - shape) is compared with the day's median hour; hours more
    than max(k robust SDs, `floor` in log or relative units) away (an outage, a spike, a level drop of a few
    hours) are left out, so a short incident does not move the daily level, and a break date is not pulled.
    Grains of an hour or more use one slot per "hour"; a day with fewer than 8 such blocks is used whole.

    The fourth output is the break test's target: per day, the mean of its kept hours' levels, each hour of the day
    weighted by the inverse of its robust variance about the day's median (NaN where a day has none, and everywhere
    when a day has fewer than 8 blocks). The log of the day's sums weighs each hour by its traffic, so the busy
    hours' noise dominates it; weighting by noise instead gives a quieter daily level, and a kink's date is placed
    more exactly. `_quieter` still picks the sums when they are the quieter of the two (bursty series). The level
    fit keeps the sums (the forecast is a level of sums)."""
    n_days, S = grid.shape
    blk = S // 24 if S >= 24 and S % 24 == 0 else 1
    nb = S // blk
    y0 = np.where(have, grid, 0.0)
    p0 = np.where(have, prof, 0.0)
    if nb < 8:
        return y0.sum(axis=1), p0.sum(axis=1), have.sum(axis=1), np.full(n_days, np.nan)
    ys = y0.reshape(n_days, nb, blk).sum(axis=2)
    ps = p0.reshape(n_days, nb, blk).sum(axis=2)
    cn = have.reshape(n_days, nb, blk).sum(axis=2)
    full = cn * 2 >= blk
    if mult:
        lev = np.log(ys + offset * cn) - np.log(np.where(ps > 0, ps, np.nan))
    else:
        lev = (ys - ps) / np.where(cn > 0, cn, np.nan)
    lev[~full] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = nanmedian(lev, axis=1)
        mad = 1.4826 * nanmedian(np.abs(lev - med[:, None]), axis=1)
    if mult:
        tol = np.maximum(k * mad, floor)
    else:
        tol = np.maximum(k * mad, floor * np.abs(np.where(cn > 0, ps / np.maximum(cn, 1), 0)).mean(axis=1))
    keep = np.abs(lev - med[:, None]) <= tol[:, None]
    keep |= ~np.isfinite(lev) & (cn > 0) & ~full  # partial hours are kept as they are
    keep &= (cn > 0)
    few = keep.sum(axis=1) < nb / 2  # an unusual day as a whole: keep all its hours
    keep[few] = cn[few] > 0
    good = keep & np.isfinite(lev)
    with warnings.catch_warnings():  # each hour of the day weighs 1 / (its robust variance about the day's median)
        warnings.simplefilter("ignore", RuntimeWarning)
        dev = np.where(good, lev - med[:, None], np.nan)
        v = (1.4826 * nanmedian(np.abs(dev - nanmedian(dev, axis=0)[None, :]), axis=0)) ** 2
    w = np.where(good & (np.isfinite(v) & (v > 0))[None, :], 1.0 / np.where(v > 0, v, 1.0)[None, :], 0.0)
    wsum = w.sum(axis=1)
    hour_mean = np.where(wsum > 0, (np.where(good, lev, 0.0) * w).sum(axis=1) / np.where(wsum > 0, wsum, 1.0), np.nan)
    return (ys * keep).sum(axis=1), (ps * keep).sum(axis=1), (cn * keep).sum(axis=1), hour_mean


def _quieter(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Of two daily levels of the same days, the one whose day-to-day changes have the smaller robust spread
    (MAD of first differences; NaN days skipped). The hours' mean is the quieter one when log noise is about the
    same in every hour; with bursty or near-zero hours (CPU, disk bytes) the log of the sums is."""
    def spread(x):
        d = np.diff(x[np.isfinite(x)])
        return float(np.median(np.abs(d - np.median(d)))) if d.size >= 3 else np.inf
    return a if spread(a) < spread(b) else b


def _weekly_log_half_range(grid, target, days, level, smooth_hours: int = 6, min_weeks: int = 3):
    """Half-range of the weekly log multiplier, (max - min) / 2 over the hours of a week, estimated from the
    history for the summary (the simulator's definition of a seasonal amplitude).

    Two-way decomposition of each hour's log value minus its day's log level: the median over weeks per
    (day of week, hour), minus its mean over the 7 days at that hour (the daily cycle), plus the level's
    day-of-week effect; then a centred `smooth_hours` moving average around the week, so hour-to-hour noise does
    not inflate the range. None with fewer than `min_weeks` weeks of usable days."""
    n_days, S = grid.shape
    blk = S // 24
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hourly = np.nanmean(grid.reshape(n_days, 24, blk), axis=2)
        x = np.log(hourly) - target[:, None]
        x[~np.isfinite(x)] = np.nan
        dow = days.dayofweek.to_numpy()
        m = np.full((7, 24), np.nan)
        for d in range(7):
            rows = x[(dow == d) & np.isfinite(target)]
            if len(rows) < min_weeks:
                return None
            m[d] = nanmedian(rows, axis=0)
    if not np.isfinite(m).all():
        return None
    week = m - m.mean(axis=0, keepdims=True)
    if "weekly" in level.block_names_:
        c = level.coef("weekly")
        week = week + np.append(c, -c.sum())[:, None]
    w = smooth_circular(week.ravel(), smooth_hours)
    return float((w.max() - w.min()) / 2)


def _unique_sorted(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(v, return_inverse=True) without a sort when v is already sorted (the usual case)."""
    if len(v) and (v[1:] >= v[:-1]).all():
        new = np.empty(len(v), bool)
        new[0] = True
        new[1:] = v[1:] != v[:-1]
        return v[new], np.cumsum(new) - 1
    return np.unique(v, return_inverse=True)


class CloudTuneModel(ModelSpec):
    """Spec of the default model. `CloudTuneModel(settings).fit(history, events, regressors, outliers)`."""

    name = "cloudtune"

    def __init__(self, settings: CloudTuneSettings | None = None, aggregation: str = "mean"):
        settings = settings or CloudTuneSettings()
        super().__init__(settings, aggregation)
        for s in settings.seasonalities:
            if pd.Timedelta(s.period) < 2 * DAY:
                raise ModelError(f"seasonality '{s.name}': period {s.period} is shorter than 2 days; shorter cycles "
                                 "that divide a week are already in the minute-of-week shape")

    def min_history(self, step):
        return max(pd.Timedelta(self.settings.min_history), 3 * step)

    def max_horizon(self):
        return pd.Timedelta(self.settings.max_horizon)

    def _calibration(self, y, step, events, regs, core):
        def fit_predict(train, ts):
            # Event effects are most of a refit's cost and change its forecast only where an event learned from
            # `train` recurs inside `ts`; elsewhere every event sits at its fallback curve, learned or not.
            learn = learned_effects_reach(events, (train.index[0], train.index[-1] + step), ts)
            c = TwoResolutionCore(self.settings).fit(train, step, events, regs, core, learn_effects=learn)
            return combine_parts(c.parts(ts, regs, events), c.combine)
        return dict(fit_predict=fit_predict, origins=self.settings.calibration_origins,
                    horizon=pd.Timedelta(self.settings.calibration_horizon))

    def _fit_core(self, y, step, events=None, regressors=None, reuse=None):
        return TwoResolutionCore(self.settings).fit(y, step, events, regressors, reuse)


class TwoResolutionCore:
    def __init__(self, settings: CloudTuneSettings):
        self.settings = settings

    # -- helpers ------------------------------------------------------------------------------------------------
    def _groups(self, days: pd.DatetimeIndex, events) -> np.ndarray:
        dow = days.dayofweek.to_numpy()
        if self.day_types_ == "dow":
            g = dow.astype(str).astype(object)
        elif self.day_types_ == "weekend":
            g = np.where(dow >= 5, "weekend", "weekday").astype(object)
        else:
            g = np.full(len(days), "all", dtype=object)
        for c in self.settings.conditional:
            if c.days:
                g[np.isin(dow, [WEEKDAY_INDEX[d] for d in c.days])] = c.name
            if c.event_kinds and events is not None and len(events):
                ev = events[events["kind"].isin(c.event_kinds)]
                for r in ev.itertuples():
                    g[(days >= r.start.floor("D")) & (days < r.end)] = c.name
        return g

    def _regular_group(self, days, day_types: str | None = None) -> np.ndarray:
        dow = days.dayofweek.to_numpy()
        day_types = day_types or self.day_types_
        if day_types == "dow":
            return dow.astype(str).astype(object)
        if day_types == "weekend":
            return np.where(dow >= 5, "weekend", "weekday").astype(object)
        return np.full(len(days), "all", dtype=object)

    def _choose_day_types(self, grid: np.ndarray, days: pd.DatetimeIndex) -> tuple[str, dict]:
        """day_types "auto": the structure (none, weekend, dow) whose intra-day shape best predicts the last days
        of the history out of sample (`holdout_errors`). A richer structure must beat the best simpler one by
        DAY_TYPES_MARGIN: its groups hold fewer days, so its profiles are noisier, and a near tie is noise."""
        if grid.shape[1] == 1:
            return "none", dict(source="auto", reason="no intra-day shape at a daily grain")
        s = self.settings
        order = ("none", "weekend", "dow")
        err = holdout_errors(grid, {dt: self._regular_group(days, dt) for dt in order}, self.mult_, s.shape_weeks,
                             pd.Timedelta(s.shape_halflife) / DAY, DAY_TYPES_HOLDOUT)
        if len(err) == 0:
            return "none", dict(source="auto", held_out_days=0,
                                reason="history too short to hold a day out: one pooled shape")
        mean = dict(zip(order, err.mean(axis=0)))
        pick = "none"
        for i in (1, 2):
            if mean[order[i]] < min(mean[o] for o in order[:i]) * (1 - DAY_TYPES_MARGIN):
                pick = order[i]
        if pick == "none":
            why = f"weekend and dow shapes not {100 * DAY_TYPES_MARGIN:.0f}% better than one pooled shape"
        else:
            why = f"{100 * (1 - mean[pick] / mean['none']):.1f}% lower error than one pooled shape"
        return pick, dict(source="auto", held_out_days=len(err),
                          shape_error={k: round(float(v), 5) for k, v in mean.items()},
                          reason=f"{pick}: out-of-sample intra-day shape error on the last {len(err)} day(s); {why}")

    # -- fit ----------------------------------------------------------------------------------------------------
    def fit(self, y: pd.Series, step: pd.Timedelta, events=None, regs=None, reuse=None, learn_effects: bool = True):
        s = self.settings
        self.step_ = step
        self.mult_ = s.mode == "multiplicative"
        self.combine = "multiply" if self.mult_ else "add"
        self.end_ = y.index[-1] + step
        yv = y.to_numpy(dtype=float).copy()
        self.events_used_ = events is not None and len(events) > 0
        if self.events_used_:
            yv[_window_mask(y.index, events)] = np.nan
        finite = yv[np.isfinite(yv)]
        if finite.size == 0:
            raise ModelError("every point of the history is inside an event window or masked; nothing to fit")
        self.offset_ = 1e-3 * max(float(finite.mean()), 1e-9)
        self.notes_ = []
        if step < DAY:
            S = int(DAY // step)
            day0 = y.index[0].floor("D")
            n_days = int((y.index[-1].floor("D") - day0) // DAY) + 1
            pos = np.asarray((y.index - day0) // step, dtype=int)
            grid = np.full(n_days * S, np.nan)
            grid[pos] = yv
            grid = grid.reshape(n_days, S)
            days = pd.date_range(day0, periods=n_days, freq="D")
        else:
            S = 1
            days = y.index
            grid = yv[:, None]
        self.slots_ = S
        n_valid_days = int((np.isfinite(grid).mean(axis=1) > 0.25).sum())
        if s.day_types != "auto":
            self.day_types_ = s.day_types
            self.day_types_choice_ = dict(source="configured")
        elif reuse is not None:  # calibration refits keep the final fit's structure, as they keep its breaks
            self.day_types_ = reuse.day_types_
            self.day_types_choice_ = reuse.day_types_choice_
        else:
            self.day_types_, self.day_types_choice_ = self._choose_day_types(grid, days)
        groups = self._groups(days, events)
        smooth = max(1, int(pd.Timedelta(s.shape_smooth) // step)) if S > 1 else 1
        self.shape_ = IntradayShape(self.mult_, smooth, s.shape_weeks,
                                    halflife_days=pd.Timedelta(s.shape_halflife) / DAY).fit(
            grid, groups, set(self._regular_group(days)))
        # Daily level, adjusted for the shape over the slots each day actually has (partial days, gaps).
        prof = self.shape_.matrix(groups)
        have = np.isfinite(grid)
        cover = have.mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ysum, psum, cnt, hour_mean = _robust_day_sums(grid, prof, have, self.mult_, self.offset_)
            if self.mult_:
                level = np.where(psum > 0, ysum / psum, ysum / np.maximum(cnt, 1))
                target = np.log(np.maximum(level, 0) + self.offset_)
            else:
                target = (ysum - psum) / np.maximum(cnt, 1)
        target[(cover < 0.25) | (cnt == 0)] = np.nan
        detect_target = _quieter(np.where(np.isfinite(hour_mean) & np.isfinite(target), hour_mean, target), target)
        span_days = (self.end_ - y.index[0]) / DAY
        yearly = s.yearly == "on" or (s.yearly == "auto" and span_days > 366)
        if s.yearly == "auto" and not yearly:
            self.notes_.append(f"yearly seasonality omitted: needs more than a year of history, have {span_days:.0f} days")
        weekly = s.weekly and step <= DAY and n_valid_days >= 14
        if s.weekly and not weekly:
            self.notes_.append(f"day-of-week level effects omitted: needs 14 days, have {n_valid_days}")
        extra = [(x.name, pd.Timedelta(x.period) / DAY, x.order) for x in s.seasonalities]
        self.reg_names_ = list(regs.columns) if regs is not None else []
        daily_regs = None
        if regs is not None:
            daily_regs = regs.groupby(regs.index.floor("D")).mean().reindex(days)
            miss = daily_regs.isna().any(axis=1).to_numpy() & np.isfinite(target)
            if miss.any():
                raise ModelError(f"regressor values are missing for {int(miss.sum())} day(s) of the history "
                                 f"(first {days[miss][0].date()}); give values covering every day")
        known = None
        if reuse is not None:
            known = [(d.value - int(days[np.isfinite(target)][0].value)) / NS_PER_DAY for d in reuse.level_.knot_dates()]
        self.level_ = DailyLevel(s, weekly, yearly, 0.5 if S > 1 else 0.0).fit(
            days, target, daily_regs, s.breaks, extra, known, detect_y=detect_target)
        self.days_ = days
        self.weekly_log_amp_ = None
        if reuse is None and weekly and self.mult_ and S >= 24:
            self.weekly_log_amp_ = _weekly_log_half_range(grid, target, days, self.level_)
        # AR(1) carry-over of the level residual.
        r = self.level_.resid_
        ok = np.isfinite(r)
        self.phi_, self.r_last_, self.last_day_ = 0.0, 0.0, days[-1]
        if s.level_adjust and ok.sum() >= 5:
            rr = r[ok]
            a, b = rr[1:], rr[:-1]
            den = float(b @ b)
            self.phi_ = float(np.clip((a @ b) / den, 0.0, 0.9)) if den > 0 else 0.0
            last = np.nonzero(ok)[0][-1]
            self.r_last_ = float(r[last])
            self.last_day_ = days[last]
        # Event effects learned on the event-free baseline.
        self.effects_ = None
        if self.events_used_ and learn_effects:
            base = self._baseline(y.index, regs, events)
            act = y.to_numpy(dtype=float)
            good = np.isfinite(act)
            self.effects_ = EventEffects().fit(y.index[good], act[good], base[good], events)
        return self

    # -- predict ------------------------------------------------------------------------------------------------
    def _baseline(self, ts, regs, events) -> np.ndarray:
        parts = self._parts_no_events(ts, regs, events)
        out = np.ones(len(ts)) if self.mult_ else np.zeros(len(ts))
        for v in parts.values():
            out = out * v if self.mult_ else out + v
        return out

    def _parts_no_events(self, ts, regs, events) -> dict[str, np.ndarray]:
        ts = pd.DatetimeIndex(ts)
        ns = ts.asi8
        if self.step_ <= DAY:  # integer day arithmetic: the index is UTC, so a day is NS_PER_DAY nanoseconds
            dfloor_ns = ns - ns % NS_PER_DAY
        else:
            dfloor_ns = ns
        udays, inv = _unique_sorted(dfloor_ns)
        udays = pd.DatetimeIndex(udays, tz="UTC")
        daily_regs = None
        if self.reg_names_:
            if regs is None:
                raise ModelError(f"regressors {self.reg_names_} were used in the fit; give their future values")
            daily_regs = regs.groupby(regs.index.floor("D")).mean().reindex(udays)[self.reg_names_]
            if daily_regs.isna().any().any():
                missing = udays[daily_regs.isna().any(axis=1).to_numpy()]
                raise ModelError(f"regressor values are missing for {len(missing)} day(s) "
                                 f"(first {missing[0].date()}); give values covering every forecast day")
        lp = self.level_.parts(udays, daily_regs)
        k = np.asarray((udays - self.last_day_) // DAY, dtype=float)
        adj = np.where(k >= 0, self.r_last_ * self.phi_ ** np.maximum(k, 0), 0.0)
        lp["level_adjust"] = adj
        out: dict[str, np.ndarray] = {}
        if self.slots_ > 1:
            slot = (ns - dfloor_ns) // self.step_.value
            reg_days = self._regular_group(udays)
            all_days = self._groups(udays, events)
            shape_reg = self.shape_.matrix(reg_days)[inv, slot]
            shape_all = shape_reg if (all_days == reg_days).all() else self.shape_.matrix(all_days)[inv, slot]
            all_g = all_days[inv] if self.settings.conditional else None
            daily = self._daily_profile()[slot]
        for name, v in lp.items():
            out[name] = np.exp(v[inv]) if self.mult_ else v[inv]
        if self.slots_ > 1:
            if self.mult_:
                dsafe = np.where(daily > 0, daily, shape_reg)
                ratio = np.where(daily > 0, shape_reg / np.where(daily > 0, daily, 1), 1.0)
                out["weekly"] = out.get("weekly", np.ones(len(ts))) * ratio
                out["daily"] = dsafe
                for c in self.settings.conditional:
                    sel = all_g == c.name
                    f = np.ones(len(ts))
                    okc = sel & (shape_reg > 0)
                    f[okc] = shape_all[okc] / shape_reg[okc]
                    badc = sel & (shape_reg <= 0)
                    out["daily"] = np.where(badc, shape_all, out["daily"])
                    out["weekly"] = np.where(badc, 1.0, out["weekly"])
                    out[c.name] = f
            else:
                out["weekly"] = out.get("weekly", np.zeros(len(ts))) + shape_reg - daily
                out["daily"] = daily
                for c in self.settings.conditional:
                    out[c.name] = np.where(all_g == c.name, shape_all - shape_reg, 0.0)
        return out

    def _daily_profile(self) -> np.ndarray:
        if not hasattr(self, "_daily_cache"):
            week = pd.date_range("2024-01-01", periods=7, freq="D", tz="UTC")  # a Monday .. Sunday
            self._daily_cache = self.shape_.matrix(self._regular_group(week)).mean(axis=0)
        return self._daily_cache

    def parts(self, ts, regs=None, events=None) -> dict[str, np.ndarray]:
        out = self._parts_no_events(ts, regs, events)
        if events is not None and len(events):
            effects = self.effects_
            if effects is None:  # fitted without events: unfitted effects apply priors (or 1.0 without one)
                effects = EventEffects()
                effects.step_ = self.step_  # window positions at the fit's step, as a fitted one would
            mult = effects.multipliers(pd.DatetimeIndex(ts), events)
            base = None
            running = np.ones(len(ts))
            if not self.mult_:
                base = np.zeros(len(ts))
                for v in out.values():
                    base = base + v
            for col in mult.columns:
                m = mult[col].to_numpy(dtype=float)
                if self.mult_:
                    out[f"event:{col}"] = m
                else:
                    out[f"event:{col}"] = base * running * (m - 1.0)
                    running = running * m
        return out

    # -- explain ------------------------------------------------------------------------------------------------
    def _amplitudes(self) -> dict:
        """Seasonal amplitudes as (max - min) / 2 of each component over its period: of the log multiplier in
        multiplicative mode (the component spans exp(+-amplitude) around its geometric mean, as the simulator's
        truth defines it), in the series' units in additive mode. Daily: the fitted minute-of-day profile (mean
        over day types). Weekly: a two-way day-of-week x hour decomposition of the history (see
        `_weekly_log_half_range`), or the day-of-week level effects alone at a daily grain. Yearly: the fitted
        yearly Fourier terms over a year."""
        lv = self.level_
        f = np.log if self.mult_ else (lambda v: v)
        amps = {"definition": ("half-range of the log multiplier, (max - min) / 2 of log(component)" if self.mult_
                               else "half-range of the additive component, (max - min) / 2, in the series' units")}
        if self.slots_ > 1:
            d = self._daily_profile()
            if not self.mult_ or d.min() > 0:
                amps["daily"] = float((f(d.max()) - f(d.min())) / 2)
        if getattr(self, "weekly_log_amp_", None) is not None:
            amps["weekly"] = self.weekly_log_amp_
        elif "weekly" in lv.block_names_:
            w = np.append(lv.coef("weekly"), -lv.coef("weekly").sum())
            amps["weekly"] = float((w.max() - w.min()) / 2)
        if "yearly" in lv.block_names_:
            days = pd.date_range("2024-01-01", periods=366, freq="D", tz="UTC")
            regs = None if not self.reg_names_ else pd.DataFrame(0.0, index=days, columns=self.reg_names_)
            yv = lv.parts(days, regs)["yearly"]
            amps["yearly"] = float((yv.max() - yv.min()) / 2)
        return amps

    def describe(self) -> dict:
        lv = self.level_
        trend = lv.coef("trend")
        slope0 = float(trend[1])
        hinges = trend[2:]
        unit = "log/day" if self.mult_ else "units/day"
        breaks = []
        slope = slope0
        fixed = set(lv.fixed_knots_)
        for k, date, dh in zip(lv.knots_, lv.knot_dates(), hinges):
            breaks.append(dict(date=str(date.date()), slope_before=slope, slope_after=slope + float(dh),
                               change=float(dh), source="configured" if k in fixed else "detected"))
            slope += float(dh)
        growth = dict(slope_per_day=slope, unit=unit)
        if self.mult_:
            growth["pct_per_week"] = float(np.expm1(7 * slope) * 100)
        L = float(getattr(lv, "damp_days_", 0.0))
        if L > 0:
            growth["damped_beyond_days"] = L
            growth["extrapolation"] = (f"linear for {L:.0f} days after the history (the last trend segment's "
                                       f"length), damped beyond {L:.0f} days (e-folding {L:.0f} days; at most "
                                       f"{2 * L:.0f} days of growth in all)")
        amps = self._amplitudes()
        out = {"mode": self.settings.mode, "growth": growth, "breaks": breaks,
               "seasonal_amplitudes": amps, "day_types": self.day_types_,
               "day_types_choice": dict(self.day_types_choice_),
               "regressors": {n: float(lv.coef(f"regressor:{n}")[0]) for n in self.reg_names_},
               "level_adjust": dict(phi=self.phi_, last_residual=self.r_last_),
               "notes": list(self.notes_)}
        if self.effects_ is not None and hasattr(self.effects_, "summary"):
            try:
                out["events"] = self.effects_.summary()
            except Exception as exc:  # the summary must not fail because of a partner module
                out["events"] = [dict(error=str(exc))]
        return out
