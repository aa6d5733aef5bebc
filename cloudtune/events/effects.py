"""Learned multiplicative event effects on a relative-time axis (time-warped to each occurrence's length).

The engine fits its level and shape without the event windows, then hands us the actual values and its
event-free baseline at the same timestamps. Each event name gets a log-multiplier curve on z (see
warp.py: ramp [-1, 0), occurrence [0, 1), decay [1, 2)), linear between knots that are a minute apart at
the start of the shortest occurrence seen and at most 1/48 of the occurrence apart later. All events are
fitted jointly, so where Black Friday sits inside its sale week the product of the two reproduces the data
and a smoothness penalty on each curve decides who takes the bump (the short event).

The fit is a penalized quasi-Poisson regression with log link and offset log(baseline), variance
mu + kappa * mu^2 (counts at low volume, a constant coefficient of variation at high volume), solved by
iteratively reweighted least squares with Huber weights so one odd occurrence does not move the curve.
It estimates the mean multiplier without the log bias (E[log] < log E), which matters for low counts.

Before an occurrence teaches anything, its baseline is checked on the ordinary days around it (no event
window on them, at least half their points present, within `reference_days` of the occurrence): the daily
log ratio log(sum actual / sum baseline) says how far the engine's baseline sits from the data there. An
occurrence with too few such days, or whose baseline is off by more than `max_baseline_error` (a sensor
outage, the start of a history where the level has not settled), is unusable: it is left out of the fit and
the summary says why. A usable occurrence's baseline is recalibrated by the median of those ratios, so the
multiplier is measured against what the data did on the days around it.

A lift seen once on a noisy series is mostly noise. Each event's log-multiplier curve is shrunk toward 0 by
the credibility weight Z = n / (n + s^2 / tau^2) (Buhlmann credibility; the James-Stein / empirical-Bayes
posterior mean under a normal prior): n usable occurrences, s the robust spread of the daily log ratios around
them (how wrong a single occurrence's level can be), tau the prior spread of event lifts (`lift_prior_sd`).
On clean minute data s is a few percent and Z is about 1; on a day-level series with a wandering baseline a
single occurrence counts for much less. The summary reports Z.

An event never seen in the history (or seen only in unusable occurrences) uses its prior lift and shape
(priors.py); one with neither has no effect, and the summary says which applies.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from cloudtune.errors import InputError, ModelError
from cloudtune.timestamps import utc_index
from cloudtune.events.priors import prior_log_multiplier
from cloudtune.events.warp import (NS_PER_MIN, by_name, core_knots, hat_weights, infer_step, midpoints,
                                   occurrence_windows, relative_position, segment_knots, window_slice)

log = logging.getLogger(__name__)

_NEEDED = ("name", "start", "end")
_FINE_U = (np.arange(20_000) + 0.5) / 20_000  # continuous-time means over the occurrence


@dataclass(frozen=True)
class EffectSettings:
    growth: float = 1.15  # knot spacing grows by this factor from the first minute ...
    max_knot_width: float = 1.0 / 48  # ... up to this share of the occurrence
    ramp_knots: int = 12
    decay_knots: int = 12
    smooth: float = 0.15  # allowed second difference of the log multiplier between neighbouring knots
    huber: float = 2.5  # Pearson residuals beyond this are down-weighted
    iterations: int = 16
    min_core_seen: float = 0.5  # share of one occurrence that must be in the history to learn from it
    max_log_multiplier: float = 5.0  # clamp against a baseline near zero
    smooth_scale_minutes: float = 1440.0  # events longer than this get a stiffer curve, by (duration / this)^2
    reference_days: int = 21  # ordinary days this close to an occurrence judge its baseline
    min_reference_days: int = 5  # fewer ordinary days with data around it (or all there are, if fewer): unusable
    min_reference_share: float = 0.25  # ... or under this share of the ordinary days there (an outage): unusable
    min_day_coverage: float = 0.5  # share of a day's points that must be present for it to judge
    max_baseline_error: float = 3.0  # baseline off by more than this factor around it: unusable
    lift_prior_sd: float = 0.7  # tau, prior spread of event log lifts (x2 at one sd), for the credibility weight


@dataclass
class EventCurve:
    """One event name's effect: log multiplier as a function of the relative position z."""

    name: str
    source: str  # learned | prior | none
    knots: np.ndarray | None = None
    theta: np.ndarray | None = None
    has_ramp: bool = False
    has_decay: bool = False
    prior_shape: str = "flat"
    prior_lift: float = 1.0
    occurrences_learned: int = 0
    occurrences_partial: int = 0
    reference_minutes: float = float("nan")
    unusable: tuple = ()  # (start, reason) of occurrences left out because their baseline was not trustworthy
    credibility: float = 1.0  # Z: the share of the learned log curve kept (1 = no shrinkage)
    baseline_noise: float = 0.0  # s: robust sd of the daily log ratio actual / baseline around the occurrences

    def log_mult(self, z: np.ndarray) -> np.ndarray:
        out = np.zeros(z.shape)
        if self.source == "none":
            return out
        if self.source == "prior":
            return prior_log_multiplier(self.prior_shape, self.prior_lift, np.where(np.isfinite(z), z, np.nan))
        ok = np.isfinite(z) & (z >= 0) & (z < 1)
        if self.has_ramp:
            ok |= np.isfinite(z) & (z >= -1) & (z < 0)
        if self.has_decay:
            ok |= np.isfinite(z) & (z >= 1) & (z < 2)
        out[ok] = np.interp(z[ok], self.knots, self.theta)
        return out


