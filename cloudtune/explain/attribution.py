"""Exact additive attribution of a change in a sum of products (LMDI: the log-mean Divisia index).

For a multiplicative forecast m(t) = prod_c x_c(t), the change between two forecasts of a quantity that is a sum of
such values, Q = sum_i m_i, is split over the components as

    dQ_c = sum_i L(m_a_i, m_b_i) * log(x_c_a_i / x_c_b_i),        L(a, b) = (a - b) / (log a - log b), L(a, a) = a

and since sum_c log(x_c_a / x_c_b) = log(m_a / m_b), the parts add up to Q_a - Q_b exactly (to rounding), with no
interaction term left over. A component missing on one side counts as 1 there (it explains its whole
multiplier). Additive forecasts split as plain differences of their parts. A pair with a non-positive value
cannot be taken to logs; its change is reported under UNALLOCATED.
"""
from __future__ import annotations

import numpy as np

UNALLOCATED = "unallocated"


def log_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The logarithmic mean, continuous through a == b."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(a) - np.log(b)
        out = np.where(np.abs(d) > 1e-12, (a - b) / np.where(d == 0, 1.0, d), (a + b) / 2)
    return out


def product(parts: dict[str, np.ndarray], n: int) -> np.ndarray:
    out = np.ones(n)
    for v in parts.values():
        out = out * np.asarray(v, float)
    return out


def lmdi(parts_a: dict[str, np.ndarray], parts_b: dict[str, np.ndarray]) -> dict[str, float]:
    """Multiplicative parts of the same length (pairs of points i): {component: contribution}, summing to
    sum(prod(parts_a)) - sum(prod(parts_b))."""
    n = len(next(iter(parts_a.values()))) if parts_a else len(next(iter(parts_b.values())))
    names = list(dict.fromkeys([*parts_a, *parts_b]))
    a = {c: np.asarray(parts_a.get(c, np.ones(n)), float) for c in names}
    b = {c: np.asarray(parts_b.get(c, np.ones(n)), float) for c in names}
    ma, mb = product(a, n), product(b, n)
    ok = np.ones(n, bool)
    for c in names:
        ok &= (a[c] > 0) & (b[c] > 0) & np.isfinite(a[c]) & np.isfinite(b[c])
    w = log_mean(np.where(ok, ma, 1.0), np.where(ok, mb, 1.0))
    out = {}
    for c in names:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.log(np.where(ok, a[c], 1.0)) - np.log(np.where(ok, b[c], 1.0))
        out[c] = float(np.sum(w[ok] * r[ok]))
    if not ok.all():
        out[UNALLOCATED] = float(np.sum(ma[~ok] - mb[~ok]))
    return out


def differences(parts_a: dict[str, np.ndarray], parts_b: dict[str, np.ndarray]) -> dict[str, float]:
    """Additive parts: {component: sum(a_c - b_c)}, summing to sum(sum_c a_c) - sum(sum_c b_c)."""
    names = list(dict.fromkeys([*parts_a, *parts_b]))
    return {c: float(np.sum(np.asarray(parts_a.get(c, 0.0), float)) - np.sum(np.asarray(parts_b.get(c, 0.0), float)))
            for c in names}
