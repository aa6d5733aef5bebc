"""Tracking on Spark: the as-of run is found, the breaches written are the pure core's, reruns replace them."""
import dataclasses
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.events import load_calendar
from cloudtune.simulate import simulate_fleet
from cloudtune.spark.tables import create_tables, qualified
from cloudtune.spark.tracking import as_of_run, track_event
from cloudtune.tracking import track_series

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from fixture_runs import write_run  # noqa: E402

pytestmark = pytest.mark.spark
START = pd.Timestamp("2025-12-01T05:00Z")  # cyber_monday in conf/events/us.yaml
SPIKE = [START + pd.Timedelta(minutes=m) for m in (100, 101, 102)]


@pytest.fixture(scope="module")
def tracked(spark, spark_config, repo):
    config = dataclasses.replace(
        spark_config, database="tracking_spark",
        forecast=dataclasses.replace(spark_config.forecast, horizon="3d", history_days=20, peak_paths=20,
                                     components_horizon="1d"),
    )
    spark.sql(f"DROP DATABASE IF EXISTS {config.database} CASCADE")
    create_tables(spark, config.database)
    fleet = simulate_fleet(services=["checkout"], regions=["us"], metrics=["orders"], days=28, seed=5,
                           events=load_calendar(repo / "conf" / "events"), missing=False)
    actuals = fleet.actuals.copy()
    actuals.loc[actuals.ts.isin(SPIKE), "value"] *= 20  # a bot storm the forecast cannot have seen
    frame = actuals.assign(date=actuals.ts.dt.date, source_file="test", ingest_run_id="t",
                           ingested_at=pd.Timestamp("2025-12-08", tz="UTC"))
    spark.createDataFrame(frame).write.format("delta").mode("append").saveAsTable(qualified(config.database, "actuals"))
    run = write_run(spark, config, actuals, date(2025, 11, 30), "forecast-20251130-test", repo)
    return config, actuals, run


def _table(spark, config, name):
    return spark.table(qualified(config.database, name)).toPandas()


def test_live_pass_writes_the_breaches_the_pure_core_finds(spark, tracked, tmp_path):
    config, actuals, run = tracked
    assert as_of_run(spark, config.database, START.date())["run_id"] == run["run_id"]
    now = START + pd.Timedelta("3h")
    result = track_event(spark, config, "cyber_monday", "us", now=now, out_dir=tmp_path)
    assert result["status"] == "live" and result["report_path"] is None
    fc = _table(spark, config, "forecasts")
    expected, summary = track_series(fc, actuals, START, START + pd.Timedelta("24h"), now,
                                     ("checkout", "us", "orders"))
    got = _table(spark, config, "event_breaches")
    got["ts"] = pd.to_datetime(got.ts, utc=True)
    assert sorted(got.ts) == sorted(expected.ts) and len(got) > 0
    assert got.set_index("ts").severity.sort_index().tolist() == expected.set_index("ts").severity.sort_index().tolist()
    assert set(SPIKE) <= set(got.loc[got.severity == "p99", "ts"])
    assert set(got.forecast_run_id) == {run["run_id"]}
    rep = _table(spark, config, "event_reports")
    assert rep.status.tolist() == ["live"] and rep.minutes_tracked.iloc[0] == summary["minutes_tracked"] == 180
    assert rep.minutes_expected.iloc[0] == 180
    assert rep.minutes_above_p99.iloc[0] == summary["minutes_above_p99"] >= 3
    assert "peak so far" in result["text"] and run["run_id"] in result["text"]


def test_final_pass_replaces_rows_and_writes_the_post_event_report(spark, tracked, tmp_path):
    config, _, run = tracked
    for _ in range(2):
        result = track_event(spark, config, "cyber_monday", "us", now="2025-12-03T00:00Z", out_dir=tmp_path)
    rep = _table(spark, config, "event_reports")
    assert rep.status.tolist() == ["final"] and rep.minutes_expected.iloc[0] == 1440
    assert rep.report_path.iloc[0] == str(result["report_path"])
    got = _table(spark, config, "event_breaches")
    assert len(got) == rep.minutes_above_p90.iloc[0] and not got.duplicated(["service", "ts"]).any()
    text = result["report_path"].read_text()
    assert "# Post-event report: cyber_monday 2025-12-01 (us)" in text and run["run_id"] in text


def test_errors_name_the_fix(spark, tracked, tmp_path):
    config, _, _ = tracked
    with pytest.raises(InputError, match="unknown event 'cyber_mon'; known events: .*cyber_monday"):
        track_event(spark, config, "cyber_mon", "us", now="2025-12-02T00:00Z", out_dir=tmp_path)
    with pytest.raises(InputError, match="no succeeded forecast run on or before 2025-11-28.*recent runs: forecast-"):
        track_event(spark, config, "black_friday", "us", now="2025-11-28T12:00Z", out_dir=tmp_path)
    with pytest.raises(InputError, match="may hold only letters"):
        track_event(spark, config, "x' OR 1=1 --", "us", out_dir=tmp_path)