class EventEffects:
    """Learned multiplicative event effects. `fit(ts, actual, baseline, events)`, then `multipliers(ts, events)`
    (one column per event name, 1.0 = no effect) and `summary()` (lift, shape, occurrences, source)."""

    def __init__(self, settings: EffectSettings | None = None):
        self.settings = settings or EffectSettings()

    # -- fit ----------------------------------------------------------------------------------------------------
    def fit(self, ts, actual, baseline, events: pd.DataFrame | None) -> "EventEffects":
        ts = _index(ts, "ts")
        actual = _array(actual, len(ts), "actual")
        baseline = _array(baseline, len(ts), "baseline")
        order = np.argsort(ts.asi8, kind="stable")
        ts, actual, baseline = ts[order], actual[order], baseline[order]
        events = _check_events(events)
        self.step_ = infer_step(ts)
        t = midpoints(ts, self.step_)
        valid = np.isfinite(actual) & np.isfinite(baseline) & (baseline > 0) & (actual >= 0)
        self.curves_: dict[str, EventCurve] = {}
        learn: dict[str, list] = {}
        blocked = np.zeros(len(ts), bool)  # windows of events we cannot learn: keep them out of the fit
        ref = _ReferenceDays(t, actual, baseline, valid, events, self.step_, self.settings)
        log_cal = np.zeros(len(ts))  # local recalibration of the baseline, mean over the occurrences covering a point
        n_cal = np.zeros(len(ts))
        windows = occurrence_windows(events)
        for name, rows in by_name(events):
            occ = events.iloc[rows]
            seen, partial, durations, unusable, spreads, good = 0, 0, [], [], [], []
            for k, (start, end, ramp, decay) in enumerate(windows[rows]):
                core = window_slice(t, start, end, 0.0, 0.0)
                frac = valid[core].sum() * (self.step_.value / NS_PER_MIN) / (end - start)
                if frac < self.settings.min_core_seen:
                    partial += frac > 0
                    continue
                cal, spread, reason = ref.judge(start, end)
                full = window_slice(t, start, end, ramp, decay)
                if reason:
                    unusable.append((occ["start"].iloc[k], reason))
                    blocked[full] = True
                    continue
                seen += 1
                durations.append(end - start)
                spreads.append(spread)
                good.append(k)
                log_cal[full] += np.log(cal)
                n_cal[full] += 1
            if seen:
                s2 = float(np.mean(np.square(spreads)))
                z = seen / (seen + s2 / self.settings.lift_prior_sd ** 2)
                learn[name] = [occ.iloc[good], durations, partial]
                self.curves_[name] = EventCurve(name, "learned", occurrences_learned=seen, occurrences_partial=partial,
                                                reference_minutes=float(np.median(durations)),
                                                unusable=tuple(unusable), credibility=z,
                                                baseline_noise=float(np.sqrt(s2)))
            else:
                self.curves_[name] = _fallback_curve(name, occ)
                self.curves_[name].unusable = tuple(unusable)
                for window in windows[rows]:
                    blocked[window_slice(t, *window)] = True
            for when, why in unusable:
                log.info("event %s at %s: occurrence not used, %s", name, when, why)
        if learn:
            calibrated = baseline * np.exp(np.divide(log_cal, n_cal, out=np.zeros(len(ts)), where=n_cal > 0))
            self._fit_joint(t, actual, calibrated, valid & ~blocked, learn)
            for name in learn:
                c = self.curves_[name]
                c.theta = c.theta * c.credibility
        for c in self.curves_.values():
            log.debug("event %s: %s from %d occurrence(s)", c.name, c.source, c.occurrences_learned)
        return self

    def _knots(self, occ: pd.DataFrame, durations: list[float]) -> tuple[np.ndarray, np.ndarray, bool, bool]:
        s = self.settings
        step_min = self.step_.value / NS_PER_MIN
        ramp = float(occ["ramp_before"].max().value) / NS_PER_MIN
        decay = float(occ["decay_after"].max().value) / NS_PER_MIN
        parts, pinned = [], []
        if ramp > 0:
            parts += [np.array([-1.0]), segment_knots(int(np.clip(round(ramp / step_min), 1, s.ramp_knots)), -1.0)]
            pinned += [True, False]
        parts.append(core_knots(step_min / min(durations), s.growth, s.max_knot_width))
        pinned.append(False)
        if decay > 0:
            parts += [segment_knots(int(np.clip(round(decay / step_min), 1, s.decay_knots)), 1.0), np.array([2.0])]
            pinned += [False, True]
        knots = np.concatenate(parts)
        pin = np.concatenate([np.full(len(p), flag) for p, flag in zip(parts, pinned)])
        return knots, pin, ramp > 0, decay > 0

    def _fit_joint(self, t, actual, baseline, valid, learn: dict) -> None:
        s = self.settings
        rows, cols, vals, offsets, pins, penalties = [], [], [], {}, [], []
        used = np.zeros(len(t), bool)
        p = 0
        for name, (occ, durations, _) in learn.items():
            knots, pin, has_ramp, has_decay = self._knots(occ, durations)
            c = self.curves_[name]
            c.knots, c.has_ramp, c.has_decay = knots, has_ramp, has_decay
            offsets[name] = p
            pins.append(pin)
            # Roughness per unit of absolute time: a 12-day sale's curve may bend less per knot than a day's, so
            # where a day-long event sits inside it, the day-long event takes the bump.
            penalties.append((p, len(knots), max(1.0, min(durations) / s.smooth_scale_minutes) ** 2))
            for start, end, ramp, decay in occurrence_windows(occ):
                sl = window_slice(t, start, end, ramp, decay)
                idx = np.arange(sl.start, sl.stop)[valid[sl]]
                if idx.size == 0:
                    continue
                z = relative_position(t[idx], start, end, ramp, decay)
                keep = np.isfinite(z) & ((z >= 0) & (z < 1) | (has_ramp & (z < 0)) | (has_decay & (z >= 1)))
                idx, z = idx[keep], z[keep]
                i, j, w = hat_weights(z, knots)
                rows += [idx, idx]
                cols += [p + i, p + j]
                vals += [w, 1.0 - w]
                used[idx] = True
            p += len(knots)
        pts = np.flatnonzero(used)
        remap = np.full(len(t), -1)
        remap[pts] = np.arange(pts.size)
        X = sparse.csr_matrix((np.concatenate(vals), (remap[np.concatenate(rows)], np.concatenate(cols))),
                              shape=(pts.size, p))
        X.sum_duplicates()
        a, b = actual[pts], baseline[pts]
        P = _penalty(penalties, p, 1.0 / s.smooth**2)
        pin = np.concatenate(pins)
        P = P + sparse.diags(np.where(pin, 1e8, 1e-6))
        theta = _irls(X, a, b, P, s)
        theta = np.clip(theta, -s.max_log_multiplier, s.max_log_multiplier)
        for name, off in offsets.items():
            c = self.curves_[name]
            c.theta = theta[off: off + len(c.knots)]

    # -- apply --------------------------------------------------------------------------------------------------
    def multipliers(self, ts, events: pd.DataFrame | None, region: str | None = None) -> pd.DataFrame:
        """Per timestamp, one column per event name in `events` (product over its occurrences); 1.0 outside
        the windows. `region`: keep only that region's (and 'global') occurrences, for callers that did not."""
        ts = _index(ts, "ts")
        if events is None or len(events) == 0:
            return pd.DataFrame(index=ts)
        events = _check_events(events)
        if region is not None and "region" in events.columns:
            events = events[(events["region"] == region) | (events["region"] == "global")]
        step = getattr(self, "step_", None) or infer_step(ts)
        order = np.argsort(ts.asi8, kind="stable")
        t = midpoints(ts[order], step)
        curves = getattr(self, "curves_", {})
        windows = occurrence_windows(events)
        out = {}  # the frame built once: a column inserted per event copied the frame's block each time
        for name, rows in by_name(events):
            logm = np.zeros(len(ts))
            curve = None
            for start, end, ramp, decay in windows[rows]:
                sl = window_slice(t, start, end, ramp, decay)
                if sl.stop > sl.start:  # the curve only when an occurrence is near: a fallback one is not free
                    curve = curve or curves.get(name) or _fallback_curve(name, events.iloc[rows])
                    logm[sl] += curve.log_mult(relative_position(t[sl], start, end, ramp, decay))
            col = np.empty(len(ts))
            col[order] = np.exp(logm)
            out[name] = col
        return pd.DataFrame(out, index=ts)

    # -- explain ------------------------------------------------------------------------------------------------
    def summary(self) -> list[dict]:
        """Per event: source, lift (mean multiplier over the occurrence), peak, its time and the shape."""
        return [_describe(c) for c in getattr(self, "curves_", {}).values()]

    def occurrence_lifts(self, events: pd.DataFrame) -> pd.DataFrame:
        """Per occurrence: the warped effect's mean multiplier and its extra load in baseline-hours.
        Warping keeps the mean multiplier of a shape whatever the duration; the extra load grows with it,
        so a 48 h Prime Day carries twice the extra volume of a 24 h one at the same lift."""
        events = _check_events(events)
        rows = []
        for row in events.itertuples(index=False):
            curve = self.curves_.get(row.name) or _fallback_curve(row.name, events[events["name"] == row.name])
            mean = float(np.exp(curve.log_mult(_FINE_U)).mean())
            hours = (row.end - row.start) / pd.Timedelta("1h")
            rows.append(dict(name=row.name, start=row.start, end=row.end, duration_hours=hours, lift=mean,
                             extra_load_hours=(mean - 1.0) * hours, source=curve.source))
        return pd.DataFrame(rows, columns=["name", "start", "end", "duration_hours", "lift", "extra_load_hours",
                                           "source"])


