"""From long residuals to the one small summary MinT needs: the shrunk covariance over a hierarchy's nodes.

Residuals come as rows (service, region, metric, level, ts, residual), one per node and timestamp, for the nodes of
every level (the base model's in-sample one-step or out-of-sample errors, actual - forecast, at one common grain,
e.g. hourly). A node may lack some timestamps (outlier hours left out): the covariance is estimated pairwise, over
the timestamps each pair of nodes shares, and MinT needs every pair to share at least min_residuals of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cloudtune.errors import InputError, shorten
from cloudtune.reconcile.hierarchy import NODE_COLUMNS, Hierarchy
from cloudtune.reconcile.methods import is_positive_definite, shrink_covariance

RESIDUAL_COLUMNS = NODE_COLUMNS + ["ts", "residual"]


@dataclass(frozen=True, eq=False)
class ResidualSummary:
    unit: tuple[str, ...]
    cov: np.ndarray | None  # shrunk covariance over all nodes, in hierarchy order; None when not estimable
    lambda_: float | None
    rows: int  # the fewest timestamps any two nodes both have a residual for
    reason: str  # empty when MinT can use it, else why not

    @property
    def usable(self) -> bool:
        return self.cov is not None and not self.reason

    def to_dict(self) -> dict:
        return {"unit": list(self.unit), "cov": None if self.cov is None else self.cov.ravel().tolist(),
                "lambda": self.lambda_, "rows": int(self.rows), "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict) -> "ResidualSummary":
        cov = data.get("cov")
        if cov is not None:
            cov = np.asarray(cov, dtype=float)
            side = int(round(np.sqrt(cov.size)))
            cov = cov.reshape(side, side)
        return cls(tuple(data["unit"]), cov, data.get("lambda"), int(data.get("rows") or 0), data.get("reason") or "")


def residual_matrix(residuals: pd.DataFrame, hierarchy: Hierarchy) -> tuple[np.ndarray, list[str]]:
    """The T x n residual matrix in node order (NaN where a node has none), and the nodes with none at all."""
    missing_cols = [c for c in RESIDUAL_COLUMNS if c not in residuals.columns]
    if missing_cols:
        raise InputError(f"residuals are missing column(s) {', '.join(missing_cols)}; expected "
                         f"{', '.join(RESIDUAL_COLUMNS)}")
    nodes = hierarchy.nodes.reset_index(drop=True).reset_index().rename(columns={"index": "_node"})
    rows = residuals[RESIDUAL_COLUMNS].astype({c: str for c in NODE_COLUMNS}).merge(nodes, on=NODE_COLUMNS)
    dupes = rows.duplicated(["_node", "ts"])
    if dupes.any():
        first = rows[dupes].iloc[0]
        raise InputError(f"residuals have more than one row for {first.level} node {first.service}/{first.region}/"
                         f"{first.metric} at {first.ts}; pass one residual per node and timestamp")
    wide = rows.pivot(index="ts", columns="_node", values="residual").reindex(columns=range(len(nodes)))
    labels = hierarchy.node_labels()
    absent = [labels[i] for i in range(len(nodes)) if wide[i].notna().sum() == 0]
    values = wide.to_numpy(dtype=float)
    values[~np.isfinite(values)] = np.nan
    return values[~np.isnan(values).all(axis=1)], absent


def summarize_residuals(residuals: pd.DataFrame | None, hierarchy: Hierarchy, min_rows: int) -> ResidualSummary:
    """Shrunk (pairwise) covariance of a hierarchy's residuals, or the reason MinT cannot use them."""
    unit = hierarchy.unit
    if residuals is None or len(residuals) == 0:
        return ResidualSummary(unit, None, None, 0, f"no residuals for {hierarchy.label}")
    e, absent = residual_matrix(residuals, hierarchy)
    if len(absent) == len(hierarchy.nodes):
        return ResidualSummary(unit, None, None, 0, f"no residuals for {hierarchy.label}")
    if absent:
        return ResidualSummary(unit, None, None, 0, f"no residuals for node(s) {shorten(absent, 5)}")
    present = (~np.isnan(e)).astype(float)
    shared = present.T @ present
    labels = hierarchy.node_labels()
    if shared.min() < min_rows:
        i, j = np.unravel_index(int(shared.argmin()), shared.shape)
        pair = labels[i] if i == j else f"{labels[i]} and {labels[j]}"
        return ResidualSummary(unit, None, None, int(shared.min()),
                               f"only {int(shared.min())} timestamps have residuals for {pair}; "
                               f"min_residuals is {min_rows}")
    flat = np.flatnonzero(np.nansum(np.square(e), axis=0) == 0)
    if len(flat):
        return ResidualSummary(unit, None, None, int(shared.min()),
                               f"residuals are all zero for {shorten([labels[i] for i in flat], 5)}")
    shrunk = shrink_covariance(e)
    reason = "" if is_positive_definite(shrunk.cov) else \
        f"shrunk residual covariance is not positive definite (lambda={shrunk.lambda_:.3g})"
    return ResidualSummary(unit, shrunk.cov, shrunk.lambda_, shrunk.rows, reason)
