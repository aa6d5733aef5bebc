"""The daily forecast run on Spark: same numbers as pandas, idempotent reruns, every series accounted for."""
import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from cloudtune.events import events_for_region, load_calendar
from cloudtune.pipeline import run_series
from cloudtune.simulate import simulate_fleet
from cloudtune.spark.forecast_job import run_forecast
from cloudtune.spark.tables import create_tables, qualified

pytestmark = pytest.mark.spark
RUN_DATE = date(2025, 12, 8)


@pytest.fixture(scope="module")
def job(spark, spark_config, repo):
    config = dataclasses.replace(
        spark_config, database="forecast_job",
        forecast=dataclasses.replace(spark_config.forecast, horizon="2d", history_days=21, peak_paths=50,
                                     components_horizon="1d"),
    )
    spark.sql(f"DROP DATABASE IF EXISTS {config.database} CASCADE")
    create_tables(spark, config.database)
    fleet = simulate_fleet(services=["checkout", "search"], regions=["us"], metrics=["requests"], days=21, seed=11,
                           events=load_calendar(repo / "conf" / "events"))
    actuals = fleet.actuals.copy()
    flat = actuals[actuals.service == "search"].assign(service="batch", value=5.0)  # constant: falls back
    actuals = pd.concat([actuals, flat], ignore_index=True)
    frame = actuals.assign(date=actuals.ts.dt.date, source_file="test", ingest_run_id="t",
                           ingested_at=pd.Timestamp("2025-12-08", tz="UTC"))
    spark.createDataFrame(frame).write.format("delta").mode("append").saveAsTable(qualified(config.database, "actuals"))
    first = run_forecast(spark, config, RUN_DATE)
    return config, actuals, first


def table(spark, config, name):
    return spark.table(qualified(config.database, name)).toPandas()


def test_spark_and_pandas_give_the_same_forecast(spark, job, repo):
    config, actuals, _ = job
    key = ("checkout", "us", "requests")
    rows = table(spark, config, "actuals")  # the same fixture the Spark job read
    rows = rows[rows.service == key[0]]
    events = events_for_region(load_calendar(repo / "conf" / "events"), "us")
    local = run_series(rows, key, config.forecast, config.model, config.outliers, events).forecast
    spark_fc = table(spark, config, "forecasts")
    spark_fc = spark_fc[spark_fc.service == key[0]].sort_values("ts")
    assert len(spark_fc) == len(local) == 2 * 1440
    np.testing.assert_allclose(spark_fc["mean"].to_numpy(), local["mean"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(spark_fc["p99"].to_numpy(), local["p99"].to_numpy(), rtol=1e-9)


def test_every_series_is_forecast_or_recorded_with_its_fallback(spark, job):
    config, _, first = job
    assert first["series"] == 3 and first["series_failed"] == 0
    failures = table(spark, config, "failures")
    assert failures.service.tolist() == ["batch"] and failures.status.iloc[0] == "fallback"
    assert "constant" in failures.reason.iloc[0]
    fc = table(spark, config, "forecasts")
    assert set(fc.service) == {"checkout", "search", "batch"}
    assert (fc.p50 <= fc.p90 + 1e-9).all() and (fc.p90 <= fc.p99 + 1e-9).all() and (fc["mean"] >= 0).all()
    assert set(fc.level) == {"series"} and set(fc.grain) == {"1min"}


def test_a_rerun_of_the_same_date_replaces_its_rows(spark, job):
    config, _, first = job
    before = {n: len(table(spark, config, n)) for n in ("forecasts", "forecast_components", "outlier_flags",
                                                          "failures", "forecast_runs")}
    second = run_forecast(spark, config, RUN_DATE)
    after = {n: len(table(spark, config, n)) for n in before}
    assert after == before and before["forecast_runs"] == 1
    runs = table(spark, config, "forecast_runs")
    assert runs.run_id.tolist() == [second["run_id"]] != [first["run_id"]]


def test_flags_and_components_are_written(spark, job):
    config, _, _ = job
    flags = table(spark, config, "outlier_flags")
    assert len(flags) > 0 and set(flags.reason) <= {"spike_up", "spike_down", "outage", "level_drop", "manual_exclude"}
    comps = table(spark, config, "forecast_components")
    assert {"trend", "daily"} <= set(comps.component) and set(comps.grain) == {"1h"}
