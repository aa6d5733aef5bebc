"""The whole backtest in pandas: hierarchy nodes -> folds per node -> accuracy rows -> champion decisions.

The Spark job (`cloudtune.spark.backtest_job`) runs the same steps with `backtest_node` mapped over groups; this path
is for a notebook, a laptop run on a file, and the test that both paths give the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cloudtune.backtest.champion import champion_challenger
from cloudtune.backtest.folds import KEYS, backtest_node
from cloudtune.backtest.hierarchy import hierarchy_nodes
from cloudtune.backtest.settings import BacktestSettings
from cloudtune.backtest.summary import accuracy_rows
from cloudtune.models.settings import ModelSettings


@dataclass
class BacktestResult:
    folds: pd.DataFrame  # fold rows with sums and metrics
    accuracy: pd.DataFrame  # fold, node and level rows (the accuracy table)
    champions: pd.DataFrame  # one decision per team


def node_events(calendar: pd.DataFrame | None, region: str) -> pd.DataFrame | None:
    """The events that apply to a node: its region's (and 'global' ones); every event for the global total."""
    if calendar is None or len(calendar) == 0:
        return None
    if region == "*":
        return calendar.reset_index(drop=True)
    from cloudtune.events import events_for_region

    ev = events_for_region(calendar, region)
    return ev if len(ev) else None


def backtest_fleet(actuals: pd.DataFrame, settings: BacktestSettings | None = None,
                   model: ModelSettings | None = None, events: pd.DataFrame | None = None,
                   teams: dict[str, list[str]] | None = None) -> BacktestResult:
    """actuals: service, region, metric, ts, value. events: a normalized calendar (all regions) or None."""
    settings, model = settings or BacktestSettings(), model or ModelSettings()
    if events is not None and len(events):
        from cloudtune.events import normalize_events

        events = normalize_events(events)  # fills ramp / decay defaults the model reads
    nodes = hierarchy_nodes(actuals, settings.levels)
    parts = [backtest_node(g, key[:3], key[3], settings, model, node_events(events, key[1]))
             for key, g in nodes.groupby([*KEYS, "level"], sort=True)]
    folds = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    acc = accuracy_rows(folds)
    decisions = champion_challenger(acc[acc["scope"] == "node"], settings, model, teams)
    return BacktestResult(folds, acc, decisions)
