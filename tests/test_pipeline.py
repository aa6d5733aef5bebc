"""One series through a forecast run (pure pandas; the Spark job maps exactly this)."""
import numpy as np
import pandas as pd

from cloudtune.config import load_config
from cloudtune.pipeline import run_series


def hourly(days=28):
    ts = pd.date_range("2025-01-01", periods=days * 24, freq="1h", tz="UTC")
    h = np.arange(len(ts))
    return pd.DataFrame({"ts": ts, "value": 1000 + 300 * np.sin(2 * np.pi * h / 24) + 5 * np.cos(h)})


def test_a_series_coarser_than_the_run_grain_is_forecast_at_its_own_grain(repo):
    config = load_config(repo / "conf" / "pipeline.yaml")  # forecast.grain is 1min
    result = run_series(hourly(), ("home", "us", "requests"), config.forecast, config.model, config.outliers, None)
    assert result.report["status"] == "ok"
    assert set(result.forecast.grain) == {"1h"} and len(result.forecast) == 90 * 24


def test_a_failing_series_is_recorded_with_its_flags_kept(repo):
    config = load_config(repo / "conf" / "pipeline.yaml")
    rows = hourly().assign(value=lambda d: d.value.astype(object))
    rows.loc[5, "value"] = "lots"
    result = run_series(rows, ("home", "us", "requests"), config.forecast, config.model, config.outliers, None)
    assert result.report["status"] == "failed" and result.forecast.empty
    assert "home/us/requests" in result.report["reason"] or "value" in result.report["reason"]