def learned_effects_reach(events, history: tuple, ts) -> bool:
    """Whether effects learned from a history [start, end) can change a forecast over `ts`: some event has an
    occurrence window (ramp and decay included) inside the history's span and ending by its end, and one reaching
    into `ts`. If not, every event there gets its fallback curve whether effects were learned or not, so a refit
    may skip learning them."""
    if events is None or len(events) == 0 or len(ts) == 0:
        return False
    events = _check_events(events)
    w = occurrence_windows(events)
    lo, hi = w[:, 0] - w[:, 2], w[:, 1] + w[:, 3]
    start, end, first, last = (pd.Timestamp(x).value / NS_PER_MIN for x in (*history, ts[0], ts[-1]))
    codes = pd.factorize(events["name"])[0]
    return bool(set(codes[(hi > start) & (hi <= end)]) & set(codes[(hi > first) & (lo <= last)]))


# -- helpers ------------------------------------------------------------------------------------------------------
class _ReferenceDays:
    """Ordinary UTC days (no event window touches them, enough points present) and their log ratio
    log(sum actual / sum baseline): how far the engine's baseline sits from the data on that day."""

    def __init__(self, t, actual, baseline, valid, events: pd.DataFrame, step: pd.Timedelta, s: EffectSettings):
        self.s = s
        day = np.floor(t / 1440.0).astype(np.int64)
        in_event = np.zeros(len(t), bool)
        windows = occurrence_windows(events)
        for window in windows:
            in_event[window_slice(t, *window)] = True
        ev_days = np.unique(day[in_event])
        for start, end, ramp, decay in windows:  # days an event covers even where the series has no points
            ev_days = np.union1d(ev_days, np.arange(np.floor((start - ramp) / 1440), np.ceil((end + decay) / 1440)))
        ok = valid & (baseline > 0)
        days, inv = np.unique(day, return_inverse=True)
        count = np.bincount(inv, weights=ok, minlength=len(days))
        a = np.bincount(inv, weights=np.where(ok, actual, 0.0), minlength=len(days))
        b = np.bincount(inv, weights=np.where(ok, baseline, 0.0), minlength=len(days))
        per_day = 1440.0 / (step.value / NS_PER_MIN)
        keep = (count >= s.min_day_coverage * per_day) & (a > 0) & (b > 0) & ~np.isin(days, ev_days)
        self.span = (float(days[0]), float(days[-1])) if len(days) else (0.0, -1.0)
        self.ev_days = ev_days.astype(float)
        self.days = days[keep].astype(float)
        self.logr = np.log(a[keep] / b[keep])
        med = np.median(self.logr) if self.logr.size else 0.0
        self.spread = 1.4826 * float(np.median(np.abs(self.logr - med))) if self.logr.size >= 3 else 0.0

    def judge(self, start: float, end: float) -> tuple[float, float, str]:
        """(calibration factor, robust sd of the daily log ratios, reason it is unusable or '')."""
        s = self.s
        lo = max(np.floor(start / 1440.0) - s.reference_days, self.span[0])
        hi = min(np.floor(end / 1440.0) + s.reference_days, self.span[1])
        possible = np.setdiff1d(np.arange(lo, hi + 1), self.ev_days).size  # ordinary days the history spans there
        r = self.logr[(self.days >= lo) & (self.days <= hi)]
        if r.size < min(s.min_reference_days, possible) or r.size < s.min_reference_share * possible:
            return 1.0, 0.0, (f"only {r.size} of {possible} ordinary day(s) within {s.reference_days} days of it "
                              f"have data to check the baseline (an outage?)")
        if r.size == 0:  # the history around it is all event days: nothing to check against
            return 1.0, self.spread, ""
        med = float(np.median(r))
        spread = 1.4826 * float(np.median(np.abs(r - med))) if r.size >= 3 else self.spread
        if abs(med) > np.log(s.max_baseline_error):
            return 1.0, spread, (f"the baseline around it is off by x{np.exp(med):.2f} (actual / baseline over "
                                 f"{r.size} ordinary days; max_baseline_error {s.max_baseline_error:g})")
        return float(np.exp(med)), spread, ""


