"""Automatic detection on a synthetic fleet with known outliers and events (tests/outliers/outlier_synth.py)."""

import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.outliers import (FLAG_COLUMNS, DetectSettings, ManualWindow, OutlierSettings, detect_outliers,
                                detect_series_outliers, mask_from_flags)
from cloudtune.outliers.evaluate import score_flags
from outlier_synth import make_fleet, make_series


@pytest.fixture(scope="module")
def fleet():
    return make_fleet(days=21, n_outliers=10, seed=11)


@pytest.fixture(scope="module")
def flagged(fleet):
    actuals, truth, events = fleet
    return detect_outliers(actuals, events=events)


def test_bars_on_synthetic_fleet(fleet, flagged):
    actuals, truth, events = fleet
    score = score_flags(actuals, flagged, truth, events)
    assert score["recall"] >= 0.9, score["missed"]
    assert score["false_positive_rate"] <= 0.01
    assert score["event_flags"] == 0


def test_flags_have_contract_columns_and_utc_times(flagged):
    assert list(flagged.columns) == FLAG_COLUMNS
    assert str(flagged["start"].dtype) == "datetime64[ns, UTC]"
    assert (flagged["start"] <= flagged["end"]).all()
    assert set(flagged["method"]) == {"mad_residual"}
    assert flagged["score"].abs().min() > 0


def test_reasons_match_injected_kinds(fleet, flagged):
    actuals, truth, _ = fleet
    expect = {"outage": {"outage"}, "level_drop": {"level_drop", "spike_down", "outage"},
              "spike_up": {"spike_up"}, "spike_down": {"spike_down", "outage"}}
    for row in truth.itertuples():
        over = flagged[(flagged["service"] == row.service) & (flagged["start"] <= row.end) & (flagged["end"] >= row.start)]
        main = over.loc[(over["end"] - over["start"]).idxmax(), "reason"]
        assert main in expect[row.kind], (row, over)
    # Long drops to ~60 % are level drops, near-zero runs are outages.
    assert {"outage", "level_drop", "spike_up", "spike_down"} <= set(flagged["reason"])


def test_event_peak_is_flagged_only_without_the_calendar():
    start = pd.Timestamp("2025-11-27T15:00Z")
    events = pd.DataFrame(dict(name=["launch"], region=["us"], start=[start], end=[start + pd.Timedelta("3h")],
                               ramp_before=[pd.Timedelta("30min")], decay_after=[pd.Timedelta("30min")]))
    actuals, _, _ = make_fleet(series=(("home", "us", "requests", 800.0),), days=14, n_outliers=0, events=events)
    inside = lambda f: ((f["start"] <= start + pd.Timedelta("3h")) & (f["end"] >= start)).any()
    assert not inside(detect_outliers(actuals, events=events))
    # Same data, no calendar: a 2.5x lift for hours is exactly what the detector exists to catch.
    assert inside(detect_outliers(actuals))


def test_one_series_with_its_key_gets_the_same_flags_as_in_a_fleet(fleet, flagged):
    actuals, _, events = fleet
    key = ("checkout", "uk", "orders")
    start = actuals.ts.min() + pd.Timedelta("3d")
    manual = OutlierSettings(exclude=[ManualWindow(service=key[0], region=key[1], metric=key[2], start=str(start),
                                                   end=str(start + pd.Timedelta("2h")), note="load test")])
    rows = actuals[(actuals.service == key[0]) & (actuals.region == key[1]) & (actuals.metric == key[2])]
    for config, fleet_flags in ((None, flagged), (manual, detect_outliers(actuals, events=events, config=manual))):
        want = fleet_flags[(fleet_flags.service == key[0]) & (fleet_flags.region == key[1])].reset_index(drop=True)
        got = detect_series_outliers(rows[["ts", "value"]], key, events=events, config=config)
        assert len(want) > 0
        pd.testing.assert_frame_equal(got, want)
    bad = rows[["ts", "value"]].assign(value=lambda f: f.value.where(f.index != f.index[5], -1.0))
    with pytest.raises(InputError, match="checkout/uk/orders at"):
        detect_series_outliers(bad, key)
    with pytest.raises(InputError, match="key must be"):
        detect_series_outliers(rows[["ts", "value"]], key[:2])


