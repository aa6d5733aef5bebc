"""The daily forecast run on Spark: same numbers as pandas, every level reconciled, idempotent reruns, failures
isolated and counted, earlier runs kept, a crash recorded."""
import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from cloudtune.events import load_calendar
from cloudtune.pipeline import run_series
from cloudtune.simulate import simulate_fleet
from cloudtune.spark.forecast_job import check_failed_share, run_forecast
from cloudtune.spark.runs import RunFailed
from cloudtune.spark.series_runner import events_records, node_events
from cloudtune.spark.tables import create_tables, qualified
from cloudtune.spark.views import register_views

pytestmark = pytest.mark.spark
RUN_DATE = date(2025, 12, 8)
EARLIER = date(2025, 12, 7)


@pytest.fixture(scope="module")
def job(spark, spark_config, repo):
    config = dataclasses.replace(
        spark_config, database="forecast_job",
        forecast=dataclasses.replace(spark_config.forecast, horizon="2d", history_days=21, peak_paths=50,
                                     components_horizon="1d", max_failed_share=0.5),
    )
    spark.sql(f"DROP DATABASE IF EXISTS {config.database} CASCADE")
    create_tables(spark, config.database)
    register_views(spark, config.database)
    fleet = simulate_fleet(services=["checkout", "search"], regions=["us", "uk"], metrics=["requests"], days=21,
                           seed=11, events=load_calendar(repo / "conf" / "events"))
    actuals = fleet.actuals.copy()
    flat = actuals[(actuals.service == "search") & (actuals.region == "us")].assign(service="batch", value=5.0)
    lone = actuals.iloc[:1].assign(service="lonely")  # one point: no model can answer
    actuals = pd.concat([actuals, flat, lone], ignore_index=True)
    frame = actuals.assign(date=actuals.ts.dt.date, source_file="test", ingest_run_id="t",
                           ingested_at=pd.Timestamp("2025-12-08", tz="UTC"))
    spark.createDataFrame(frame).write.format("delta").mode("append").saveAsTable(qualified(config.database, "actuals"))
    earlier = run_forecast(spark, config, EARLIER, progress=False)
    first = run_forecast(spark, config, RUN_DATE, progress=False)
    return config, actuals, first, earlier


def table(spark, config, name):
    return spark.table(qualified(config.database, name)).toPandas()


def test_spark_and_pandas_give_the_same_base_forecast(spark, job):
    config, _, _, _ = job
    key = ("checkout", "us", "requests")
    rows = table(spark, config, "actuals")  # the same rows the Spark job read
    rows = rows[(rows.service == key[0]) & (rows.region == key[1]) & (rows.date < RUN_DATE)]
    events = node_events(events_records(config), "us")
    local = run_series(rows, key, config.forecast, config.model, config.outliers, events).forecast
    fc = table(spark, config, "forecasts")
    fc = fc[(fc.service == key[0]) & (fc.region == key[1]) & (fc.run_date == RUN_DATE)].sort_values("ts")
    assert len(fc) == len(local) == 2 * 1440
    np.testing.assert_allclose(fc["base_mean"].to_numpy(), local["mean"].to_numpy(), rtol=1e-9)


def test_every_level_is_forecast_and_coherent(spark, job):
    config, _, first, _ = job
    fc = table(spark, config, "forecasts")
    fc = fc[fc.run_date == RUN_DATE]
    assert set(fc.level) == {"series", "region", "global"}
    assert set(fc[fc.level == "region"].region) == {"us", "uk"} and set(fc[fc.level == "region"].service) == {"*"}
    bottom = fc[fc.level == "series"].groupby(["region", "ts"])["mean"].sum()
    regions = fc[fc.level == "region"].set_index(["region", "ts"])["mean"]
    np.testing.assert_allclose(regions.loc[bottom.index].to_numpy(), bottom.to_numpy(), rtol=1e-6)
    total = fc[fc.level == "series"].groupby("ts")["mean"].sum()
    glob = fc[fc.level == "global"].set_index("ts")["mean"]
    np.testing.assert_allclose(glob.loc[total.index].to_numpy(), total.to_numpy(), rtol=1e-6)
    assert (fc.p50 <= fc.p90 + 1e-9).all() and (fc.p90 <= fc.p99 + 1e-9).all() and (fc["mean"] >= 0).all()
    assert fc.reconciliation.notna().all() and first["reconciliation"]


def test_failures_are_isolated_counted_and_recorded(spark, job):
    config, _, first, _ = job
    # 2 services x 2 regions + batch + lonely = 6 series, + 2 region totals + 1 global
    assert first["series_in"] == 9 and first["status"] == "succeeded"
    assert first["series_failed"] == 1 and first["series_forecast"] == 8
    failures = table(spark, config, "failures")
    failures = failures[failures.run_date == RUN_DATE].set_index("service")
    assert failures.loc["batch", "status"] == "fallback" and "constant" in failures.loc["batch", "reason"]
    assert failures.loc["lonely", "status"] == "failed" and "too short" in failures.loc["lonely", "reason"]


def test_more_failures_than_the_configured_share_fail_the_run():
    fields = dict(series_in=9, series_failed=1, run_id="forecast-x")
    check_failed_share(fields, 0.2)  # 11% is within 20%
    with pytest.raises(RunFailed, match="1 of 9 series failed .* > forecast.max_failed_share"):
        check_failed_share(fields, 0.1)


def test_a_rerun_replaces_its_rows_and_time_travel_keeps_the_old_ones(spark, job):
    config, _, first, _ = job
    names = ("forecasts", "forecast_components", "outlier_flags", "failures", "event_peaks")
    before = {n: len(table(spark, config, n)) for n in names}
    version = spark.sql(f"DESCRIBE HISTORY {config.database}.forecasts").agg({"version": "max"}).first()[0]
    second = run_forecast(spark, config, RUN_DATE, progress=False)
    assert {n: len(table(spark, config, n)) for n in names} == before
    fc = table(spark, config, "forecasts")
    assert set(fc[fc.run_date == RUN_DATE].run_id) == {second["run_id"]} != {first["run_id"]}
    old = spark.read.option("versionAsOf", version).table(qualified(config.database, "forecasts"))
    assert old.where(f"run_id = '{first['run_id']}'").count() == (fc.run_date == RUN_DATE).sum() > 0


def test_latest_view_shows_only_the_latest_succeeded_run(spark, job):
    config, _, _, _ = job
    latest = spark.table(f"{config.database}.latest_forecasts").toPandas()
    runs = table(spark, config, "forecast_runs")
    good = runs[(runs.status == "succeeded") & (runs.job == "daily")].sort_values("run_date")
    assert set(latest.run_id) == {good.run_id.iloc[-1]} and set(latest.run_date) == {RUN_DATE}


def test_components_and_flags_are_written(spark, job):
    config, _, _, _ = job
    flags = table(spark, config, "outlier_flags")
    assert set(flags.reason) <= {"spike_up", "spike_down", "outage", "level_drop", "manual_exclude"}
    comps = table(spark, config, "forecast_components")
    assert {"trend", "daily"} <= set(comps.component) and set(comps.grain) == {"1h"}


def test_components_are_the_pandas_components(spark, job):
    config, _, _, _ = job
    key = ("checkout", "us", "requests")
    rows = table(spark, config, "actuals")
    rows = rows[(rows.service == key[0]) & (rows.region == key[1]) & (rows.date < RUN_DATE)]
    events = node_events(events_records(config), "us")
    local = run_series(rows, key, config.forecast, config.model, config.outliers, events).components
    comps = table(spark, config, "forecast_components")
    comps = comps[(comps.service == key[0]) & (comps.region == key[1]) & (comps.run_date == RUN_DATE)]
    order = ["component", "ts"]
    comps = comps.assign(ts=pd.to_datetime(comps.ts).dt.tz_localize("UTC")).sort_values(order)
    local = local.sort_values(order)
    assert len(comps) == len(local) > 0
    assert (comps.ts.to_numpy() == local.ts.to_numpy()).all()
    assert (comps.component.to_numpy() == local.component.to_numpy()).all()
    np.testing.assert_allclose(comps["value"].to_numpy(), local["value"].to_numpy(), rtol=1e-12)


@pytest.fixture(scope="module")
def long_range(spark, job, tmp_path_factory):
    from cloudtune.spark.long_range import run_long_range

    config, _, _, _ = job
    config = dataclasses.replace(config, long_range=dataclasses.replace(config.long_range, weeks=104))
    return run_long_range(spark, config, RUN_DATE, tmp_path_factory.mktemp("exports"), progress=False)


