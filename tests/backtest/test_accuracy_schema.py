"""The accuracy tables' definitions hold every metric and count the backtest produces (schemas as code)."""
from cloudtune.backtest.champion import DECISION_COLUMNS
from cloudtune.backtest.metrics import METRIC_COLUMNS
from schemas import ACCURACY, ALL_TABLES, CHAMPION_DECISIONS


def test_accuracy_has_every_metric_as_a_double():
    types = {c.name: c.type for c in ACCURACY.columns}
    assert [m for m in METRIC_COLUMNS if types.get(m) != "double"] == []
    assert {"level", "scope", "model", "origin", "horizon_bucket", "run_id", "run_date"} <= set(types)
    assert ACCURACY.partition_by == ("run_date",) and ALL_TABLES["accuracy"] is ACCURACY


def test_decisions_table_holds_every_decision_column():
    assert set(DECISION_COLUMNS) | {"run_id", "run_date"} == set(CHAMPION_DECISIONS.column_names)
    assert ALL_TABLES["champion_decisions"] is CHAMPION_DECISIONS
