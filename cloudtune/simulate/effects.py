"""True event effects of one series: which calendar occurrences touch it, with what lift and shape.

An event's lift and shape are drawn per (event name, series), so every occurrence of an event has the
same effect on a series (a model can learn it); only the duration changes, and the shape stretches
with it (see shapes.EventShape).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cloudtune.simulate.catalog import keyed_rng
from cloudtune.simulate.shapes import MINUTES_PER_DAY, EventShape, event_multiplier

BASE_LIFT = {  # mean multiplier range of an event on a typical series, by kind
    "sale": (1.4, 2.2),
    "holiday": (1.15, 1.4),
    "festival": (1.3, 1.8),
    "launch": (1.8, 3.0),
}
OTHER_KIND_LIFT = (1.2, 1.6)
MIN_LIFT = 1.1
_NS_PER_MIN = 60_000_000_000


@dataclass(frozen=True)
class EventEffect:
    name: str
    kind: str
    start: float  # minutes since the epoch
    end: float
    ramp: float  # minutes
    decay: float
    shape: EventShape
    lift: float

    def multiplier(self, t: np.ndarray) -> np.ndarray:
        return event_multiplier(self.shape, self.lift, t, self.start, self.end, self.ramp, self.decay)

    @property
    def window(self) -> tuple[float, float]:
        """Minutes [from, to) where the event changes the load: ramp, occurrence and decay."""
        return self.start - self.ramp, self.end + self.decay


def plan_effects(calendar: pd.DataFrame | None, service: str, region: str, metric: str, seed: int,
                 spiky: bool, t0: float, t1: float) -> list[EventEffect]:
    """Effects of the occurrences in `region` (or 'global') whose window overlaps [t0, t1) minutes."""
    if calendar is None or calendar.empty:
        return []
    rows = calendar[(calendar["region"] == region) | (calendar["region"] == "global")]
    effects, draws = [], {}
    for row in rows.itertuples(index=False):
        start, end = row.start.value / _NS_PER_MIN, row.end.value / _NS_PER_MIN
        ramp = row.ramp_before.value / _NS_PER_MIN
        decay = row.decay_after.value / _NS_PER_MIN
        if start - ramp >= t1 or end + decay <= t0:
            continue
        if row.name not in draws:
            draws[row.name] = _draw(row, service, region, metric, seed, spiky)
        shape, lift = draws[row.name]
        effects.append(EventEffect(row.name, row.kind, start, end, ramp, decay, shape, lift))
    return effects


def _draw(row, service: str, region: str, metric: str, seed: int, spiky: bool) -> tuple[EventShape, float]:
    if pd.notna(row.prior_lift):
        base = float(row.prior_lift)
    else:
        base = float(keyed_rng(seed, "event", row.name).uniform(*BASE_LIFT.get(row.kind, OTHER_KIND_LIFT)))
    rng = keyed_rng(seed, "event", row.name, service, region, metric)
    # Sales move orders more than page views, and the buying services more than browsing ones.
    sensitivity = (1.3 if metric == "orders" else 1.0) * (1.2 if spiky else 0.9) * rng.uniform(0.85, 1.15)
    lift = max(1.0 + (base - 1.0) * sensitivity, MIN_LIFT)
    family = row.prior_shape if row.prior_shape in ("flat", "front_loaded", "spike") else "flat"
    if family == "spike":
        height = rng.uniform(1.5, 3.0) if spiky else rng.uniform(0.8, 1.5)
        shape = EventShape(family, float(height), float(rng.uniform(0.06, 0.12)))
    elif spiky:
        # Checkout rushes in the first minutes: the top is 4-10 minutes in for a 24 h occurrence.
        height = rng.uniform(1.0, 2.5) * (1.3 if metric == "orders" else 1.0)
        shape = EventShape(family, float(height), float(rng.uniform(4.0, 10.0) / MINUTES_PER_DAY))
    else:
        shape = EventShape(family)
    return shape, float(lift)


def effects_multiplier(effects: list[EventEffect], t: np.ndarray) -> np.ndarray:
    """Product of all effects at t: overlapping events (Black Friday inside its sale week) multiply."""
    out = np.ones_like(t)
    for effect in effects:
        lo, hi = np.searchsorted(t, effect.window)
        if hi > lo:
            out[lo:hi] *= effect.multiplier(t[lo:hi])
    return out
