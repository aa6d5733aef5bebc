"""The one-call facade: contract columns, many series, fallbacks, config, events, hard inputs."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "models"))
from model_synth import frame, synth  # noqa: E402

from cloudtune.errors import InputError  # noqa: E402
from cloudtune.api import fit_report, forecast  # noqa: E402
from cloudtune.models.settings import ModelSettings, Override  # noqa: E402


@pytest.fixture(scope="module")
def actuals():
    a = frame(synth(days=14, seed=1), service="cart")
    b = frame(synth(days=14, seed=2) * 3, service="checkout", region="in")
    return pd.concat([a, b], ignore_index=True)


def test_columns_and_lengths(actuals):
    out = forecast(actuals, "1d")
    assert list(out.columns) == ["service", "region", "metric", "ts", "mean", "p50", "p90", "p99", "model"]
    assert out.groupby(["service", "region", "metric"]).size().tolist() == [1440, 1440]
    assert (out["p50"] <= out["p90"]).all() and (out["p90"] <= out["p99"]).all()
    assert (out[["mean", "p50", "p90", "p99"]] >= 0).all().all()
    rep = fit_report(out)
    assert list(rep.columns) == ["service", "region", "metric", "model", "status", "reason"]
    assert rep["status"].tolist() == ["ok", "ok"] and set(rep["model"]) == {"cloudtune"}
    print(out)  # printing a result with its report must work


def test_custom_quantiles_and_int_horizon(actuals):
    out = forecast(actuals, 24, grain="1h", quantiles=(0.1, 0.5, 0.975))
    assert ["p10", "p50", "p97_5"] == [c for c in out.columns if c.startswith("p")]
    assert len(out) == 48


def test_override_by_pattern(actuals):
    settings = ModelSettings(overrides=[Override(pattern="checkout/*/*", model="seasonal_naive")])
    out = forecast(actuals, "1d", config=settings)
    models = out.groupby("service")["model"].first().to_dict()
    assert models == {"cart": "cloudtune", "checkout": "seasonal_naive"}


def test_ets_baseline(actuals):
    out = forecast(actuals, "1d", config=ModelSettings(default="ets"))
    assert set(out["model"]) == {"ets"} and np.isfinite(out["mean"]).all()


def test_short_history_falls_back_with_reason():
    a = frame(synth(days=2))
    out = forecast(a, "1d")
    rep = fit_report(out)
    assert rep.loc[0, "model"] == "seasonal_naive" and rep.loc[0, "status"] == "fallback"
    assert "history too short for model 'cloudtune'" in rep.loc[0, "reason"]
    assert len(out) == 1440


def test_all_zero_series_is_flat_zero():
    a = frame(synth(days=3) * 0)
    out = forecast(a, "1d")
    assert (out["mean"] == 0).all() and (out["p99"] == 0).all()
    assert "constant series" in fit_report(out).loc[0, "reason"]


def test_nan_raises_or_reports(actuals):
    bad = actuals.copy()
    bad.loc[5, "value"] = np.nan
    with pytest.raises(InputError, match="cart/us/requests: 1 value"):
        forecast(bad, "1d")
    out = forecast(bad, "1d", on_error="report")
    rep = fit_report(out).set_index("service")
    assert rep.loc["cart", "status"] == "failed" and "NaN" in rep.loc["cart", "reason"]
    assert set(out["service"]) == {"checkout"}


def test_missing_columns_message():
    with pytest.raises(InputError, match="missing value"):
        forecast(pd.DataFrame(columns=["service", "region", "metric", "ts"]), "1d")


def test_events_from_calendar_folder(actuals):
    out = forecast(actuals, "1d", events="conf/events")
    assert len(out) == 2880


def test_events_dataframe_and_components():
    y = synth(days=28, slope_change=0)
    ev = pd.DataFrame(dict(name=["sale", "sale"], region=["us", "us"],
                           start=pd.to_datetime(["2025-01-20 08:00", "2025-02-04 08:00"], utc=True),
                           end=pd.to_datetime(["2025-01-20 20:00", "2025-02-04 20:00"], utc=True)))
    inside = (y.index >= ev.start[0]) & (y.index < ev.end[0])
    y[inside] *= 2
    out = forecast(frame(y), "3d", events=ev)
    sale = out[(out.ts >= ev.start[1]) & (out.ts < ev.end[1])]["mean"].mean()
    before = out[(out.ts >= ev.start[1] - pd.Timedelta("1d")) & (out.ts < ev.end[1] - pd.Timedelta("1d"))]["mean"].mean()
    assert sale / before == pytest.approx(2.0, rel=0.25)


def test_config_path(tmp_path, actuals):
    p = tmp_path / "pipeline.yaml"
    p.write_text("model:\n  default: seasonal_naive\n")
    out = forecast(actuals, "1d", config=p)
    assert set(out["model"]) == {"seasonal_naive"}


def test_an_empty_key_is_an_error_not_a_vanished_series(actuals):
    bad = actuals.copy()
    bad.loc[3, "service"] = None
    with pytest.raises(InputError, match=r"1 row\(s\) with an empty service, region or metric \(first at index 3\)"):
        forecast(bad, "1d")


def test_report_mode_also_records_a_horizon_the_model_cannot_reach(actuals):
    out = forecast(actuals, "1900d", on_error="report")
    rep = fit_report(out)
    assert out.empty and set(rep.status) == {"failed"} and rep.reason.str.contains("longer than").all()


def test_weekly_grain_gives_exactly_n_whole_weeks_from_the_first_monday():
    ts = pd.date_range("2025-01-01", periods=24 * 21, freq="1h", tz="UTC")  # ends Wednesday 2025-01-22 00:00
    hist = pd.DataFrame(dict(service="a", region="us", metric="requests", ts=ts,
                             value=100 + 10 * np.sin(np.arange(len(ts)) / 3.8)))
    out = forecast(hist, 104, grain="1w", config=ModelSettings(aggregation="sum"))
    assert len(out) == 104
    assert out["ts"].iloc[0] == pd.Timestamp("2025-01-27", tz="UTC")  # first Monday after the history
    assert (out["ts"].dt.dayofweek == 0).all() and (out["ts"].diff().dropna() == pd.Timedelta("7d")).all()
    # whole weeks: every week's sum is about 168 hours x 100, the first and last ones included
    np.testing.assert_allclose(out["mean"].to_numpy(), 16800, rtol=0.1)


def test_daily_grain_from_a_history_ending_mid_day_starts_at_the_next_midnight():
    ts = pd.date_range("2025-01-01", periods=24 * 14 + 10, freq="1h", tz="UTC")  # ends 2025-01-15 10:00
    hist = pd.DataFrame(dict(service="a", region="us", metric="requests", ts=ts, value=100.0 + (ts.hour >= 12)))
    out = forecast(hist, 30, grain="1d", config=ModelSettings(aggregation="sum"))
    assert len(out) == 30 and out["ts"].iloc[0] == pd.Timestamp("2025-01-16", tz="UTC")
    np.testing.assert_allclose(out["mean"].to_numpy(), 24 * 100.5, rtol=0.05)


def test_text_values_raise_a_clear_input_error_naming_the_series(actuals):
    bad = actuals.copy()
    bad["value"] = bad["value"].astype(object)
    bad.loc[3, "value"] = "n/a"
    with pytest.raises(InputError, match=r"cart/us/requests: 1 value\(s\) are not numbers \(first 'n/a'"):
        forecast(bad, "1d")
