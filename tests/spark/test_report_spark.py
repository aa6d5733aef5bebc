"""The run report from the Delta tables: accuracy numbers match the table, the change explanation adds up,
the reconciliation check reads aggregate levels, errors list what exists."""
import dataclasses
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from cloudtune.errors import InputError
from cloudtune.events import load_calendar
from cloudtune.report import render_report
from cloudtune.simulate import simulate_fleet
from cloudtune.spark.report_data import explain_runs, get_run, load_report_data
from cloudtune.spark.tables import create_tables, qualified, replace_partition, struct_type
from schemas import ACCURACY, FORECASTS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from fixture_runs import write_run  # noqa: E402
from html_parse import parse  # noqa: E402

pytestmark = pytest.mark.spark
KEY = ("checkout", "us", "requests")


@pytest.fixture(scope="module")
def runs(spark, spark_config, repo):
    config = dataclasses.replace(
        spark_config, database="report_spark",
        forecast=dataclasses.replace(spark_config.forecast, horizon="35d", history_days=28, peak_paths=20,
                                     components_horizon="2d"),
    )
    spark.sql(f"DROP DATABASE IF EXISTS {config.database} CASCADE")
    create_tables(spark, config.database)
    fleet = simulate_fleet(services=["checkout", "search"], regions=["us"], metrics=["requests"], days=35,
                           end="2025-12-08", seed=9, events=load_calendar(repo / "conf" / "events"), grain="1h")
    actuals = fleet.actuals
    frame = actuals.assign(date=actuals.ts.dt.date, source_file="test", ingest_run_id="t",
                           ingested_at=pd.Timestamp("2025-12-08", tz="UTC"))
    spark.createDataFrame(frame).write.format("delta").mode("append").saveAsTable(qualified(config.database, "actuals"))
    b = write_run(spark, config, actuals, date(2025, 12, 1), "forecast-20251201-b", repo)
    a = write_run(spark, config, actuals, date(2025, 12, 8), "forecast-20251208-a", repo)
    _add_region_level(spark, config, a)
    _add_accuracy(spark, config, a)
    return config, a, b


def _add_region_level(spark, config, run):
    """A region forecast that is the sum of its series (what bottom-up reconciliation writes)."""
    fc = spark.table(qualified(config.database, "forecasts")).where(F.col("run_id") == F.lit(run["run_id"]))
    reg = (fc.groupBy("region", "metric", "ts", "grain", "run_id", "run_date").agg(F.sum("mean").alias("mean"))
           .withColumn("service", F.lit("*")).withColumn("level", F.lit("region")))
    for col in FORECASTS.column_names:
        if col not in reg.columns:
            reg = reg.withColumn(col, F.lit(None))
    rows = fc.unionByName(reg.select(*fc.columns)).localCheckpoint()
    replace_partition(spark, rows, config.database, FORECASTS, {"run_date": run["run_date"]})


def _add_accuracy(spark, config, run):
    """Rows for every column the accuracy table has today (its schema is being redesigned)."""
    rng = np.random.default_rng(2)
    rows = []
    for svc in ("checkout", "search"):
        for model in ("cloudtune", "seasonal_naive"):
            for horizon in ("1d", "7d"):
                row = {}
                for f in struct_type(ACCURACY).fields:
                    t = f.dataType.simpleString()
                    if f.name in ("service", "region", "metric"):
                        row[f.name] = dict(service=svc, region="us", metric="requests")[f.name]
                    elif f.name == "model":
                        row[f.name] = model
                    elif f.name in ("horizon", "level"):
                        row[f.name] = horizon if f.name == "horizon" else "series"
                    elif f.name == "run_id":
                        row[f.name] = run["run_id"]
                    elif f.name == "run_date":
                        row[f.name] = run["run_date"]
                    elif t == "double":
                        row[f.name] = float(rng.uniform(0.2, 1.5))
                    elif t in ("bigint", "int"):
                        row[f.name] = int(rng.integers(10, 1000))
                    elif t == "string":
                        row[f.name] = "x" if f.nullable is False else None
                    else:
                        row[f.name] = None
                rows.append(row)
    df = spark.createDataFrame(rows, struct_type(ACCURACY))
    replace_partition(spark, df, config.database, ACCURACY, {"run_date": run["run_date"]})


