"""Folds of one node: origins, buckets, a seasonal-naive fold worked out by hand, fallbacks recorded, settings."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.backtest import BacktestSettings
from cloudtune.backtest.folds import ALL, backtest_node, origins_for
from cloudtune.errors import ConfigError, InputError
from cloudtune.config.strict import from_dict
from cloudtune.models.settings import ModelSettings

START = pd.Timestamp("2025-01-06", tz="UTC")  # a Monday


def staircase(days: int) -> pd.DataFrame:
    """Hourly; value at hour h of day d = h + d + 1, so each day is yesterday + 1 at every hour."""
    ts = pd.date_range(START, periods=days * 24, freq="h")
    d, h = np.arange(len(ts)) // 24, np.arange(len(ts)) % 24
    return pd.DataFrame(dict(ts=ts, value=(h + d + 1).astype(float)))


def test_origins_are_the_last_multiples_of_step_with_enough_history():
    s = BacktestSettings(cutoffs=3, horizon="1d", step="1d", min_train="7d")
    end = pd.Timestamp("2025-01-15", tz="UTC")
    assert origins_for(pd.Timestamp("2025-01-01", tz="UTC"), end, s) == [
        pd.Timestamp(f"2025-01-{d}", tz="UTC") for d in (12, 13, 14)]
    # 13 days of history needed: 01-12 has 11, 01-13 has 12, only 01-14 (13 days) qualifies
    s13 = BacktestSettings(cutoffs=3, min_train="13d")
    assert origins_for(pd.Timestamp("2025-01-01", tz="UTC"), end, s13) == [pd.Timestamp("2025-01-14", tz="UTC")]
    explicit = BacktestSettings(cutoff_dates=["2025-01-10", "2025-01-09"])
    assert origins_for(pd.Timestamp("2025-01-01", tz="UTC"), end, explicit) == [
        pd.Timestamp("2025-01-09", tz="UTC"), pd.Timestamp("2025-01-10", tz="UTC")]


def test_seasonal_naive_fold_by_hand():
    # 4 days; origin = day 4 (3 days of history < 1 week, so seasonal naive repeats the last day: h + 3).
    # Actual on day 4 is h + 4, so every error is exactly 1.
    rows = staircase(4)
    s = BacktestSettings(cutoffs=1, min_train="3d", models=["seasonal_naive"], horizon_buckets=["12h"])
    f = backtest_node(rows, ("svc", "us", "requests"), "series", s, ModelSettings())
    assert list(f.horizon_bucket) == [ALL, "0-12h", "12h-1d"] and (f.status == "ok").all()
    whole = f.set_index("horizon_bucket").loc[ALL]
    h = np.arange(24)
    assert whole["points"] == 24
    assert whole["mae"] == pytest.approx(1.0) and whole["rmse"] == pytest.approx(1.0)
    # MASE scale: history 72 h < 2 weeks so the season is a day; |y[t] - y[t - 24]| = 1 everywhere -> 1; MASE = 1
    assert whole["mase"] == pytest.approx(1.0)
    assert whole["mape"] == pytest.approx(100 * np.mean(1 / (h + 4)))  # |e| / y = 1 / (h + 4)
    assert whole["smape"] == pytest.approx(100 * np.mean(2 / (2 * h + 7)))  # 2 * 1 / ((h + 4) + (h + 3))
    # daily peak: actual 27 at 23:00, forecast 26 at 23:00 -> 1/27, 0 minutes
    assert whole["peak_day_magnitude_error_pct"] == pytest.approx(100 / 27)
    assert whole["peak_day_timing_error_min"] == 0
    # buckets split the points: hours 0-11 and 12-23
    assert f.set_index("horizon_bucket").loc["0-12h", "points"] == 12
    assert f.set_index("horizon_bucket").loc["0-12h", "mape"] == pytest.approx(100 * np.mean(1 / (h[:12] + 4)))


def test_default_model_beats_seasonal_naive_on_a_smooth_daily_cycle():
    ts = pd.date_range(START, periods=21 * 24, freq="h")
    v = 100 + 30 * np.sin(2 * np.pi * np.arange(len(ts)) / 24) + np.random.default_rng(0).normal(0, 3, len(ts))
    s = BacktestSettings(cutoffs=3, models=["cloudtune", "seasonal_naive"])
    f = backtest_node(pd.DataFrame(dict(ts=ts, value=v)), ("s", "r", "m"), "series", s, ModelSettings())
    assert len(f) == 2 * 3 * 2  # models x origins x (all + one bucket)
    whole = f[f.horizon_bucket == ALL].groupby("model")["mase"].mean()
    assert whole["cloudtune"] < whole["seasonal_naive"]
    assert ((f.coverage_p90 >= 0) & (f.coverage_p90 <= f.coverage_p99)).all()


def test_a_model_that_cannot_fit_is_recorded_with_its_fallback():
    # ETS needs 4 days of history; with 3 days the fallback (seasonal naive) answers and the row says so
    s = BacktestSettings(cutoffs=1, min_train="3d", models=["ets"])
    f = backtest_node(staircase(4), ("svc", "us", "requests"), "series", s, ModelSettings())
    row = f[f.horizon_bucket == ALL].iloc[0]
    assert (row["model"], row["answered_by"], row["status"]) == ("ets", "seasonal_naive", "fallback")
    assert "ets" in row["reason"] and "too short" in row["reason"] and row["fallback_windows"] == 1


def test_bad_data_names_the_node():
    rows = staircase(4)
    rows.loc[5, "value"] = -1.0
    rows = pd.concat([rows, rows.iloc[[3]]])  # a duplicate timestamp
    with pytest.raises(InputError, match="svc/us/requests"):
        backtest_node(rows, ("svc", "us", "requests"), "series", BacktestSettings(min_train="3d", cutoffs=1),
                      ModelSettings())


@pytest.mark.parametrize("data, message", [
    (dict(models=["prophet"]), "backtest.models must be a non-empty list of cloudtune, seasonal_naive, ets, naive"),
    (dict(horizon_buckets=["2d"], horizon="1d"), r"horizon_buckets must increase, each in \(0, horizon=1d\]"),
    (dict(champion_metric="coverage_p90"), "champion_metric must be one of mae, rmse"),
    (dict(levels=["region"]), "must include 'series'"),
    (dict(cutoff_dates=["yesterday"]), "'yesterday' is not a date"),
    (dict(horizon="soon"), "backtest.horizon: cannot read duration 'soon'"),
])
def test_settings_say_what_is_wrong(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(BacktestSettings, data, source="pipeline.yaml", where="backtest")


def test_settings_reject_unknown_keys():
    with pytest.raises(ConfigError, match="unknown key 'backtest.horizons'. Did you mean 'horizon'"):
        from_dict(BacktestSettings, {"horizons": "1d"}, source="pipeline.yaml", where="backtest")


def test_bucket_edges_reach_the_horizon():
    s = BacktestSettings(horizon="7d", horizon_buckets=["1d", "3d"])
    assert [b[0] for b in s.bucket_edges()] == ["0-1d", "1d-3d", "3d-7d"]
    assert s.bucket_edges()[-1][2] == pd.Timedelta("7d")
