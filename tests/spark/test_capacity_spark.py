"""The Spark adapters for capacity plans and game days give the pandas planner's numbers, from the tables."""
import dataclasses
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest

from cloudtune.capacity import load_capacity, plan_capacity
from cloudtune.capacity.windows import event_windows, week_windows, window_peaks, with_event_peaks
from cloudtune.events import load_calendar
from cloudtune.spark.capacity import plan_latest_run, to_spark
from cloudtune.spark.gameday import plan_game_day
from cloudtune.spark.tables import create_tables, replace_partition
from schemas import ALL_TABLES
from tests.capacity.helpers import model, write_capacity

pytestmark = pytest.mark.spark

DB = "capacity_spark_test"
RUN_DATE = date(2026, 1, 5)
START = pd.Timestamp("2026-01-05T00:00Z")
CALENDAR = """
region: us
events:
  - name: sale
    ramp_before: 1h
    decay_after: 30min
    occurrences:
      - {start: "2026-01-06T12:00Z", duration: 2h}
      - {start: "2025-01-06T12:00Z", duration: 2h}
"""


def _minutes():
    ts = pd.date_range(START, periods=3 * 1440, freq="1min")
    daily = 1 + 0.5 * np.sin(2 * np.pi * (ts.hour * 60 + ts.minute) / 1440)
    rows = []
    for service, level in (("svc", 2000.0), ("orphan", 500.0)):
        mean = level * daily * (1 + 1.5 * ((ts >= "2026-01-06T12:00Z") & (ts < "2026-01-06T14:00Z")))
        rows.append(pd.DataFrame(dict(service=service, region="us", metric="requests", level="series", grain="1min",
                                      ts=ts, mean=mean, p50=mean, p90=mean * 1.2, p99=mean * 1.4, model="cloudtune",
                                      base_mean=mean, reconciliation=None)))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def setup(spark, spark_config, tmp_path_factory):
    root = tmp_path_factory.mktemp("capacity_spark")
    (root / "events").mkdir()
    (root / "events" / "us.yaml").write_text(CALENDAR)
    types = {"c7.large": ("c", 7, 1.0, {"us": {"a": 4, "b": 4, "c": 4}}, None),
             "c6.large": ("c", 6, 0.8, {"us": {"a": 100, "b": 100, "c": 100}}, None)}
    folder = write_capacity(root, {"svc": model(runs_on={"c7": 500, "c6": 400}, redundancy="zone_loss",
                                                 headroom=0.2, min_instances=3)},
                            types=types, regions={"us": ["a", "b", "c"]})
    (folder / "gameday.yaml").write_text("services: {svc: search, orphan: browse}\nramp_up: 5min\n")
    config = dataclasses.replace(spark_config, database=DB, events_dir=str(root / "events"))
    create_tables(spark, DB, {n: ALL_TABLES[n] for n in ("forecast_runs", "forecasts", "event_peaks",
                                                         "long_range_extract")})
    minutes = _minutes()
    run = dict(run_id="forecast-1", run_date=RUN_DATE)
    replace_partition(spark, spark.createDataFrame(minutes.assign(**run)), DB, ALL_TABLES["forecasts"],
                      {"run_date": RUN_DATE})
    runs = pd.DataFrame([dict(run, job="daily", status="succeeded",
                              finished_at=datetime(2026, 1, 5, 1, tzinfo=timezone.utc)),
                         dict(run_id="forecast-2", run_date=date(2026, 1, 6), job="daily", status="failed",
                              finished_at=datetime(2026, 1, 6, 1, tzinfo=timezone.utc))])
    for day, part in runs.groupby("run_date"):
        replace_partition(spark, to_spark(spark, part, ALL_TABLES["forecast_runs"]), DB, ALL_TABLES["forecast_runs"],
                          {"run_date": day})
    peaks = pd.DataFrame([dict(service="svc", region="us", metric="requests", event="sale",
                               event_start=pd.Timestamp("2026-01-06T12:00Z"), day=None, peak_p50=1.0, peak_p90=2.0,
                               peak_p99=9000.0, peak_ts=pd.Timestamp("2026-01-06T12:03Z"), peak_to_mean=1.1, **run)])
    replace_partition(spark, to_spark(spark, peaks, ALL_TABLES["event_peaks"]), DB, ALL_TABLES["event_peaks"],
                      {"run_date": RUN_DATE})
    extract = pd.DataFrame([dict(service=s, region="us", metric="requests", level=lvl, week_start=date(2026, 1, w),
                                 peak_minute_p50=v / 2, peak_minute_p90=v, peak_minute_p99=v * 2, **run)
                            for w in (5, 12) for s, lvl, v in (("svc", "series", 3000.0), ("*", "region", 3500.0))])
    replace_partition(spark, to_spark(spark, extract, ALL_TABLES["long_range_extract"]), DB,
                      ALL_TABLES["long_range_extract"], {"run_date": RUN_DATE})
    return config, folder, minutes, root


@pytest.fixture(scope="module")
def planned(spark, setup):
    config, folder, _, root = setup
    return plan_latest_run(spark, config, root / "out", capacity_dir_path=folder)


def test_plan_from_tables_matches_the_pandas_planner(spark, setup, planned):
    config, folder, minutes, root = setup
    text = planned
    assert "forecast-1" in text and "NOT PLANNED orphan/us" in text
    table = spark.table(f"{DB}.capacity_plans").where(f"run_date = '{RUN_DATE}'").toPandas()
    # The pandas reference on the same minutes and event peaks
    cap = load_capacity(folder)
    span = pd.DataFrame(dict(region=["us"], first_ts=[minutes.ts.min()], last_ts=[minutes.ts.max()]))
    windows = pd.concat([event_windows(load_calendar(root / "events"), span), week_windows(span)])
    ep = spark.table(f"{DB}.event_peaks").toPandas().assign(
        event_start=pd.Timestamp("2026-01-06T12:00Z"), peak_ts=pd.Timestamp("2026-01-06T12:03Z"))
    want = plan_capacity(with_event_peaks(window_peaks(minutes, windows), ep), cap, as_of=RUN_DATE).plans
    planned = table[table.status.isin(["ok", "short"])]
    key = ["window", "zone", "instance_type"]
    got = planned.assign(period_start=pd.to_datetime(planned.period_start, utc=True))
    assert sorted(map(tuple, got[key + ["instances"]].values)) == sorted(map(tuple, want[key + ["instances"]].values))
    sale = got[got.window == "sale"]
    assert sale["peak_load"].iloc[0] == 9000 and sale["peak_source"].iloc[0] == "event_peaks"
    # 9000 * 1.2 / 2 zones = 5400 per zone: 4 c7 (2000) + ceil(3400 / 400) = 9 c6, in each of 3 zones
    assert sale.groupby("instance_type")["instances"].sum().to_dict() == {"c6.large": 27, "c7.large": 12}
    orphan = table[table.service == "orphan"]
    assert orphan["status"].tolist() == ["no_capacity_model"]
    assert (root / "out" / f"capacity-orders-{RUN_DATE}.csv").is_file()
    # a rerun replaces the run date's rows
    plan_latest_run(spark, config, root / "out", capacity_dir_path=folder)
    assert spark.table(f"{DB}.capacity_plans").count() == len(table)


def test_rollup_is_written_from_the_long_range_extract(spark, planned):
    rollup = spark.table(f"{DB}.capacity_rollup").toPandas()
    assert sorted(rollup["week_start"].astype(str).unique()) == ["2026-01-05", "2026-01-12"]
    # 3000 * 1.2 / 2 = 1800 per zone: 4 c7 (2000 >= 1800) in each of 3 zones
    assert rollup.groupby("generation")["instances"].sum().to_dict() == {7: 24}
    assert set(rollup["region_peak_load"]) == {3500.0}


def test_game_day_schedule_adds_up_to_the_forecast(spark, setup):
    config, folder, minutes, root = setup
    text = plan_game_day(spark, config, root / "gameday", capacity_dir_path=folder)
    assert "sale us 2026-01-06T12:00 at p99" in text
    csv = pd.read_csv(next((root / "gameday").glob("*.csv")), parse_dates=["ts"])
    event = csv[csv.phase != "ramp_up"].set_index("ts")
    assert event.index.min() == pd.Timestamp("2026-01-06T11:00Z") and len(event) == 60 + 120 + 30
    want = minutes[minutes.level == "series"].groupby("ts")["p99"].sum().loc[event.index]
    assert np.abs(event["total"] - want).max() <= 0.5
    assert (event[["step.search", "step.browse", "step.detail", "step.cart", "step.checkout"]].sum(axis=1)
            == event["total"]).all()
    assert (csv.phase == "ramp_up").sum() == 5
