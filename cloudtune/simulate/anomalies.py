"""Injected outliers and missing minutes of one series, placed on its time grid (step indices).

An outlier multiplies the clean value over [start, end) by its `magnitude`. Outliers never touch an
event's window (ramp and decay included, plus a margin): events are signal, never outliers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OutlierKind:
    per_30_days: float  # expected count in 30 days
    minutes: tuple[int, int]  # duration range
    magnitude: tuple[float, float]  # multiplier range


OUTLIER_KINDS = {
    "spike_up": OutlierKind(3.0, (1, 8), (3.0, 10.0)),  # robot traffic
    "spike_down": OutlierKind(1.0, (1, 10), (0.1, 0.4)),
    "outage": OutlierKind(0.5, (10, 120), (0.0, 0.03)),
    "level_drop": OutlierKind(0.5, (120, 360), (0.5, 0.7)),
}
MARGIN_MINUTES = 60  # between an outlier and an event window or another outlier
GAP_MINUTES = 60
GAPS_PER_30_DAYS = 0.7
_TRIES = 20


@dataclass(frozen=True)
class Outlier:
    kind: str
    start: int  # step index, inclusive
    end: int  # step index, exclusive
    magnitude: float


def place_outliers(rng: np.random.Generator, n: int, step_minutes: float, blocked: list[tuple[int, int]],
                   robots: bool) -> list[Outlier]:
    """Draw outliers of every kind and place them where nothing else is; give up on one after a few tries."""
    days = n * step_minutes / 1440.0
    margin = int(np.ceil(MARGIN_MINUTES / step_minutes))
    taken = list(blocked)
    placed = []
    for kind, spec in OUTLIER_KINDS.items():
        rate = spec.per_30_days * days / 30.0 if (robots or kind != "spike_up") else 0.0
        for _ in range(rng.poisson(rate)):
            minutes = rng.integers(spec.minutes[0], spec.minutes[1] + 1)
            length = int(round(minutes / step_minutes))
            magnitude = float(rng.uniform(*spec.magnitude))
            if length < 1 or length >= n:  # shorter than half a step: averaged away at this grain
                continue
            for _ in range(_TRIES):
                start = int(rng.integers(0, n - length + 1))
                if not any(start < hi + margin and start + length > lo - margin for lo, hi in taken):
                    placed.append(Outlier(kind, start, start + length, magnitude))
                    taken.append((start, start + length))
                    break
    return sorted(placed, key=lambda o: o.start)


def outlier_multiplier(outliers: list[Outlier], n: int) -> np.ndarray:
    out = np.ones(n)
    for o in outliers:
        out[o.start:o.end] *= o.magnitude
    return out


def draw_missing(rng: np.random.Generator, n: int, step_minutes: float, rate: float) -> np.ndarray:
    """Sorted step indices to drop: scattered single steps at `rate`, plus now and then a one-hour gap."""
    mask = rng.random(n) < rate
    days = n * step_minutes / 1440.0
    length = int(round(GAP_MINUTES / step_minutes))
    for _ in range(rng.poisson(GAPS_PER_30_DAYS * days / 30.0)):
        if 1 <= length < n:
            start = int(rng.integers(0, n - length + 1))
            mask[start:start + length] = True
    return np.flatnonzero(mask)
