"""Penalized slope-break detection on the daily level.

Greedy forward selection over candidate daily knots: at each step add the hinge max(0, t - k) that lowers the
residual sum of squares most, and keep it only if the BIC-style criterion
``n * log(RSS / n) + break_penalty * log(n)`` per break improves. Noise therefore does not become a break.
All fits are numpy least squares on a few hundred rows, so detection costs milliseconds.
"""
from __future__ import annotations

import numpy as np


def hinge(t: np.ndarray, knots) -> np.ndarray:
    knots = np.asarray(list(knots), dtype=float)
    if knots.size == 0:
        return np.zeros((len(t), 0))
    return np.maximum(0.0, t[:, None] - knots[None, :])


def _rss(X: np.ndarray, y: np.ndarray) -> float:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    return float(r @ r)


def detect_breaks(t: np.ndarray, y: np.ndarray, X_base: np.ndarray, fixed=(), max_breaks: int = 5,
                  penalty: float = 4.0, min_gap: float = 5.0) -> list[float]:
    """Knots (in the units of `t`, days) to add to `fixed` ones. `X_base` holds the non-trend columns
    (intercept, t, day of week, ...); rows with NaN in y must already be dropped."""
    n = len(y)
    if n < 3 * min_gap or max_breaks == 0:
        return []
    lo, hi = t.min() + min_gap, t.max() - min_gap
    candidates = np.arange(np.ceil(lo), np.floor(hi) + 1)
    chosen: list[float] = []
    X = np.column_stack([X_base, hinge(t, fixed)])
    rss = _rss(X, y)
    floor = 1e-12 * max(float(y @ y), 1e-300)
    for _ in range(max_breaks):
        taken = np.array(list(fixed) + chosen, dtype=float)
        ok = [c for c in candidates if taken.size == 0 or np.min(np.abs(taken - c)) >= min_gap]
        if not ok:
            break
        best, best_rss = None, rss
        for c in ok:
            r = _rss(np.column_stack([X, np.maximum(0.0, t - c)]), y)
            if r < best_rss:
                best, best_rss = c, r
        if best is None:
            break
        gain = n * (np.log(max(rss, floor)) - np.log(max(best_rss, floor)))
        if gain <= penalty * np.log(n):
            break
        chosen.append(float(best))
        X = np.column_stack([X, np.maximum(0.0, t - best)])
        rss = best_rss
    return sorted(chosen)