def _fallback_curve(name: str, occ: pd.DataFrame) -> EventCurve:
    prior = pd.to_numeric(occ["prior_lift"], errors="coerce").dropna() if "prior_lift" in occ else pd.Series([])
    durations = ((occ["end"] - occ["start"]) / pd.Timedelta("1min")).to_numpy(dtype=float)
    ref = float(np.median(durations)) if len(durations) else float("nan")
    if len(prior):
        shape = str(occ["prior_shape"].iloc[0]) if "prior_shape" in occ else "flat"
        return EventCurve(name, "prior", prior_shape=shape, prior_lift=float(prior.iloc[0]), reference_minutes=ref)
    return EventCurve(name, "none", reference_minutes=ref)


def _penalty(blocks: list[tuple[int, int, float]], p: int, lam: float) -> sparse.csr_matrix:
    """Second differences within each event's knot sequence (not across events), weighted per event."""
    mats = []
    for off, k, scale in blocks:
        if k < 3:
            continue
        d = np.sqrt(scale) * sparse.diags([np.ones(k - 2), -2 * np.ones(k - 2), np.ones(k - 2)], [0, 1, 2], shape=(k - 2, k))
        mats.append(sparse.hstack([sparse.csr_matrix((k - 2, off)), d, sparse.csr_matrix((k - 2, p - off - k))]))
    if not mats:
        return sparse.csr_matrix((p, p))
    D = sparse.vstack(mats).tocsr()
    return (lam * (D.T @ D)).tocsr()


