"""Hierarchy nodes for the backtest: each series, plus its region total (service='*') and the global total
(service='*', region='*') per metric, built by summing actuals per timestamp.

A total is kept only at timestamps where every child has a value, so a child's missing hour is not scored as a dip
of the total. A total with a single child is that child again and is skipped (a region with one service, or a metric
seen in one region).
"""
from __future__ import annotations

import pandas as pd

KEYS = ["service", "region", "metric"]
NODE_COLUMNS = [*KEYS, "level", "ts", "value"]


def _total(actuals: pd.DataFrame, by: list[str], level: str) -> pd.DataFrame:
    children = actuals.drop_duplicates(KEYS).groupby(by).size().rename("children")
    sums = actuals.groupby([*by, "ts"])["value"].agg(["sum", "count"]).reset_index().join(children, on=by)
    sums = sums[(sums["children"] > 1) & (sums["count"] == sums["children"])]
    out = sums.rename(columns={"sum": "value"}).assign(level=level)
    for k in KEYS:
        if k not in by:
            out[k] = "*"
    return out[NODE_COLUMNS]


def hierarchy_nodes(actuals: pd.DataFrame, levels=("series", "region", "global")) -> pd.DataFrame:
    """actuals (service, region, metric, ts, value) -> the same rows with level='series', plus the totals."""
    parts = [actuals[KEYS + ["ts", "value"]].assign(level="series")[NODE_COLUMNS]]
    if "region" in levels:
        parts.append(_total(actuals, ["region", "metric"], "region"))
    if "global" in levels:
        regions = actuals.groupby("metric")["region"].nunique()
        multi = actuals[actuals["metric"].isin(regions[regions > 1].index)]
        if len(multi):
            parts.append(_total(multi, ["metric"], "global"))
    return pd.concat(parts, ignore_index=True)
