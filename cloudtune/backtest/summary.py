"""From fold rows to the accuracy table's three scopes, by summing the additive columns and recomputing metrics.

scope 'fold'  : one node, one model, one origin, one horizon bucket (what `backtest_node` returns)
scope 'node'  : one node, one model, one bucket, summed over origins
scope 'level' : every node of a level (service/region/metric = '*'), one model, one bucket, summed over nodes

Sums, not means of metrics, so a level's MAE is the MAE of all its scored points and MASE the mean of the scaled
errors. The Spark job does the same group-by-sums in Spark and then calls `finish` here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.backtest.folds import KEYS
from cloudtune.backtest.metrics import SUM_COLUMNS, metrics_from_sums

COUNT_COLUMNS = ("nodes", "windows", "fallback_windows", "failed_windows")
ADDITIVE = (*COUNT_COLUMNS, *SUM_COLUMNS)
NODE_BY = [*KEYS, "level", "model", "horizon_bucket"]
LEVEL_BY = ["level", "model", "horizon_bucket"]


def status_of(windows, fallback, failed) -> tuple[np.ndarray, np.ndarray]:
    """Summary status: failed if any window failed, fallback if any fell back, else ok; the reason counts them."""
    windows, fallback, failed = (np.asarray(x, dtype=np.int64) for x in (windows, fallback, failed))
    status = np.where(failed > 0, "failed", np.where(fallback > 0, "fallback", "ok"))
    reason = np.array([None if f == b == 0 else f"{b} of {w} windows answered by a fallback model, {f} failed"
                       for w, b, f in zip(windows, fallback, failed)], dtype=object)
    return status, reason


def finish(sums: pd.DataFrame, scope: str) -> pd.DataFrame:
    """Rows of summed ADDITIVE columns (plus their group keys) -> accuracy rows of `scope` with metrics."""
    out = sums.reset_index(drop=True).copy()
    out["scope"] = scope
    out["status"], out["reason"] = status_of(out["windows"], out["fallback_windows"], out["failed_windows"])
    out["answered_by"] = None
    out["origin"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
    for k in KEYS:
        if k not in out:
            out[k] = "*"
    return pd.concat([out, metrics_from_sums(out)], axis=1)


def with_fold_scope(folds: pd.DataFrame) -> pd.DataFrame:
    return folds.assign(scope="fold", nodes=1)


def node_scope(folds: pd.DataFrame) -> pd.DataFrame:
    sums = folds.assign(nodes=1).groupby(NODE_BY, as_index=False)[list(ADDITIVE)].sum()
    return finish(sums.assign(nodes=1), "node")


def level_scope(nodes: pd.DataFrame) -> pd.DataFrame:
    return finish(nodes.groupby(LEVEL_BY, as_index=False)[list(ADDITIVE)].sum(), "level")


def accuracy_rows(folds: pd.DataFrame) -> pd.DataFrame:
    """Fold, node and level rows together (the accuracy table's content for one backtest run)."""
    nodes = node_scope(folds)
    return pd.concat([with_fold_scope(folds), nodes, level_scope(nodes)], ignore_index=True)