def _irls(X, a, b, P, s: EffectSettings) -> np.ndarray:
    """Penalized quasi-Poisson IRLS, log link, offset log b, variance mu + kappa mu^2.

    Robustness in two phases: first L1 weights (1 / |residual|), which land on the median-like
    curve even when one occurrence of four is wild; then ordinary Huber weights from that start, which keep
    the mean-unbiased fit for the good points. Huber alone, started from the plain mean, stays near the mean."""
    theta = np.zeros(X.shape[1])
    kappa, robust = 0.0, np.ones(len(a))
    first = max(2, s.iterations // 2)
    for it in range(s.iterations):
        eta = np.clip(X @ theta, -s.max_log_multiplier, s.max_log_multiplier)
        mu = b * np.exp(eta)
        if it >= 1:
            if it <= first:  # overdispersion from the L1 fit (median of chi-square(1) is 0.455), then frozen as
                # in MM-estimation: re-estimating it from a drifting fit lets the outliers widen it and pull
                kappa = float(max(np.median(((a - mu) ** 2 - mu) / mu**2) / 0.455, 1e-6))
            r = (a - mu) / np.sqrt(mu + kappa * mu**2)
            if it < first:  # L1 weights: scale-free, so a dispersion inflated by the misfit cannot hide outliers
                robust = 1.0 / np.maximum(np.abs(r), 0.05)
            else:
                robust = np.minimum(1.0, s.huber / np.maximum(np.abs(r), 1e-12))
        w = robust * mu / (1.0 + kappa * mu)
        work = eta + (a - mu) / mu
        A = (X.T @ sparse.diags(w) @ X + P).tocsc()
        new = sparse.linalg.spsolve(A, X.T @ (w * work))
        if not np.all(np.isfinite(new)):
            raise ModelError("event effects: the fit did not converge (non-finite values); check the baseline")
        done = it > first and np.max(np.abs(new - theta)) < 1e-5
        theta = new
        if done:
            break
    return theta


def _describe(c: EventCurve) -> dict:
    d = dict(name=c.name, source=c.source, occurrences_learned=c.occurrences_learned)
    if c.unusable:
        d["occurrences_unusable"] = len(c.unusable)
        d["unusable"] = [dict(start=str(when), reason=why) for when, why in c.unusable]
    if c.source == "learned":
        d.update(credibility=c.credibility, baseline_noise=c.baseline_noise)
    if c.source == "none":
        what = "no usable past occurrence" if c.unusable else "no past occurrence"
        d.update(lift=1.0, peak_lift=1.0, peak_offset=None, note=f"{what} and no prior_lift: no effect")
        return d
    if c.source == "prior" and c.unusable:
        d["note"] = "past occurrences unusable (see 'unusable'): the prior lift applies"
    m = np.exp(c.log_mult(_FINE_U))
    i = int(np.argmax(m))
    lift, peak = float(m.mean()), float(m[i])
    excess = np.cumsum(np.maximum(m - 1.0, 0.0))
    q = {f"u{int(p * 100)}": float(_FINE_U[min(np.searchsorted(excess, p * excess[-1]), len(m) - 1)])
         for p in (0.25, 0.5, 0.75)} if excess[-1] > 0 else {}
    ref = c.reference_minutes
    d.update(
        lift=lift, peak_lift=peak, peak_u=float(_FINE_U[i]),
        peak_offset=float(_FINE_U[i] * ref) if np.isfinite(ref) else None,  # minutes from start, at reference length
        reference_duration_minutes=ref,
        ramp_lift=float(np.exp(c.log_mult(-1 + _FINE_U)).mean()) if c.has_ramp or c.source == "prior" else 1.0,
        decay_lift=float(np.exp(c.log_mult(1 + _FINE_U)).mean()) if c.has_decay or c.source == "prior" else 1.0,
        shape=dict(kind=c.prior_shape if c.source == "prior" else _shape_word(m, lift),
                   at_u=dict(zip(("0.1", "0.25", "0.5", "0.75", "0.9"),
                                 (float(np.exp(c.log_mult(np.array([u])))[0]) for u in (0.1, 0.25, 0.5, 0.75, 0.9)))),
                   excess_share_by_u=q),
    )
    if c.source == "learned" and c.occurrences_partial:
        d["occurrences_partial"] = c.occurrences_partial
    return d


def _shape_word(m: np.ndarray, lift: float) -> str:
    if lift <= 1.0:
        return "dip" if lift < 0.98 else "flat"
    head = m[: len(m) // 10].mean()
    if m.max() > 1.0 + 1.5 * (lift - 1.0) and np.argmax(m) < len(m) // 5:
        return "early spike"
    if head > 1.0 + 1.2 * (lift - 1.0):
        return "front loaded"
    return "flat"


def _index(ts, what: str) -> pd.DatetimeIndex:
    try:
        return utc_index(ts)
    except (TypeError, ValueError) as exc:
        raise InputError(f"event effects: '{what}' must be timestamps ({exc})") from None


def _array(x, n: int, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float).ravel()
    if arr.size != n:
        raise InputError(f"event effects: '{what}' has {arr.size} values for {n} timestamps")
    return arr


def _check_events(events) -> pd.DataFrame:
    if events is None:
        return pd.DataFrame(columns=["name", "start", "end", "ramp_before", "decay_after", "prior_lift", "prior_shape"])
    if not isinstance(events, pd.DataFrame):
        raise InputError(f"event effects: events must be a calendar DataFrame, got {type(events).__name__}")
    missing = [c for c in _NEEDED if c not in events.columns]
    if missing:
        raise InputError(f"event effects: events need columns name, start, end; missing {', '.join(missing)}")
    if {"ramp_before", "decay_after", "prior_lift", "prior_shape"} - set(events.columns) or \
            not isinstance(events["start"].dtype, pd.DatetimeTZDtype):
        from cloudtune.events.calendar import normalize_events
        events = normalize_events(events.assign(region=events.get("region", "global")), source="event effects")
    return events
