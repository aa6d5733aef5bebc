"""day_types "auto": the intra-day shape structure (none, weekend, dow) is chosen out of sample, not by the
history's length."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.models.engine import CloudTuneModel, TwoResolutionCore
from cloudtune.models.settings import CloudTuneSettings
from cloudtune.models.shape import clip_departure, holdout_errors
from model_synth import synth

STEP = pd.Timedelta("1min")


def weekend_shaped(days=10, seed=0, start="2025-01-06"):
    """Weekdays peak at 10:00, weekends at 20:00 (same daily mean): a shape, not a level, differs."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=days * 1440, freq="min", tz="UTC")
    hour = np.asarray((ts - ts.floor("D")) / pd.Timedelta("1h"))
    peak = np.where(ts.dayofweek >= 5, 20.0, 10.0)
    shape = 0.5 * np.cos(2 * np.pi * (hour - peak) / 24)
    return pd.Series(100 * np.exp(shape + rng.normal(0, 0.1, len(ts))), index=ts)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distinct_weekend_shape_gets_its_own_profile_with_ten_days(seed):
    core = TwoResolutionCore(CloudTuneSettings()).fit(weekend_shaped(seed=seed), STEP)
    assert core.day_types_ in ("weekend", "dow"), core.day_types_choice_
    err = core.day_types_choice_["shape_error"]
    assert err[core.day_types_] < 0.95 * err["none"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_shape_every_day_keeps_one_pooled_profile(seed):
    # 28 days: the old length rule gave dow here. The weekend dip is a level, which the daily level fit carries.
    core = TwoResolutionCore(CloudTuneSettings()).fit(synth(days=28, seed=seed), STEP)
    assert core.day_types_ == "none", core.day_types_choice_


def test_forecast_uses_the_weekend_shape():
    y = weekend_shaped(days=12)  # ends on a Friday: the next day is a Saturday
    fc = CloudTuneModel().fit(y).forecast("1d")["mean"].to_numpy()
    assert fc.argmax() // 60 in (19, 20, 21)


def test_summary_records_the_choice_and_why():
    s = CloudTuneModel().fit(weekend_shaped()).summary()
    choice = s["day_types_choice"]
    assert s["day_types"] in ("weekend", "dow")
    assert choice["source"] == "auto" and choice["held_out_days"] == 7
    assert set(choice["shape_error"]) == {"none", "weekend", "dow"}
    assert "lower error than one pooled shape" in choice["reason"]
    assert "day_types_choice" in str(s)


@pytest.mark.parametrize("day_types", ["none", "weekend", "dow"])
def test_explicit_day_types_override_the_choice(day_types):
    core = TwoResolutionCore(CloudTuneSettings(day_types=day_types)).fit(weekend_shaped(), STEP)
    assert core.day_types_ == day_types
    assert core.day_types_choice_ == {"source": "configured"}


def test_calibration_refits_keep_the_final_structure():
    y = weekend_shaped()
    core = TwoResolutionCore(CloudTuneSettings()).fit(y, STEP)
    refit = TwoResolutionCore(CloudTuneSettings()).fit(y[: 4 * 1440], STEP, reuse=core)
    assert refit.day_types_ == core.day_types_


def test_too_short_to_hold_out_and_daily_grain_use_one_shape():
    core = TwoResolutionCore(CloudTuneSettings(min_history="1d")).fit(weekend_shaped()[:1440], STEP)
    assert core.day_types_ == "none" and core.day_types_choice_["held_out_days"] == 0
    daily = synth(days=60).resample("1D").mean()
    core = TwoResolutionCore(CloudTuneSettings()).fit(daily, pd.Timedelta("1D"))
    assert core.day_types_ == "none" and "daily grain" in core.day_types_choice_["reason"]


def test_holdout_errors_shape_and_fallback():
    y = weekend_shaped()
    grid = y.to_numpy().reshape(10, 1440)
    days = pd.date_range(y.index[0], periods=10, freq="D")
    same = np.zeros(10, object)
    err = holdout_errors(grid, {"a": same, "b": same.copy()}, holdout=7)
    assert err.shape == (7, 2)
    np.testing.assert_array_equal(err[:, 0], err[:, 1])  # same labels: same estimate
    # A group with no earlier day falls back to the pooled shape, so its first held-out day scores as pooled.
    dow = days.dayofweek.to_numpy()
    err = holdout_errors(grid, {"none": same, "dow": dow}, holdout=7)
    first_seen = [i for i, d in enumerate(range(3, 10)) if dow[d] not in dow[:d]]
    np.testing.assert_allclose(err[first_seen, 0], err[first_seen, 1])
    assert len(holdout_errors(grid[:1], {"none": same[:1]})) == 0


def test_small_group_keeps_a_real_shape_but_not_an_outlier_hour():
    slots = np.arange(1440) / 60
    pooled = 1 + 0.5 * np.cos(2 * np.pi * (slots - 10) / 24)
    evening = 1 + 0.5 * np.cos(2 * np.pi * (slots - 20) / 24)  # another day type: departs smoothly all day
    np.testing.assert_allclose(clip_departure(evening, pooled), evening, atol=0.02)
    dip = pooled.copy()
    dip[:60] *= 0.4  # an outage hour on the one day of its group
    assert np.abs(clip_departure(dip, pooled) - pooled)[:60].max() < 0.05
