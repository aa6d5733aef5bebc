"""Reconcile a long frame of base forecasts for one hierarchy: matrix products only, per timestamp.

All levels are computed as S @ (reconciled bottom), so every parent equals the sum of its children exactly (to
floating point). Non-negativity: the reconciled bottom means are clipped at zero before summing up, so clipping
keeps coherence (it can raise a parent's mean slightly above the pure projection when some series went negative).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.errors import InputError, shorten
from cloudtune.reconcile.hierarchy import NODE_COLUMNS, Hierarchy
from cloudtune.reconcile.projection import Projection
from cloudtune.reconcile.quantiles import bottom_quantiles, ordered_non_negative, parent_spreads, quantile_columns

BASE_COLUMNS = NODE_COLUMNS + ["ts", "mean"]


def reconcile_frame(base: pd.DataFrame, hierarchy: Hierarchy, projection: Projection) -> pd.DataFrame:
    """Reconciled rows for `base` (long: service, region, metric, level, ts, mean, pNN..., anything else).

    Every node of the hierarchy needs exactly one base row per ts. Returns the same rows and columns (others passed
    through) with mean and pNN reconciled, plus base_mean (the unreconciled mean) and reconciliation (method used).
    Base quantiles of aggregate nodes are not used: parents' quantiles are rebuilt from their children's.
    """
    missing = [c for c in BASE_COLUMNS if c not in base.columns]
    if missing:
        raise InputError(f"base forecasts are missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(BASE_COLUMNS)} and quantile columns such as p50, p90, p99")
    qcols = quantile_columns(base.columns)
    n, m = hierarchy.S.shape
    node, t_code = _locate(base, hierarchy)
    n_ts = int(t_code.max()) + 1 if len(base) else 0

    Y = np.full((n_ts, n), np.nan)
    Y[t_code, node] = base["mean"].to_numpy(dtype=float)
    _require_complete(Y, base, t_code, hierarchy, "mean")
    base_q = None
    if qcols:
        on_bottom = node >= n - m
        base_q = np.full((n_ts, m, len(qcols)), np.nan)
        base_q[t_code[on_bottom], node[on_bottom] - (n - m)] = base.loc[on_bottom, qcols].to_numpy(dtype=float)
        if np.isnan(base_q).any():
            t, j, k = (int(i[0]) for i in np.nonzero(np.isnan(base_q)))
            raise InputError(f"{qcols[k]} is missing for series {hierarchy.node_labels()[n - m + j]} at "
                             f"{_ts_at(base, t_code, t)}; bottom-level rows need every quantile column")
    means, q = reconcile_arrays(Y, base_q, hierarchy, projection)

    out = base.copy()
    out["base_mean"] = base["mean"].astype(float)
    out["mean"] = means[t_code, node]
    for k, col in enumerate(qcols):
        out[col] = q[t_code, node, k]
    out["reconciliation"] = projection.method
    return out


def reconcile_arrays(Y: np.ndarray, base_q: np.ndarray | None, hierarchy: Hierarchy, projection: Projection
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    """The maths of one block. Y: T x n base means (columns in the order of S's rows); base_q: T x m x k base
    quantiles of the bottom series, low to high, or None. Returns the T x n reconciled means and T x n x k
    quantiles (None without base_q)."""
    n, m = hierarchy.S.shape
    bottom_cols = hierarchy.bottom_slice
    reconciled = np.clip(Y @ projection.P.T, 0.0, None)
    if hierarchy.bottom_is_identity:  # only the parents need a product: m^2 fewer multiplications per step
        means = np.empty((len(Y), n))
        means[:, bottom_cols] = reconciled
        means[:, :n - m] = reconciled @ hierarchy.S[:n - m].T
    else:
        means = reconciled @ hierarchy.S.T
    if base_q is None:
        return means, None
    q = np.empty((len(Y), n, base_q.shape[2]))
    q[:, bottom_cols] = bottom_quantiles(reconciled, Y[:, bottom_cols], base_q)
    spreads = q[:, bottom_cols] - reconciled[..., None]
    parents = np.arange(n - m)
    if len(parents):
        for k in range(base_q.shape[2]):
            q[:, parents, k] = means[:, parents] + parent_spreads(spreads[..., k], hierarchy.S[parents],
                                                                  projection.correlation)
        q[:, parents] = ordered_non_negative(q[:, parents])
    return means, q


def node_indices(keys: pd.DataFrame, hierarchy: Hierarchy) -> np.ndarray:
    """The row of S of each key row (service, region, metric, level); raises naming the keys that are not nodes."""
    keys = keys[NODE_COLUMNS].astype(str)
    index = {tuple(k): i for i, k in enumerate(hierarchy.nodes[NODE_COLUMNS].astype(str).itertuples(index=False))}
    found = np.array([index.get(tuple(k), -1) for k in keys.itertuples(index=False)], dtype=np.int64)
    if (found < 0).any():
        bad = keys[found < 0]
        raise InputError(f"rows for {shorten((bad.level + ':' + bad.service + '/' + bad.region + '/' + bad.metric), 5)}"
                         f" are not nodes of the {hierarchy.label} hierarchy; check the level and the '*' keys")
    return found


def _locate(base: pd.DataFrame, hierarchy: Hierarchy) -> tuple[np.ndarray, np.ndarray]:
    """Each row's node index (row of S) and timestamp code; raises on rows outside the hierarchy or duplicates.
    Keys are matched per distinct key combination, not per row: a block holds a few hundred nodes but a quarter of
    a million rows, and a four-column string merge over them cost more than the reconciliation itself."""
    combo = np.zeros(len(base), dtype=np.int64)
    for col in NODE_COLUMNS:
        code, values = pd.factorize(base[col], use_na_sentinel=False)
        combo = combo * len(values) + code
    combo_code, combos = pd.factorize(combo)
    first = np.empty(len(combos), dtype=np.int64)
    first[combo_code[::-1]] = np.arange(len(base))[::-1]  # each combination's first row
    found = node_indices(base[NODE_COLUMNS].iloc[first], hierarchy)
    node = found[combo_code]
    t_code = pd.factorize(base["ts"])[0]
    pair = t_code.astype(np.int64) * len(hierarchy.nodes) + node
    twice = np.bincount(pair)[pair] > 1
    if twice.any():
        i = int(np.flatnonzero(twice)[0])
        raise InputError(f"more than one base row for {hierarchy.node_labels()[node[i]]} at {base['ts'].iloc[i]}; "
                         f"pass one row per node and ts (one grain at a time)")
    return node, t_code


def _require_complete(Y: np.ndarray, base: pd.DataFrame, t_code: np.ndarray, hierarchy: Hierarchy, col: str):
    if np.isnan(Y).any():
        t, i = (int(v[0]) for v in np.nonzero(np.isnan(Y)))
        raise InputError(f"no base {col} for {hierarchy.node_labels()[i]} at {_ts_at(base, t_code, t)}; every node "
                         f"of the hierarchy needs a base forecast at every timestamp")


def _ts_at(base: pd.DataFrame, t_code: np.ndarray, t: int):
    return base["ts"].iloc[int(np.flatnonzero(t_code == t)[0])]