def test_inputs_are_not_mutated(fleet):
    actuals, _, events = fleet
    before, ev_before = actuals.copy(), events.copy()
    detect_outliers(actuals, events=events)
    pd.testing.assert_frame_equal(actuals, before)
    pd.testing.assert_frame_equal(events, ev_before)


def test_clean_series_has_almost_no_flags():
    actuals, truth, events = make_fleet(days=14, n_outliers=0, seed=5)
    flags = detect_outliers(actuals, events=events)
    assert truth.empty
    assert mask_from_flags(actuals, flags).mean() < 0.002


@pytest.mark.parametrize("grain", ["5min", "1h"])
def test_coarser_grains_find_a_spike_and_an_outage(grain):
    rng = np.random.default_rng(1)
    ts = pd.date_range("2025-10-01", periods=int(pd.Timedelta("28d") / pd.Timedelta(grain)), freq=grain, tz="UTC")
    value = rng.poisson(make_series(rng, ts, 500.0)).astype(float)
    spike, outage = len(ts) // 3, 2 * len(ts) // 3
    value[spike] *= 3
    value[outage:outage + 3] = 0
    actuals = pd.DataFrame(dict(service="s", region="r", metric="m", ts=ts, value=value))
    flags = detect_outliers(actuals)
    mask = mask_from_flags(actuals, flags).to_numpy()
    assert mask[spike] and mask[outage:outage + 3].all()
    assert mask.mean() < 0.01
    assert flags.loc[flags["start"] == ts[outage], "reason"].item() == "outage"


def test_daily_grain_uses_the_week_as_cycle():
    rng = np.random.default_rng(2)
    ts = pd.date_range("2024-01-01", periods=365, freq="1d", tz="UTC")
    weekly = np.where(ts.dayofweek >= 5, 0.6, 1.0)
    value = rng.poisson(10000 * weekly).astype(float)
    value[200] *= 0.4
    flags = detect_outliers(pd.DataFrame(dict(service="s", region="r", metric="m", ts=ts, value=value)))
    # The weekend dip recurs every week: only the injected day may be flagged.
    assert list(flags["start"]) == [ts[200]]
    assert flags["reason"].item() == "spike_down"


def test_disabled_detection_gives_no_automatic_flags(fleet):
    actuals, _, _ = fleet
    flags = detect_outliers(actuals, config=OutlierSettings(enabled=False))
    assert flags.empty and list(flags.columns) == FLAG_COLUMNS


