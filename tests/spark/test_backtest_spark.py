"""The backtest on Spark: the same numbers as the pandas path, every node and level written, idempotent reruns."""
import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from cloudtune.backtest import BacktestSettings, backtest_fleet
from cloudtune.events import load_calendar
from cloudtune.simulate import simulate_fleet
from cloudtune.spark.backtest_job import run_backtest
from cloudtune.spark.series_runner import events_records
from cloudtune.spark.tables import create_tables, qualified
from schemas import ACCURACY, CHAMPION_DECISIONS

pytestmark = pytest.mark.spark
RUN_DATE = date(2025, 12, 8)
SETTINGS = BacktestSettings(cutoffs=2, horizon="1d", horizon_buckets=["6h"], min_train="12d",
                            models=["cloudtune", "seasonal_naive"])


@pytest.fixture(scope="module")
def job(spark, spark_config, repo):
    config = dataclasses.replace(spark_config, database="backtest_job")
    spark.sql(f"DROP DATABASE IF EXISTS {config.database} CASCADE")
    create_tables(spark, config.database)
    fleet = simulate_fleet(services=["checkout", "search"], regions=["us", "uk"], metrics=["requests"], days=15,
                           seed=5, events=load_calendar(repo / "conf" / "events"))
    a = fleet.actuals  # 5-minute means: the same code path, a fifth of the fitting on a shared 2-core machine
    a = a.assign(ts=a.ts.dt.floor("5min")).groupby(["service", "region", "metric", "ts"], as_index=False)["value"].mean()
    frame = a.assign(date=a.ts.dt.date, source_file="test", ingest_run_id="t",
                     ingested_at=pd.Timestamp("2025-12-08", tz="UTC"))
    spark.createDataFrame(frame).write.format("delta").mode("append").saveAsTable(qualified(config.database, "actuals"))
    first = run_backtest(spark, config, SETTINGS, RUN_DATE, events=[])  # no calendar: fast; the rerun uses it
    return config, first


def table(spark, config, name):
    return spark.table(qualified(config.database, name)).toPandas()


def test_spark_and_pandas_give_the_same_numbers(spark, job, repo):
    config, first = job
    actuals = table(spark, config, "actuals")[["service", "region", "metric", "ts", "value"]]
    local = backtest_fleet(actuals, SETTINGS, config.model, None)
    acc = table(spark, config, "accuracy")
    acc["origin"] = pd.to_datetime(acc["origin"]).dt.tz_localize("UTC")  # Spark hands back naive UTC (session tz)
    keys = ["scope", "level", "service", "region", "metric", "model", "horizon_bucket", "origin"]
    both = acc.merge(local.accuracy, on=keys, suffixes=("_spark", "_pandas"))
    assert len(both) == len(acc) == len(local.accuracy)
    for col in ("points", "mae", "rmse", "mase", "wql", "coverage_p90", "peak_day_timing_error_min"):
        np.testing.assert_allclose(both[f"{col}_spark"].astype(float), both[f"{col}_pandas"].astype(float),
                                   rtol=1e-9, err_msg=col)
    d = table(spark, config, "champion_decisions").sort_values("team").reset_index(drop=True)
    assert d.winner.tolist() == local.champions.sort_values("team").winner.tolist()


def test_every_level_and_scope_is_written_with_the_table_schema(spark, job):
    config, first = job
    acc = table(spark, config, "accuracy")
    assert list(acc.columns) == ACCURACY.column_names
    assert set(acc.level) == {"series", "region", "global"} and set(acc.scope) == {"fold", "node", "level"}
    assert set(acc.horizon_bucket) == {"all", "0-6h", "6h-1d"} and set(acc.horizon) == {"1d"}
    folds = acc[(acc.scope == "fold") & (acc.level == "series")]
    assert len(folds) == 4 * 2 * 2 * 3  # series x models x origins x buckets
    lv = acc[(acc.scope == "level") & (acc.horizon_bucket == "all")].set_index(["level", "model"])
    assert lv.loc[("series", "cloudtune"), "nodes"] == 4 and lv.loc[("region", "cloudtune"), "nodes"] == 2
    assert (lv.xs("cloudtune", level="model").mase < lv.xs("seasonal_naive", level="model").mase).all()
    assert first["series"] == 4 and set(first["levels"].level) == {"series", "region", "global"}
    d = table(spark, config, "champion_decisions")
    assert list(d.columns) == CHAMPION_DECISIONS.column_names and set(d.team) == {"checkout", "search"}
    assert d.reason.str.contains("mase: cloudtune").all()


def test_a_rerun_of_the_same_date_replaces_its_rows(spark, job):
    config, first = job
    before = {n: len(table(spark, config, n)) for n in ("accuracy", "champion_decisions")}
    second = run_backtest(spark, config, SETTINGS, RUN_DATE, events=events_records(config))  # with the calendar
    after = {n: len(table(spark, config, n)) for n in before}
    assert after == before
    assert set(table(spark, config, "accuracy").run_id) == {second["run_id"]} != {first["run_id"]}
