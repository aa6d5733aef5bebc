"""Choose and fit the projection of one hierarchy: the method actually used, why, and the matrices it needs.

This is the only place that decides the fallback: mint_shrink runs when the residual summary allows it (enough
shared residual timestamps, a positive-definite shrunk covariance), otherwise the configured fallback (wls_struct by default)
runs and `reason` says why.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cloudtune.errors import ConfigError, InputError, shorten
from cloudtune.reconcile.hierarchy import BOTTOM, KEY, LEVELS, Hierarchy
from cloudtune.reconcile.methods import projection_matrix
from cloudtune.reconcile.residuals import ResidualSummary
from cloudtune.reconcile.settings import ReconcileSettings


@dataclass(frozen=True, eq=False)
class Projection:
    P: np.ndarray  # n_bottom x n_nodes: reconciled bottom = P @ base
    method: str  # the method used (after any fallback)
    reason: str
    # Residual correlation of the bottom series (negatives set to 0) for the quantile spreads; None = comonotone.
    correlation: np.ndarray | None = None
    lambda_: float | None = None
    residual_rows: int = 0

    def info(self) -> dict:
        return {"method": self.method, "reason": self.reason, "lambda": self.lambda_,
                "residual_rows": self.residual_rows,
                "quantile_dependence": "comonotone" if self.correlation is None else "residual correlation"}


def fit_projection(hierarchy: Hierarchy, settings: ReconcileSettings, residuals: ResidualSummary | None = None,
                   series_means: pd.DataFrame | None = None) -> Projection:
    """The projection for `hierarchy`.

    residuals: its ResidualSummary (for mint_shrink and for the quantile correlation); series_means: the bottom
    series' historical mean value (columns service, region, metric, value), needed by top_down only.
    """
    method, W, shares, top = settings.method, None, None, None
    if method == "mint_shrink":
        why_not = "no residuals were passed" if residuals is None else residuals.reason
        if why_not:
            method = settings.fallback
            reason = f"mint_shrink not possible ({why_not}); used {method}"
        else:
            W = residuals.cov
            reason = (f"MinT, shrinkage lambda={residuals.lambda_:.3f} from residuals (at least {residuals.rows} "
                      "shared timestamps per pair of nodes)")
    elif method == "top_down":
        shares, top = top_down_shares(hierarchy, series_means)
        reason = f"historical proportions of the {hierarchy.nodes.level.iloc[top[0]]} level"
    else:
        reason = "configured"
    P = projection_matrix(hierarchy.S, method, W=W, shares=shares, top=top)
    return Projection(P, method, reason, _bottom_correlation(hierarchy, residuals),
                      None if residuals is None else residuals.lambda_,
                      0 if residuals is None else residuals.rows)


def top_down_shares(hierarchy: Hierarchy, series_means: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Each bottom series' share of its top-level node (proportions of the historical averages) and that node's row.

    Negative means count as zero; a top node whose series all averaged zero is split equally.
    """
    if series_means is None:
        raise ConfigError("reconcile.method top_down needs the bottom series' history to compute proportions; "
                          "pass history (service, region, metric, ts, value) or choose another method")
    missing = [c for c in KEY + ["value"] if c not in series_means.columns]
    if missing:
        raise InputError(f"series means are missing column(s) {', '.join(missing)}")
    nodes, S = hierarchy.nodes, hierarchy.S
    top_level = nodes.level.iloc[0]
    ties = [lv for lv in nodes.level.unique() if lv != top_level and len(LEVELS[lv]) == len(LEVELS[top_level])]
    if ties:
        raise ConfigError(f"top_down needs one top level, but {top_level} and {ties[0]} are equally coarse and not "
                          f"nested; add 'global' to reconcile.levels")
    bottom = nodes.iloc[hierarchy.bottom_slice][KEY].reset_index(drop=True)
    means = bottom.merge(series_means[KEY + ["value"]].astype({c: str for c in KEY}), on=KEY, how="left")
    absent = means[means.value.isna()]
    if len(absent):
        raise InputError(f"top_down: no history for {shorten(absent[KEY].agg('/'.join, axis=1), 5)}; every series "
                         "needs a historical mean")
    value = np.clip(means.value.to_numpy(dtype=float), 0.0, None)
    top_rows = np.flatnonzero(nodes.level.to_numpy() == top_level)
    if top_level == BOTTOM:
        return np.ones(len(bottom)), top_rows
    member = S[top_rows].argmax(axis=0)  # which top node each series sums into
    total = np.bincount(member, weights=value, minlength=len(top_rows))
    count = np.bincount(member, minlength=len(top_rows))
    safe_total = np.where(total > 0, total, 1.0)
    shares = np.where(total[member] > 0, value / safe_total[member], 1.0 / count[member])
    top = top_rows[member]
    return shares, top


def _bottom_correlation(hierarchy: Hierarchy, residuals: ResidualSummary | None) -> np.ndarray | None:
    if residuals is None or residuals.cov is None:
        return None
    block = residuals.cov[hierarchy.bottom_slice, hierarchy.bottom_slice]
    sd = np.sqrt(np.diag(block))
    corr = np.clip(block / np.outer(sd, sd), 0.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr
