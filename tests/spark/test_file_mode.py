"""File mode: a file of actuals in, a folder of reconciled forecasts out, no table store."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cloudtune.simulate import simulate_fleet
from cloudtune.spark.file_mode import forecast_file, with_overrides

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def actuals_csv(tmp_path_factory, repo):
    fleet = simulate_fleet(services=["cart", "search"], regions=["us", "uk"], metrics=["requests"], days=14, seed=3)
    path = tmp_path_factory.mktemp("file_mode") / "actuals.csv"
    fleet.actuals.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    with path.open("a") as f:  # two bad rows: quarantined, not lost
        f.write("cart,us,requests,2025-12-07T23:59:30Z,10\ncart,us,requests,2025-12-07T10:00:00Z,-3\n")
    return path


def test_file_mode_writes_reconciled_forecasts_and_quarantine(spark, spark_config, actuals_csv, tmp_path, repo):
    config = with_overrides(spark_config, str(repo / "conf" / "events" / "us.yaml"), "1d", "15min")
    summary = forecast_file(spark, config, actuals_csv, tmp_path / "out", "parquet", progress=False)
    fc = pd.read_parquet(tmp_path / "out" / "forecasts")
    assert summary["series_in"] == 4 + 2 + 1 and summary["series_failed"] == 0
    assert set(fc.level) == {"series", "region", "global"} and set(fc.grain) == {"15min"}
    assert fc.groupby(["service", "region"]).size().eq(96).all()  # one day of 15-minute steps per node
    bottom = fc[fc.level == "series"].groupby("ts")["mean"].sum().sort_index()
    top = fc[fc.level == "global"].set_index("ts")["mean"].sort_index()
    np.testing.assert_allclose(top.to_numpy(), bottom.to_numpy(), rtol=1e-6)
    bad = pd.read_parquet(tmp_path / "out" / "quarantine")
    assert sorted(bad.reason) == ["negative_value", "off_grain_timestamp"]
    saved = json.loads((tmp_path / "out" / "run.json").read_text())
    assert saved["rows"]["forecasts"] == len(fc) and saved["rows"]["quarantine"] == 2


def test_the_command_runs_file_mode_end_to_end(actuals_csv, tmp_path, repo):
    out = tmp_path / "csv-out"
    done = subprocess.run(
        [sys.executable, "-m", "cloudtune.cli", "forecast", "--actuals", str(actuals_csv), "--out", str(out),
         "--format", "csv", "--horizon", "6h", "--grain", "1h", "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "forecasts" in done.stdout and str(out.resolve()) in done.stdout
    fc = pd.concat(pd.read_csv(p) for p in (out / "forecasts").glob("*.csv"))
    assert len(fc) == 7 * 6 and set(fc.grain) == {"1h"}


def test_file_mode_flags_are_checked_before_spark(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cloudtune.cli", "forecast", "--actuals", str(tmp_path / "x.csv"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and "x.csv" in done.stderr and "Traceback" not in done.stderr


def test_a_failed_write_raises_and_releases_the_persisted_rows(spark, spark_config, actuals_csv, tmp_path, repo,
                                                               monkeypatch):
    import cloudtune.spark.file_mode as file_mode

    real_write = file_mode._write

    def failing(df, folder, fmt):
        if folder.name == "event_peaks":
            raise OSError(f"disk full writing {folder}")
        return real_write(df, folder, fmt)

    monkeypatch.setattr(file_mode, "_write", failing)
    config = with_overrides(spark_config, str(repo / "conf" / "events" / "us.yaml"), "6h", "1h")
    persisted = spark.sparkContext._jsc.getPersistentRDDs().size()
    with pytest.raises(OSError, match="event_peaks"):
        forecast_file(spark, config, actuals_csv, tmp_path / "out", "parquet", progress=False)
    assert spark.sparkContext._jsc.getPersistentRDDs().size() == persisted