def test_mask_aligns_with_a_shuffled_index(fleet, flagged):
    actuals, _, _ = fleet
    shuffled = actuals.sample(frac=1.0, random_state=0)
    shuffled.index = shuffled.index * 10 + 3
    mask = mask_from_flags(shuffled, flagged)
    assert mask.index.equals(shuffled.index)
    expected = mask_from_flags(actuals, flagged)
    assert (mask.to_numpy() == expected.loc[shuffled.index // 10].to_numpy()).all()
    one = flagged.iloc[0]
    at = (shuffled["service"] == one["service"]) & (shuffled["ts"] >= one["start"]) & (shuffled["ts"] <= one["end"])
    assert mask[at].all() and at.sum() >= 1


def test_missing_column_is_named():
    with pytest.raises(InputError, match="missing column.*value"):
        detect_outliers(pd.DataFrame(dict(service=["a"], region=["r"], metric=["m"], ts=[pd.Timestamp("2025-01-01", tz="UTC")])))


def test_duplicate_timestamps_name_the_series():
    ts = pd.date_range("2025-01-01", periods=10, freq="1min", tz="UTC")
    frame = pd.DataFrame(dict(service="cart", region="uk", metric="orders", ts=ts.append(ts[:1]), value=1.0))
    with pytest.raises(InputError, match="cart/uk/orders: duplicate timestamp"):
        detect_outliers(frame)


def test_negative_values_are_rejected():
    ts = pd.date_range("2025-01-01", periods=10, freq="1min", tz="UTC")
    frame = pd.DataFrame(dict(service="cart", region="uk", metric="orders", ts=ts, value=np.r_[np.ones(9), -1.0]))
    with pytest.raises(InputError, match="finite and >= 0"):
        detect_outliers(frame)


def test_bad_detect_settings_are_rejected():
    with pytest.raises(ValueError, match="transform must be one of log, none"):
        DetectSettings(transform="sqrt")
    with pytest.raises(ValueError, match="extend_z"):
        DetectSettings(extend_z=9.0)


def test_utc_naive_and_text_timestamps_give_the_same_flags(fleet, flagged):
    actuals, events = fleet[0], fleet[2]
    naive = actuals.assign(ts=pd.to_datetime(actuals["ts"], utc=True).dt.tz_localize(None))
    text = actuals.assign(ts=pd.to_datetime(actuals["ts"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    for variant in (naive, text):
        pd.testing.assert_frame_equal(detect_outliers(variant, events=events), flagged)


@pytest.mark.parametrize("outliers", [0, 8])
def test_passes_stop_at_a_fixed_point_with_the_same_flags(monkeypatch, outliers):
    """A pass that returns the flags it was given ends the loop: the passes left would only repeat it."""
    import dataclasses

    import cloudtune.outliers.detect as detect

    class NoShortcut:  # numpy, except that no two flag sets ever compare equal: every pass runs
        array_equal = staticmethod(lambda a, b: False)

        def __getattr__(self, name):
            return getattr(np, name)

    actuals, _, events = make_fleet(days=14, n_outliers=outliers, seed=5)
    config = OutlierSettings(detect=dataclasses.replace(DetectSettings(), passes=5))
    calls, real = [], detect._flag
    monkeypatch.setattr(detect, "_flag", lambda *a: calls.append(1) or real(*a))
    fast, n_fast = detect_outliers(actuals, events=events, config=config), len(calls)
    monkeypatch.setattr(detect, "np", NoShortcut())
    slow = detect_outliers(actuals, events=events, config=config)
    assert len(calls) - n_fast == 2 * 5 and n_fast < 2 * 5  # two series
    pd.testing.assert_frame_equal(fast, slow)


@pytest.mark.parametrize("window", [3, 4, 5, 30, 31, 120, 1440])
def test_the_rolling_median_is_pandas_centred_median_bit_for_bit(window):
    from cloudtune.outliers.detect import _rolling_median

    rng = np.random.default_rng(window)
    a = rng.standard_normal(5000)
    a[rng.random(5000) < 0.05] = np.nan
    a[1000:1400] = np.nan  # a gap longer than every window but the day: windows short of half their points
    want = pd.Series(a).rolling(window, center=True, min_periods=window // 2 + 1).median().to_numpy()
    np.testing.assert_array_equal(_rolling_median(a, window), want)


def test_the_rolling_median_of_a_series_about_as_long_as_its_window():
    from cloudtune.outliers.detect import _rolling_median

    a = np.array([1.0, 7.0, np.nan, 3.0, 10.0, 2.0])
    for window in (6, 9, 13):  # 13 is longer than the series and its padding: pandas' own path
        want = pd.Series(a).rolling(window, center=True, min_periods=window // 2 + 1).median().to_numpy()
        np.testing.assert_array_equal(_rolling_median(a, window), want)
        assert window == 13 or not np.isnan(want).all()


@pytest.mark.parametrize("variant", ["plain", "groups", "extra", "rows"])
def test_the_shifted_median_is_the_median_of_the_other_cycles_present(variant):
    from cloudtune.outliers.detect import _shifted_median

    rng = np.random.default_rng(1)
    m = rng.standard_normal((9, 24))
    m[rng.random(m.shape) < 0.3] = np.nan
    shifts = [-3, -2, -1, 1, 2, 3]
    groups = np.array([0, 0, 1, 1, 0, 0, 0, 1, 1]) if variant == "groups" else None
    extra = 0.0 if variant == "extra" else None
    rows = [0, 4, 8] if variant == "rows" else range(9)
    got = _shifted_median(m, shifts, min_count=2, extra=extra, groups=groups,
                          rows=np.array(rows) if variant == "rows" else None)
    for r in range(9):
        for c in range(24):
            others = [m[r + k, c] for k in shifts if 0 <= r + k < 9 and not np.isnan(m[r + k, c])
                      and (groups is None or groups[r + k] == groups[r])]
            want = np.median(others + [extra] * (extra is not None)) if len(others) >= 2 else np.nan
            want = want if r in rows else np.nan
            np.testing.assert_array_equal(got[r, c], want, err_msg=f"cycle {r}, point {c}")


def test_bucket_mads_of_hour_runs_equal_numpy_per_bucket():
    """The hour buckets of whole days take a matrix path (bottleneck); it equals numpy's median per bucket."""
    from cloudtune.outliers.detect import _bucket_mads

    rng = np.random.default_rng(4)
    days, cycle = 5, 1440
    r = rng.standard_normal(days * cycle)
    r[rng.random(len(r)) < 0.1] = np.nan
    buckets = (np.arange(len(r)) % cycle) * 24 // cycle
    r[buckets == 3] = np.nan  # an hour with no value at all: NaN, for the caller to fill
    ok = ~np.isnan(r)
    want = np.array([np.median(np.abs(r[(buckets == b) & ok] - np.median(r[(buckets == b) & ok])))
                     if ((buckets == b) & ok).any() else np.nan for b in range(24)])
    np.testing.assert_array_equal(_bucket_mads(r, buckets, 24, ok), want)
    shuffled = rng.permutation(buckets)  # not runs of whole days: the per-bucket path, same definition
    want = np.array([np.median(np.abs(r[(shuffled == b) & ok] - np.median(r[(shuffled == b) & ok])))
                     if ((shuffled == b) & ok).any() else np.nan for b in range(24)])
    np.testing.assert_array_equal(_bucket_mads(r, shuffled, 24, ok), want)


@pytest.mark.parametrize("cycles", [14, 3])  # 3: the partial stacks go to bottleneck, the whole ones to a sort
def test_a_later_pass_profile_equals_one_built_from_scratch(cycles):
    """A later pass recomputes only the profile columns whose points changed; its expectation is the one a pass
    without the earlier profile gives: where a window was masked, where a weekend column falls back to every
    day's median, and where a later pass gives the points back."""
    from cloudtune.outliers.detect import _expectation, _Grid

    rng = np.random.default_rng(3)
    days, cycle = 20, 288
    start = pd.Timestamp("2025-03-01", tz="UTC")  # a Saturday
    ts = start.value + np.arange(days * cycle) * 300 * 10**9
    grid = _Grid.build(ts, 300 * 10**9)
    y = np.log(100 + 50 * np.sin(np.arange(days * cycle) * 2 * np.pi / cycle)) + 0.05 * rng.standard_normal(days * cycle)
    s = DetectSettings(profile_cycles=cycles)
    expected, first = _expectation(y, grid, s)
    masked = y.copy()
    masked[5 * cycle + 40: 5 * cycle + 60] = np.nan  # a flagged window
    weekend = [d for d in range(days) if (start + pd.Timedelta(days=d)).dayofweek >= 5]
    masked[np.array(weekend[1:]) * cycle + 100] = np.nan  # a slot left on one weekend day: every day's median
    again, later = _expectation(masked, grid, s, first)
    fresh, scratch = _expectation(masked, grid, s)
    assert not np.allclose(again, expected, equal_nan=True)  # the masked points changed the expectation
    assert np.isfinite(later[1][weekend[0], 100])  # the weekend day's profile there came from the fallback
    np.testing.assert_array_equal(again, fresh)
    np.testing.assert_array_equal(later[1], scratch[1])
    back, _ = _expectation(y, grid, s, later)  # a pass that gives every point back
    np.testing.assert_array_equal(back, expected)
