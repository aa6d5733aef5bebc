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

An event never seen in the history uses its prior lift and shape (priors.py); one with neither has no
effect, and the summary says which applies.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from cloudtune.errors import InputError, ModelError
from cloudtune.events.priors import prior_log_multiplier
from cloudtune.events.warp import (NS_PER_MIN, core_knots, hat_weights, infer_step, midpoints, occurrence_minutes,
                                   relative_position, segment_knots, window_slice)

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
        for name, occ in events.groupby("name", sort=False):
            seen, partial, durations = 0, 0, []
            for row in occ.itertuples(index=False):
                start, end, ramp, decay = occurrence_minutes(row)
                core = window_slice(t, start, end, 0.0, 0.0)
                frac = valid[core].sum() * (self.step_.value / NS_PER_MIN) / (end - start)
                if frac >= self.settings.min_core_seen:
                    seen += 1
                    durations.append(end - start)
                elif frac > 0:
                    partial += 1
            if seen:
                learn[name] = [occ, durations, partial]
                self.curves_[name] = EventCurve(name, "learned", occurrences_learned=seen, occurrences_partial=partial,
                                                reference_minutes=float(np.median(durations)))
            else:
                self.curves_[name] = _fallback_curve(name, occ)
                for row in occ.itertuples(index=False):
                    blocked[window_slice(t, *occurrence_minutes(row))] = True
        if learn:
            self._fit_joint(t, actual, baseline, valid & ~blocked, learn)
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
            for row in occ.itertuples(index=False):
                start, end, ramp, decay = occurrence_minutes(row)
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
        out = pd.DataFrame(index=ts)
        if events is None or len(events) == 0:
            return out
        events = _check_events(events)
        if region is not None and "region" in events.columns:
            events = events[(events["region"] == region) | (events["region"] == "global")]
        step = getattr(self, "step_", None) or infer_step(ts)
        order = np.argsort(ts.asi8, kind="stable")
        t = midpoints(ts[order], step)
        curves = getattr(self, "curves_", {})
        for name, occ in events.groupby("name", sort=False):
            curve = curves.get(name) or _fallback_curve(name, occ)
            logm = np.zeros(len(ts))
            for row in occ.itertuples(index=False):
                start, end, ramp, decay = occurrence_minutes(row)
                sl = window_slice(t, start, end, ramp, decay)
                if sl.stop > sl.start:
                    logm[sl] += curve.log_mult(relative_position(t[sl], start, end, ramp, decay))
            col = np.empty(len(ts))
            col[order] = np.exp(logm)
            out[name] = col
        return out

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


# -- helpers ------------------------------------------------------------------------------------------------------
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
    if c.source == "none":
        d.update(lift=1.0, peak_lift=1.0, peak_offset=None, note="no past occurrence and no prior_lift: no effect")
        return d
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
        idx = pd.DatetimeIndex(pd.to_datetime(ts, utc=True))
    except (TypeError, ValueError) as exc:
        raise InputError(f"event effects: '{what}' must be timestamps ({exc})") from None
    return idx


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
