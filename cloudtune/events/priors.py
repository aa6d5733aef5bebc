"""Prior effect of an event that has never happened in the history (a console launch): a configured lift
and one of three shape families, on the same relative-time axis as learned effects (see warp.py).

The families follow the calendar's vocabulary: 'flat' holds the lift over the whole occurrence,
'front_loaded' is busiest at the start and half as busy at the end, 'spike' puts most of the effect in a
short rush early in the window. The multiplier is 1 + (lift - 1) * g(u) / mean(g), so `prior_lift` is the
mean multiplier over the occurrence whatever its duration. A ramp rises smoothly to the start value and a
decay falls back to 1, both quadratic.
"""
from __future__ import annotations

import numpy as np

SPIKE_AT = 0.05  # relative time of a prior spike's top
SPIKE_HEIGHT = 2.0  # spike top over the 0.3 plateau


def prior_g(family: str, u: np.ndarray) -> np.ndarray:
    if family == "front_loaded":
        return 1.5 - u
    if family == "spike":
        x = u / SPIKE_AT
        return 0.3 + SPIKE_HEIGHT * x * np.exp(1.0 - x)
    return np.ones_like(u)


def _mean_g(family: str) -> float:
    u = (np.arange(20_000) + 0.5) / 20_000
    return float(prior_g(family, u).mean())


def prior_log_multiplier(family: str, lift: float, z: np.ndarray) -> np.ndarray:
    """log multiplier at relative positions z (see warp.relative_position); 0 where z is NaN."""
    out = np.zeros(z.shape)
    excess = (float(lift) - 1.0) / _mean_g(family)
    core = (z >= 0) & (z < 1)
    out[core] = np.log(np.maximum(1.0 + excess * prior_g(family, z[core]), 1e-6))
    ramp = (z >= -1) & (z < 0)
    if ramp.any():
        v = z[ramp] + 1.0
        out[ramp] = np.log(np.maximum(1.0 + excess * prior_g(family, np.zeros(1))[0] * v**2, 1e-6))
    dec = (z >= 1) & (z < 2)
    if dec.any():
        w = z[dec] - 1.0
        out[dec] = np.log(np.maximum(1.0 + excess * prior_g(family, np.ones(1))[0] * (1 - w) ** 2, 1e-6))
    return out