@pytest.fixture(scope="module")
def report(spark, runs):
    config, a, b = runs
    data = load_report_data(spark, config, a["run_id"], [KEY], ["us"], days_before=5, days_after=5)
    return data, render_report(data)


def test_accuracy_numbers_in_the_report_match_the_table(spark, runs, report):
    config, a, _ = runs
    _, html = report
    table = spark.table(qualified(config.database, "accuracy")).toPandas()
    got = parse(html).records("accuracy-summary")
    header = list(got[0])
    groups, metrics = header[:header.index("rows")], header[header.index("rows") + 1:]
    assert "model" in groups and metrics
    table[groups] = table[groups].fillna("(all)").astype(str)  # the report shows a null group value as (all)
    want = table.groupby(groups)[metrics].mean()
    sizes = table.groupby(groups).size()
    assert len(got) == len(want) == 4
    for row in got:
        idx = tuple(row[g]["text"] for g in groups)
        idx = idx if len(idx) > 1 else idx[0]
        for m in metrics:
            assert float(row[m]["value"]) == pytest.approx(float(want.loc[idx, m]), rel=1e-12), (idx, m)
        assert int(row["rows"]["text"]) == sizes.loc[idx]


def test_plots_reconciliation_and_change_explanation(report):
    data, html = report
    doc = parse(html)
    assert doc.tags["svg"] >= 4 and doc.tags["polygon"] >= 2  # forecast bands, region, components, histograms
    assert "coherent</b>" in html and "NOT coherent" not in html
    rc = doc.records("reconciliation-table")
    assert rc[0]["level"]["text"] == "region" and int(rc[0]["children"]["text"]) == 2
    exp = data.explanations[0]
    assert not isinstance(exp, str), exp
    assert sum(exp.parts.values()) == pytest.approx(exp.total, rel=1e-9)
    change = doc.records("change-0")
    assert change[-1]["part"]["text"] == "total"
    assert sum(float(r["change"]["value"]) for r in change[:-1]) == pytest.approx(float(change[-1]["change"]["value"]),
                                                                                 rel=1e-9)
    # base_mean is the mean in these runs, and the refits reproduce them
    assert exp.parts["reconciliation"] == 0.0
    assert "config or code" in exp.parts and abs(exp.parts["config or code"]) < 1e-6 * abs(exp.value_b)


def test_region_explanation_and_errors(spark, runs):
    config, a, b = runs
    keys = [("checkout", "us", "requests"), ("search", "us", "requests")]
    exp = explain_runs(spark, config, a, b, keys, "us / requests", "event_peak")
    assert exp.event is not None and sum(exp.parts.values()) == pytest.approx(exp.total, rel=1e-9)
    with pytest.raises(InputError, match="unknown run id 'nope' in report_spark.forecast_runs; recent runs: forecast-20251208-a"):
        get_run(spark, config.database, "nope")
    with pytest.raises(InputError, match="no forecasts for cart/us/requests; series in it include checkout/us/requests"):
        load_report_data(spark, config, a["run_id"], [("cart", "us", "requests")])


def test_the_commands_print_and_write(spark, runs, repo, tmp_path, capsys):
    from cloudtune.cli import main

    config, a, b = runs
    conf = tmp_path / "pipeline.yaml"
    conf.write_text(f"database: {config.database}\nevents_dir: {repo / 'conf' / 'events'}\n"
                    f"forecast: {{horizon: 35d, history_days: 28, components_horizon: 2d, peak_paths: 20}}\n")
    warehouse = spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")
    common = ["--config", str(conf), "--warehouse", warehouse]
    assert main(["explain", *common, "--run", a["run_id"], "--series", "checkout/us/requests"]) == 0
    out = capsys.readouterr().out
    assert f"run {b['run_id']}" in out and "outlier exclusions" in out and "sum of parts" in out
    page = tmp_path / "r.html"
    assert main(["report", *common, "--run", a["run_id"], "--region", "us", "--no-explain", "--out", str(page)]) == 0
    assert parse(page.read_text()).tags["svg"] >= 3
    assert main(["explain", *common, "--run", "forecast-x", "--series", "checkout/us/requests"]) == 2
    assert "unknown run id 'forecast-x' in report_spark.forecast_runs; recent runs: forecast-20251208-a" in \
        capsys.readouterr().err
    assert main(["report", *common, "--run", a["run_id"], "--series", "checkout/us"]) == 2
    assert "--series must be service/region/metric" in capsys.readouterr().err
