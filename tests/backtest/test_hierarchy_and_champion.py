"""Hierarchy totals for the backtest, the summary scopes, and the champion / challenger decision."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.backtest import BacktestSettings, backtest_fleet
from cloudtune.backtest.champion import champion_challenger
from cloudtune.backtest.folds import ALL
from cloudtune.backtest.hierarchy import hierarchy_nodes
from cloudtune.backtest.metrics import point_sums
from cloudtune.backtest.peaks import peak_sums
from cloudtune.backtest.summary import accuracy_rows
from cloudtune.models.settings import ModelSettings, Override
from cloudtune.simulate import simulate_fleet

T = pd.date_range("2025-01-01", periods=3, freq="h", tz="UTC")


def frame(service, region, values, ts=T):
    return pd.DataFrame(dict(service=service, region=region, metric="requests", ts=ts, value=values))


def test_totals_sum_children_where_every_child_is_present():
    a = pd.concat([frame("cart", "us", [1.0, 2, 3]), frame("home", "us", [10.0, 20], T[:2]),
                   frame("cart", "uk", [100.0, 200, 300])])
    n = hierarchy_nodes(a).set_index(["level", "service", "region", "ts"])["value"].sort_index()
    # us total: 1 + 10, 2 + 20; at 02:00 home is missing, so the total is not formed there
    assert n.loc[("region", "*", "us")].tolist() == [11.0, 22.0]
    # uk has one service: its total would repeat cart/uk, so it is skipped
    assert ("region", "*", "uk") not in n.index.droplevel(3)
    # global: all three series where all are present: 1 + 10 + 100, 2 + 20 + 200
    assert n.loc[("global", "*", "*")].tolist() == [111.0, 222.0]
    assert len(n.loc["series"]) == 8


def _node(service, model, err, windows=2):
    y = np.full(10, 100.0)
    s = point_sums(y, y + err, {0.5: y + err, 0.9: y + err + 5, 0.99: y + err + 10}, 10.0)
    return dict(service=service, region="us", metric="requests", level="series", horizon_bucket=ALL, model=model,
                windows=windows, **s, **peak_sums([], [], [], None))


def test_challenger_replaces_the_champion_only_when_clearly_better():
    # MASE = |e| / scale 10: cloudtune 8 -> 0.8, ets 7 -> 0.7, seasonal naive 12 -> 1.2; ets is 12.5 % better
    nodes = pd.DataFrame([_node("cart", "cloudtune", 8), _node("cart", "ets", 7), _node("cart", "seasonal_naive", 12)])
    d = champion_challenger(nodes, BacktestSettings(min_improvement_pct=2.0), ModelSettings()).iloc[0]
    assert (d.champion_model, d.challenger_model, d.winner, bool(d.switch)) == ("cloudtune", "ets", "ets", True)
    assert d.champion_value == pytest.approx(0.8) and d.challenger_value == pytest.approx(0.7)
    assert d.improvement_pct == pytest.approx(12.5) and d.seasonal_naive_value == pytest.approx(1.2)
    assert "ets is 12.5% better (>= 2% needed): switch" in d.reason
    keep = champion_challenger(nodes, BacktestSettings(min_improvement_pct=20.0), ModelSettings()).iloc[0]
    assert (keep.winner, bool(keep.switch)) == ("cloudtune", False) and "(< 20% needed): keep cloudtune" in keep.reason


def test_champion_follows_the_configured_override_and_teams_pool_their_services():
    nodes = pd.DataFrame([_node("cart", "cloudtune", 8), _node("cart", "ets", 7),
                          _node("checkout", "cloudtune", 2), _node("checkout", "ets", 7)])
    model = ModelSettings(overrides=[Override("c*/*/*", "ets")])
    d = champion_challenger(nodes, BacktestSettings(), model, teams={"shop": ["ca*", "checkout"]}).iloc[0]
    # pooled over both services: cloudtune (8 + 2) / 2 / 10 = 0.5, ets 0.7 -> ets (champion) loses by 28.6 %
    assert (d.team, d.champion_model, d.challenger_model, d.winner) == ("shop", "ets", "cloudtune", "cloudtune")
    assert d.series == 2 and d.improvement_pct == pytest.approx(100 * (0.7 - 0.5) / 0.7)
    # the other way round, the challenger is worse and the reason says so
    d = champion_challenger(nodes, BacktestSettings(), ModelSettings(), teams={"shop": ["*"]}).iloc[0]
    assert (d.champion_model, d.winner) == ("cloudtune", "cloudtune") and "ets is 40.0% worse: keep cloudtune" in d.reason


def test_a_winner_that_does_not_beat_seasonal_naive_is_called_out():
    nodes = pd.DataFrame([_node("cart", "cloudtune", 15), _node("cart", "seasonal_naive", 12)])
    d = champion_challenger(nodes, BacktestSettings(models=["cloudtune", "seasonal_naive"]), ModelSettings()).iloc[0]
    assert d.winner == "seasonal_naive" and "champion cloudtune does NOT beat seasonal naive" in d.reason
    fine = pd.DataFrame([_node("cart", "cloudtune", 10), _node("cart", "seasonal_naive", 12)])
    d = champion_challenger(fine, BacktestSettings(), ModelSettings()).iloc[0]
    assert d.winner == "cloudtune" and "does NOT beat" not in d.reason and "seasonal naive 1.2" in d.reason


def test_fleet_backtest_levels_and_scopes():
    fleet = simulate_fleet(services=["checkout", "search"], regions=["us", "uk"], metrics=["requests"], days=21,
                           seed=3)
    s = BacktestSettings(cutoffs=2, min_train="14d", models=["cloudtune", "seasonal_naive"])
    r = backtest_fleet(fleet.actuals, s)
    acc = r.accuracy
    assert set(acc.scope) == {"fold", "node", "level"} and set(acc.level) == {"series", "region", "global"}
    lv = acc[(acc.scope == "level") & (acc.horizon_bucket == ALL)].set_index(["level", "model"])
    assert lv.loc[("series", "cloudtune"), "nodes"] == 4 and lv.loc[("region", "cloudtune"), "nodes"] == 2
    assert lv.loc[("series", "cloudtune"), "windows"] == 8  # 4 series x 2 origins
    # the level row pools the fold sums: its MAE is total |e| / total points of its folds
    folds = r.folds[(r.folds.level == "series") & (r.folds.model == "cloudtune") & (r.folds.horizon_bucket == ALL)]
    assert lv.loc[("series", "cloudtune"), "mae"] == pytest.approx(folds.abs_err_sum.sum() / folds.points.sum())
    for level in ("series", "region", "global"):
        assert lv.loc[(level, "cloudtune"), "mase"] < lv.loc[(level, "seasonal_naive"), "mase"], level
    assert set(r.champions.team) == {"checkout", "search"} and r.champions.reason.str.len().min() > 40
    again = accuracy_rows(r.folds)
    pd.testing.assert_frame_equal(again, acc)
