"""The truth's shapes as plain functions of time in minutes since the epoch (UTC).

Seasonal profiles are log-multipliers: a sum of cosine harmonics, so their mean over one period is
exactly 0, scaled so that (max - min) / 2 == 1 and shifted so the maximum sits at a chosen time.
A component with amplitude `a` is then `exp(a * profile(t))`: its geometric mean over a period is 1
and its largest / smallest value is exp(2a).

The intra-event shape is a function of relative time u in [0, 1) over [start, end), so a longer
occurrence is the same shape stretched (time-warped): a 48 h occurrence is the 24 h shape at half speed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MINUTES_PER_DAY = 1440.0
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
DAYS_PER_YEAR = 365.2425
MONDAY_MINUTE = 4 * MINUTES_PER_DAY  # 1970-01-05, the first Monday after the epoch (a Thursday)
_FINE = 1 << 16  # grid that locates the profile's max and scale; period / 65536 is < 0.2 min for a week


@dataclass(frozen=True)
class Profile:
    period: float  # minutes
    weights: tuple[float, ...]  # of harmonics 1, 2, ...
    phases: tuple[float, ...]
    peak: float  # minutes after `origin` (mod period) where the profile is largest
    origin: float = 0.0  # minutes since the epoch where a period starts
    shift: float = field(init=False)
    scale: float = field(init=False)

    def __post_init__(self):
        x = np.arange(_FINE) / _FINE * self.period
        raw = self._raw(x)
        object.__setattr__(self, "scale", float(raw.max() - raw.min()) / 2.0)
        object.__setattr__(self, "shift", float(self.peak - x[np.argmax(raw)]))

    def _raw(self, x: np.ndarray) -> np.ndarray:
        angle = (2 * np.pi / self.period) * x
        out = np.zeros_like(angle)
        for k, (w, phi) in enumerate(zip(self.weights, self.phases), start=1):
            out += w * np.cos(k * angle + phi)
        return out

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return self._raw(t - self.origin - self.shift) / self.scale


def yearly_profile(t: np.ndarray, peak_day: float) -> np.ndarray:
    """One harmonic per year, largest on day-of-year `peak_day` (0 = 1 January)."""
    return np.cos(2 * np.pi * (t / MINUTES_PER_DAY - peak_day) / DAYS_PER_YEAR)


# Plateau p(u) of each event family and its integral over [0, 1).
FAMILIES = {
    "flat": (lambda u: np.ones_like(u), 1.0),
    "front_loaded": (lambda u: 1.5 - u, 1.0),  # busiest at the start, half as busy at the end
    "spike": (lambda u: np.full_like(u, 0.3), 0.3),  # most of the effect is the spike itself
}


@dataclass(frozen=True)
class EventShape:
    """g(u) = p(u) + spike_height * k(u / spike_at), with k(x) = x * exp(1 - x): 0 at the start,
    largest (1) at u = spike_at, fading after. The event multiplier over [start, end) is
    1 + (lift - 1) * g(u) / mean(g), so `lift` is the mean multiplier over the occurrence."""

    family: str
    spike_height: float = 0.0
    spike_at: float = 0.005  # relative time of the spike's top

    def g(self, u: np.ndarray) -> np.ndarray:
        plateau, _ = FAMILIES[self.family]
        x = u / self.spike_at
        return plateau(u) + self.spike_height * x * np.exp(1.0 - x)

    @property
    def mean(self) -> float:
        """Exact integral of g over [0, 1)."""
        _, area = FAMILIES[self.family]
        end = 1.0 / self.spike_at
        return area + self.spike_height * self.spike_at * np.e * (1.0 - (1.0 + end) * np.exp(-end))

    def peak(self) -> tuple[float, float]:
        """(u, g(u)) at the top of g, found on a fine grid; u = 0 for a plain plateau."""
        u = np.linspace(0.0, 1.0, 200_001)[:-1]
        g = self.g(u)
        i = int(np.argmax(g))
        return float(u[i]), float(g[i])


def event_multiplier(shape: EventShape, lift: float, t: np.ndarray, start: float, end: float,
                     ramp: float, decay: float) -> np.ndarray:
    """Multiplier at times t (minutes): ramp up over [start - ramp, start) as v**2 to the plateau's
    starting value, the shape over [start, end), then (1 - w)**2 back to 1 over [end, end + decay)."""
    out = np.ones_like(t)
    excess = (lift - 1.0) / shape.mean
    u = (t - start) / (end - start)
    core = (u >= 0.0) & (u < 1.0)
    out[core] = 1.0 + excess * shape.g(u[core])
    if ramp > 0:
        before = (t >= start - ramp) & (t < start)
        v = (t[before] - (start - ramp)) / ramp
        out[before] = 1.0 + excess * shape.g(np.zeros(1))[0] * v**2
    if decay > 0:
        after = (t >= end) & (t < end + decay)
        w = (t[after] - end) / decay
        out[after] = 1.0 + excess * shape.g(np.ones(1))[0] * (1.0 - w) ** 2
    return out