def test_long_range_extract_is_weekly_two_years_coherent_and_exported(spark, job, long_range):
    config, _, _, _ = job
    lr = table(spark, config, "long_range_extract")
    assert long_range["status"] == "succeeded" and set(lr.run_id) == {long_range["run_id"]}
    assert lr.groupby(["service", "region"]).size().eq(104).all() and len(lr) == 8 * 104  # lonely has no forecast
    assert (pd.to_datetime(lr.week_start).dt.dayofweek == 0).all()
    regions = lr[lr.level == "region"].set_index(["region", "week_start"])["mean"]
    sums = lr[lr.level == "series"].groupby(["region", "week_start"])["mean"].sum()
    np.testing.assert_allclose(regions.loc[sums.index].to_numpy(), sums.to_numpy(), rtol=1e-6)
    assert (lr.peak_minute_p99 >= lr.p99).all() and (lr.p50 <= lr.p90 + 1e-9).all()
    exported = pd.read_parquet(long_range["exports"]["parquet"])
    assert len(exported) == len(lr) and {"run_id", "p90", "p99"} <= set(exported.columns)
    assert len(pd.read_csv(long_range["exports"]["csv"])) == len(lr)


def test_readme_sql_examples_run_and_return_rows(spark, job, long_range, repo):
    """The spark-sql examples in README.md, against this test's database."""
    import re

    config, _, _, _ = job
    readme = (repo / "README.md").read_text()
    section = readme.split("## SQL consumers", 1)[1].split("\n## ", 1)[0]
    queries = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    assert len(queries) >= 3
    for query in queries:
        rows = spark.sql(query.replace("cloudtune.", f"{config.database}.").strip().rstrip(";")).collect()
        assert rows, f"no rows from README query:\n{query}"


def test_the_recorded_forecast_rows_are_the_rows_in_the_table(spark, job):
    config, _, first, _ = job  # counted as written (an observed metric), not read back
    fc = spark.table(qualified(config.database, "forecasts")).where(f"run_date = '{RUN_DATE}'")
    assert first["forecast_rows"] == fc.count() > 0


def test_a_run_row_written_in_the_background_that_fails_fails_the_run(spark, job, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from cloudtune.spark.runs import RunRecord

    config, _, _, _ = job
    real, calls = RunRecord._write, []

    def first_fails(self, fields=None):
        calls.append((fields or self.fields)["status"])
        if len(calls) == 1:
            raise RuntimeError("metastore unavailable")
        real(self, fields)

    monkeypatch.setattr(RunRecord, "_write", first_fails)
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(RuntimeError, match="metastore unavailable"):
        with RunRecord(spark, config, "daily", date(2025, 12, 12), background=pool):
            pass  # the run itself succeeds
    assert calls == ["running", "failed"]
    runs = table(spark, config, "forecast_runs").set_index("run_date")
    assert runs.loc[date(2025, 12, 12), "status"] == "failed"
    assert "metastore unavailable" in runs.loc[date(2025, 12, 12), "message"]


def test_a_bad_calendar_fails_the_run_and_is_recorded(spark, job, tmp_path):
    config, _, _, _ = job
    (tmp_path / "broken.yaml").write_text("events: [name: prime_day\n")
    with pytest.raises(Exception, match="broken.yaml"):
        run_forecast(spark, dataclasses.replace(config, events_dir=str(tmp_path)), date(2025, 12, 11), progress=False)
    runs = table(spark, config, "forecast_runs").set_index("run_date")
    assert runs.loc[date(2025, 12, 11), "status"] == "failed"
    assert "broken.yaml" in runs.loc[date(2025, 12, 11), "message"]


def test_a_crash_marks_the_run_failed_and_leaves_earlier_runs(spark, job):
    """Last in the module: it empties forecast_components."""
    config, _, _, _ = job
    spark.sql(f"DROP TABLE {config.database}.forecast_components")  # a write in the middle of the run fails
    try:
        with pytest.raises(Exception):
            run_forecast(spark, config, date(2025, 12, 10), progress=False)
    finally:
        create_tables(spark, config.database)
    runs = table(spark, config, "forecast_runs")
    runs = runs[runs.job == "daily"].set_index("run_date")
    assert runs.loc[date(2025, 12, 10), "status"] == "failed" and runs.loc[date(2025, 12, 10), "message"]
    assert runs.loc[RUN_DATE, "status"] == "succeeded"
    fc = table(spark, config, "forecasts")
    assert (fc[fc.run_date == RUN_DATE].run_id == runs.loc[RUN_DATE, "run_id"]).all()
