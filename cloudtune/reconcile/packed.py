"""Forecasts packed per node and time block: one row holds a block's values as arrays.

A month of minutes is 43,200 rows per node. Moved between Spark stages as rows, each one carries its keys, its
timestamp and the columns of every other output; packed, a node sends one row per block whose value columns are
arrays on the node's regular grid (`ts` is the block's first timestamp). The reconciliation of a block reads one
packed row per node, stacks the arrays into its matrices and returns ordinary long rows, so the minute rows exist
once, on their way to the table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cloudtune.errors import InputError, ModelError, shorten
from cloudtune.models.grain import parse_grain
from cloudtune.reconcile.frame import node_indices, reconcile_arrays
from cloudtune.reconcile.hierarchy import NODE_COLUMNS, Hierarchy
from cloudtune.reconcile.projection import Projection
from cloudtune.reconcile.quantiles import quantile_columns
from cloudtune.timestamps import utc_index


def pack(forecast: pd.DataFrame, block_seconds: int, arrays: list[str]) -> pd.DataFrame:
    """One node's forecast (ts on a regular grid at its `grain`, one row per ts) as one row per block of
    `block_seconds` since the epoch: `ts` the block's first timestamp, the `arrays` columns as float arrays, the
    other columns taken from the block's first row (they are constant per node)."""
    if forecast.empty:
        return forecast.iloc[:0]
    ts = utc_index(forecast["ts"])
    step = parse_grain(str(forecast["grain"].iloc[0]))
    gaps = np.diff(ts.asi8)
    if (gaps != step.value).any():
        i = int(np.flatnonzero(gaps != step.value)[0])
        raise ModelError(f"a forecast to pack is not a regular {forecast['grain'].iloc[0]} grid: {ts[i]} is "
                         f"followed by {ts[i + 1]}")
    block = ts.asi8 // (int(block_seconds) * 10**9)
    cuts = np.flatnonzero(np.diff(block)) + 1
    out = forecast.iloc[np.r_[0, cuts]].drop(columns=arrays).reset_index(drop=True)
    for col in arrays:
        out[col] = np.split(forecast[col].to_numpy(dtype=float), cuts)
    return out[list(forecast.columns)]


@dataclass
class LongBlock:
    """A reconciled block on its way to long rows: the packed rows' scalar columns (one row per node, repeated over
    the block's steps), the block's time grid and the value columns already long (node by node, `len(grid)` steps
    each). `to_pandas` makes the rows; an adapter can make its own (e.g. Arrow) without a pandas frame."""

    scalars: pd.DataFrame
    grid: np.ndarray  # UTC ns of the block's steps
    values: dict[str, np.ndarray]
    columns: list[str]

    def to_pandas(self) -> pd.DataFrame:
        steps = len(self.grid)
        out = {c: np.repeat(self.scalars[c].to_numpy(), steps) for c in self.scalars.columns}
        out["ts"] = pd.to_datetime(np.tile(self.grid, len(self.scalars)), utc=True)
        out.update(self.values)
        return pd.DataFrame(out, columns=self.columns)


def reconcile_packed(rows: pd.DataFrame, hierarchy: Hierarchy, projection: Projection) -> pd.DataFrame:
    """One block of one hierarchy: a packed row per node (the same first `ts` and array lengths for all), with
    `mean` and pNN arrays (pNN needed on the bottom series only). Returns the long reconciled rows, as
    reconcile_frame would for the unpacked rows: other array columns unpacked, scalar columns repeated."""
    return reconcile_block(rows, hierarchy, projection).to_pandas()


def reconcile_block(rows: pd.DataFrame, hierarchy: Hierarchy, projection: Projection) -> LongBlock:
    """`reconcile_packed` before the rows are made."""
    qcols = quantile_columns(rows.columns)
    n, m = hierarchy.S.shape
    node = node_indices(rows[NODE_COLUMNS], hierarchy)
    labels = hierarchy.node_labels()
    twice = np.bincount(node, minlength=n) > 1
    if twice.any():
        raise InputError(f"more than one base row for {labels[int(np.flatnonzero(twice)[0])]} at "
                         f"{rows['ts'].iloc[0]}; pass one row per node and ts (one grain at a time)")
    lengths = rows["mean"].map(len).to_numpy()
    starts = pd.to_datetime(rows["ts"], utc=True)
    odd = (lengths != lengths[0]) | (starts != starts.iloc[0]).to_numpy()
    if odd.any():
        i = int(np.flatnonzero(odd)[0])
        raise InputError(f"base forecasts of {labels[node[i]]} start at {starts.iloc[i]} with {lengths[i]} steps in "
                         f"a block where {labels[node[0]]} has {starts.iloc[0]} and {lengths[0]}; every node needs "
                         "a forecast at every ts")
    absent = np.setdiff1d(np.arange(n), node)
    if len(absent):
        raise InputError(f"no base mean for {shorten([labels[i] for i in absent], 5)} at {starts.iloc[0]}; every "
                         "node of the hierarchy needs a base forecast at every timestamp")
    steps = int(lengths[0])
    Y = np.empty((steps, n))
    Y[:, node] = _stack(rows["mean"]).T
    _require_values(Y, labels, "mean")
    base_q = None
    if qcols:
        bottom = node >= n - m
        base_q = np.empty((steps, m, len(qcols)))
        for k, col in enumerate(qcols):
            if rows.loc[bottom, col].isna().any():
                raise InputError(f"{col} is missing for a series at {starts.iloc[0]}; bottom-level rows need every "
                                 "quantile column")
            base_q[:, node[bottom] - (n - m), k] = _stack(rows.loc[bottom, col]).T
        _require_values(base_q.reshape(steps, -1), [c for c in labels[n - m:] for _ in qcols], "quantile")
    means, q = reconcile_arrays(Y, base_q, hierarchy, projection)
    return _long_block(rows, node, Y, means, q, qcols, steps, projection.method)


def _long_block(rows, node, Y, means, q, qcols, steps, method: str) -> LongBlock:
    step = parse_grain(str(rows["grain"].iloc[0]))
    first = pd.Timestamp(pd.to_datetime(rows["ts"].iloc[0], utc=True))
    grid = first.value + step.value * np.arange(steps, dtype=np.int64)
    arrays = [c for c in rows.columns if rows[c].map(lambda v: isinstance(v, (np.ndarray, list))).any()]
    kept = [c for c in rows.columns if c not in ("base_mean", "reconciliation")]  # both are set here
    scalars = rows[[c for c in kept if c not in arrays and c != "ts"]].assign(reconciliation=method)
    values = {}
    for col in arrays:
        if col not in ("mean", *qcols):  # passed through, e.g. a weekly forecast's peak_to_mean
            values[col] = np.concatenate([np.full(steps, np.nan) if v is None else np.asarray(v, dtype=float)
                                          for v in rows[col]])
    values["mean"] = means[:, node].T.ravel()
    for k, col in enumerate(qcols):
        values[col] = q[:, node, k].T.ravel()
    values["base_mean"] = Y[:, node].T.ravel()
    return LongBlock(scalars.reset_index(drop=True), grid, values, [*kept, "base_mean", "reconciliation"])


def _stack(values: pd.Series) -> np.ndarray:
    return np.stack([np.asarray(v, dtype=float) for v in values])


def _require_values(matrix: np.ndarray, labels: list[str], what: str) -> None:
    if np.isnan(matrix).any():
        t, i = (int(v[0]) for v in np.nonzero(np.isnan(matrix)))
        raise InputError(f"no base {what} for {labels[i]} at step {t} of its block; every node of the hierarchy "
                         "needs a base forecast at every timestamp")
