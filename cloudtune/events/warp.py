"""The relative-time axis an event effect lives on, so a shape learned on one duration fits any other.

Every occurrence maps its window onto z:
    ramp   [start - ramp_before, start)  ->  z in [-1, 0)
    event  [start, end)                  ->  z in [0, 1)   (u = (t - start) / (end - start): time-warped)
    decay  [end, end + decay_after)      ->  z in [1, 2)
A 24 h shape put on a 48 h occurrence is the same curve in u, at half speed (as the simulator's truth
defines it). Knots on z are dense at the start of the event (checkout rushes in the first minutes) and
coarser later, where one knot per half hour of a day-long event is plenty.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

NS_PER_MIN = 60_000_000_000


def infer_step(ts: pd.DatetimeIndex) -> pd.Timedelta:
    """The series grain: the most common gap between timestamps (1 minute if it cannot be seen)."""
    if len(ts) < 2:
        return pd.Timedelta("1min")
    d = np.diff(ts.asi8)
    d = d[d > 0]
    if d.size == 0:
        return pd.Timedelta("1min")
    vals, counts = np.unique(d, return_counts=True)
    return pd.Timedelta(int(vals[np.argmax(counts)]), "ns")


def midpoints(ts: pd.DatetimeIndex, step: pd.Timedelta) -> np.ndarray:
    """Minutes since the epoch at the middle of each step: a value at 10:00 hourly covers 10:00-11:00."""
    return (ts.asi8 + step.value / 2.0) / NS_PER_MIN


def occurrence_minutes(row) -> tuple[float, float, float, float]:
    """(start, end, ramp, decay) of one calendar row, in minutes since the epoch / minutes."""
    return (row.start.value / NS_PER_MIN, row.end.value / NS_PER_MIN,
            pd.Timedelta(row.ramp_before).value / NS_PER_MIN, pd.Timedelta(row.decay_after).value / NS_PER_MIN)


def occurrence_windows(events: pd.DataFrame) -> np.ndarray:
    """(n, 4) start, end, ramp, decay of every calendar row, in minutes: `occurrence_minutes` for a whole
    calendar at once (itertuples builds a new row class per call, and calendars are walked once per fit)."""
    def minutes(col, kind):
        return events[col].to_numpy(dtype=kind).astype(np.int64) / NS_PER_MIN
    return np.column_stack([minutes("start", "M8[ns]"), minutes("end", "M8[ns]"),
                            minutes("ramp_before", "m8[ns]"), minutes("decay_after", "m8[ns]")]).reshape(-1, 4)


def by_name(events: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """[(name, row positions)] in first-seen order: groupby(name, sort=False) without building sub-frames."""
    codes, names = pd.factorize(events["name"])
    return [(name, np.flatnonzero(codes == i)) for i, name in enumerate(names)]


def window_slice(t: np.ndarray, start: float, end: float, ramp: float, decay: float) -> slice:
    """Positions of sorted times t inside [start - ramp, end + decay)."""
    lo, hi = np.searchsorted(t, [start - ramp, end + decay], side="left")
    return slice(int(lo), int(hi))


def relative_position(t: np.ndarray, start: float, end: float, ramp: float, decay: float) -> np.ndarray:
    """z of times t (minutes) inside one occurrence's window; NaN outside it."""
    z = np.full(t.shape, np.nan)
    core = (t >= start) & (t < end)
    z[core] = (t[core] - start) / (end - start)
    if ramp > 0:
        r = (t >= start - ramp) & (t < start)
        z[r] = -1.0 + (t[r] - (start - ramp)) / ramp
    if decay > 0:
        d = (t >= end) & (t < end + decay)
        z[d] = 1.0 + (t[d] - end) / decay
    return z


def core_knots(first_width: float, growth: float, max_width: float) -> np.ndarray:
    """Knot positions in u on [0, 1): spacing `first_width` at the start, growing geometrically to `max_width`."""
    first_width = float(np.clip(first_width, 1e-5, 1.0))
    max_width = max(max_width, first_width)
    knots, u, w = [], 0.0, first_width
    while u < 1.0 - 1e-9:
        knots.append(u + w / 2.0)  # knots sit in the middle of their cell, so the first minute has its own value
        u += w
        w = min(w * growth, max_width)
    knots = np.array(knots)
    return np.clip(knots, 0.0, 1.0 - 1e-9)


def segment_knots(n: int, lo: float) -> np.ndarray:
    """n evenly spaced knot centres on [lo, lo + 1)."""
    return lo + (np.arange(n) + 0.5) / n


def hat_weights(z: np.ndarray, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear-interpolation basis: each z is w * knot[i] + (1 - w) * knot[i + 1]; (i, i + 1, w) per z.
    Outside the knot range the nearest knot carries all the weight (flat extrapolation)."""
    k = len(knots)
    if k == 1:
        zeros = np.zeros(z.shape, dtype=int)
        return zeros, zeros, np.ones(z.shape)
    j = np.clip(np.searchsorted(knots, z, side="right") - 1, 0, k - 2)
    left, right = knots[j], knots[j + 1]
    w = np.clip((right - z) / (right - left), 0.0, 1.0)
    return j, j + 1, w
