"""Reconciliation of pandas frames on one machine: the same functions the Spark adapter maps over blocks."""
from __future__ import annotations

import pandas as pd

from cloudtune.errors import InputError
from cloudtune.reconcile.frame import reconcile_frame
from cloudtune.reconcile.hierarchy import BOTTOM, KEY, NODE_COLUMNS, PARTITIONS, Hierarchy, build_hierarchies, \
    check_nodes
from cloudtune.reconcile.projection import Projection, fit_projection
from cloudtune.reconcile.residuals import summarize_residuals
from cloudtune.reconcile.settings import ReconcileSettings


def series_means(history: pd.DataFrame) -> pd.DataFrame:
    """Each bottom series' historical mean `value` (for top_down); aggregate-level rows, if any, are ignored."""
    missing = [c for c in KEY + ["value"] if c not in history.columns]
    if missing:
        raise InputError(f"history is missing column(s) {', '.join(missing)}; expected service, region, metric, "
                         "ts, value")
    rows = history[history["level"] == BOTTOM] if "level" in history.columns else history
    return rows.groupby(KEY, as_index=False)["value"].mean()


def fit_projections(base_nodes: pd.DataFrame, settings: ReconcileSettings, residuals: pd.DataFrame | None = None,
                    history: pd.DataFrame | None = None) -> dict[tuple, tuple[Hierarchy, Projection]]:
    """Hierarchy and projection per metric (or metric and region), from the node keys of the base forecasts."""
    hierarchies = build_hierarchies(base_nodes, settings.levels, settings.partition)
    check_nodes(base_nodes, hierarchies, settings.levels)
    means = series_means(history) if history is not None and settings.method == "top_down" else None
    fitted = {}
    for unit, hierarchy in hierarchies.items():  # one per metric: a handful, never one per series
        summary = None if residuals is None else summarize_residuals(residuals, hierarchy, settings.min_residuals)
        fitted[unit] = hierarchy, fit_projection(hierarchy, settings, summary, means)
    return fitted


def reconcile(base: pd.DataFrame, settings: ReconcileSettings, residuals: pd.DataFrame | None = None,
              history: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Reconcile base forecasts of every level; returns the rows (same order) and per hierarchy what was done.

    Arguments as for cloudtune.spark.reconcile.reconcile_spark, as pandas frames.
    """
    missing = [c for c in NODE_COLUMNS + ["ts", "mean"] if c not in base.columns]
    if missing:
        raise InputError(f"base forecasts are missing column(s) {', '.join(missing)}; expected service, region, "
                         "metric, level, ts, mean and quantile columns such as p50, p90, p99")
    fitted = fit_projections(base[NODE_COLUMNS].drop_duplicates(), settings, residuals, history)
    group_cols = PARTITIONS[settings.partition] + (["grain"] if "grain" in base.columns else [])
    parts = []
    positional = base.reset_index(drop=True)
    for key, rows in positional.groupby(group_cols, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        hierarchy, projection = fitted[tuple(str(k) for k in key[:len(PARTITIONS[settings.partition])])]
        parts.append(reconcile_frame(rows, hierarchy, projection))
    if parts:
        out = pd.concat(parts).sort_index().set_axis(base.index)
    else:
        out = base.assign(base_mean=base["mean"], reconciliation=None)
    info = {h.label: {**p.info(), "nodes": len(h.nodes), "series": h.n_bottom} for h, p in fitted.values()}
    return out, info
