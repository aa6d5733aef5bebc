"""Quantiles of reconciled forecasts: consistent with the children, ordered, never negative.

Only means are projected (a projection of quantiles would not give quantiles). The quantiles are rebuilt around the
reconciled means from spreads, a spread being a quantile minus the mean:

1. Bottom series keep their base model's spreads: q = reconciled mean + (base q - base mean). Values are clipped at
   zero and made non-decreasing across p50 <= p90 <= p99 ... (a running maximum), and the spreads recomputed from
   the result, so what a parent aggregates is exactly what its children show.
2. A parent's spread for quantile q is the spread of the sum of its bottom series when those move with the residual
   correlation R (negative correlations set to 0): with a = |d| the children's spread sizes,
   spread = sum(d) * sqrt(a' R a) / sum(a). For same-sign spreads this is sign * sqrt(d' R d), which lies between
   the independent sum sqrt(sum d^2) (R = I) and the comonotone sum sum(d) (R = 1); with mixed signs (a median
   below the mean for some children, above for others) the signed sum is diversified by the same factor. With no
   usable residuals R = 1 (comonotone): conservative, and what a capacity plan should assume when nothing is known.
3. Parent quantile = reconciled parent mean + spread, clipped at zero and made non-decreasing like the bottom.

A running maximum can only raise a higher quantile to a lower one's value, so the parent spread stays within the
independent and comonotone bounds of its children for that quantile.
"""
from __future__ import annotations

import re

import numpy as np

QUANTILE_PATTERN = re.compile(r"^p(\d+)$")


def quantile_columns(columns) -> list[str]:
    """The pNN columns, lowest level first: p05 < p50 < p90 < p99 < p999 (digits read as 0.NN...)."""
    found = [c for c in columns if QUANTILE_PATTERN.match(str(c))]
    return sorted(found, key=lambda c: float("0." + c[1:]))


def ordered_non_negative(q: np.ndarray) -> np.ndarray:
    """Clip at zero and make the last axis (quantiles, low to high) non-decreasing."""
    return np.maximum.accumulate(np.clip(q, 0.0, None), axis=-1)


def bottom_quantiles(reconciled: np.ndarray, base_mean: np.ndarray, base_q: np.ndarray) -> np.ndarray:
    """T x m x k bottom quantiles: the reconciled mean plus the base spreads, ordered and non-negative."""
    return ordered_non_negative(reconciled[..., None] + (base_q - base_mean[..., None]))


def parent_spreads(spreads: np.ndarray, S_parents: np.ndarray, correlation: np.ndarray | None) -> np.ndarray:
    """T x p spreads of the parent nodes from the T x m bottom spreads of one quantile (see the module doc)."""
    signed_sum = spreads @ S_parents.T
    if correlation is None:
        return signed_sum
    size = np.abs(spreads)
    out = np.empty_like(signed_sum)
    for i, members in enumerate(S_parents.astype(bool)):
        a = size[:, members]
        total = a.sum(axis=1)
        quadratic = ((a @ correlation[np.ix_(members, members)]) * a).sum(axis=1)  # a' R a per ts, through BLAS
        spread = np.sqrt(np.clip(quadratic, 0.0, None))
        factor = np.divide(spread, total, out=np.ones_like(total), where=total > 0)
        out[:, i] = signed_sum[:, i] * factor
    return out
