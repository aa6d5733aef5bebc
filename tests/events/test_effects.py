"""EventEffects on small synthetic series whose true multiplier is known exactly (built here, not copied)."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.events import EventEffects, normalize_events
from cloudtune.events.effects import EffectSettings


def _cal(rows):
    return normalize_events(pd.DataFrame(rows))


def _true_mult(t_min, start, end, lift, spike_at):
    """Flat plateau plus an early spike, scaled so the mean over [start, end) is `lift` (as the simulator)."""
    u = np.clip((t_min - start) / (end - start), -1.0, 2.0)
    x = u / spike_at
    g = 1.0 + 2.0 * x * np.exp(np.minimum(1 - x, 50.0))
    uu = (np.arange(100_000) + 0.5) / 100_000
    gm = (1.0 + 2.0 * (uu / spike_at) * np.exp(1 - uu / spike_at)).mean()
    m = np.ones_like(t_min)
    core = (u >= 0) & (u < 1)
    m[core] = 1 + (lift - 1) * g[core] / gm
    return m


def _series(cal, lift=1.8, spike_at=6 / 1440, days=6, noise=0.05, seed=1):
    ts = pd.date_range("2025-01-01", periods=days * 1440, freq="1min", tz="UTC")
    t = ts.asi8 / 6e10 + 0.5
    base = 200 * np.exp(0.4 * np.sin(2 * np.pi * t / 1440))
    mult = np.ones(len(ts))
    for r in cal.itertuples():
        mult *= _true_mult(t, r.start.value / 6e10, r.end.value / 6e10, lift, spike_at)
    rng = np.random.default_rng(seed)
    actual = rng.poisson(base * mult * np.exp(noise * rng.standard_normal(len(ts)) - noise**2 / 2)).astype(float)
    return ts, actual, base, mult


def test_learns_lift_and_early_peak_from_two_occurrences():
    cal = _cal(dict(name=["sale", "sale"], region="us", start=["2025-01-02T10:00Z", "2025-01-04T10:00Z"],
                    end=["2025-01-03T10:00Z", "2025-01-05T10:00Z"]))
    ts, actual, base, _ = _series(cal)
    fx = EventEffects().fit(ts, actual, base, cal)
    (s,) = fx.summary()
    assert s["source"] == "learned" and s["occurrences_learned"] == 2
    assert s["lift"] == pytest.approx(1.8, rel=0.05)
    assert abs(s["peak_offset"] - 6.0) <= 5.0  # minutes from the start; the true top is flat from 4 to 8
    assert s["peak_lift"] > s["lift"]


def test_multipliers_are_one_outside_windows_and_other_regions():
    cal = _cal(dict(name=["sale", "fest"], region=["us", "in"], start=["2025-01-02T10:00Z", "2025-01-02T10:00Z"],
                    end=["2025-01-03T10:00Z", "2025-01-03T10:00Z"], ramp_before=["2h", "0h"],
                    decay_after=["1h", "0h"]))
    us = cal[cal["region"] == "us"]
    ts, actual, base, _ = _series(us)
    fx = EventEffects().fit(ts, actual, base, us)
    m = fx.multipliers(ts, cal, region="us")
    assert list(m.columns) == ["sale"]
    window = (ts >= pd.Timestamp("2025-01-02T08:00Z")) & (ts < pd.Timestamp("2025-01-03T11:00Z"))
    assert np.all(m["sale"].to_numpy()[~window] == 1.0)
    assert m["sale"].to_numpy()[window].mean() > 1.3


def test_overlapping_events_product_reproduces_the_data():
    cal = _cal(dict(name=["week", "day"], region="uk", start=["2025-01-01T12:00Z", "2025-01-03T00:00Z"],
                    end=["2025-01-05T12:00Z", "2025-01-04T00:00Z"]))
    ts = pd.date_range("2025-01-01", periods=6 * 1440, freq="1min", tz="UTC")
    base = np.full(len(ts), 500.0)
    week = np.where((ts >= cal.start[0]) & (ts < cal.end[0]), 1.4, 1.0)
    day = np.where((ts >= cal.start[1]) & (ts < cal.end[1]), 1.7, 1.0)
    rng = np.random.default_rng(3)
    actual = rng.poisson(base * week * day).astype(float)
    fx = EventEffects().fit(ts, actual, base, cal)
    lifts = {s["name"]: s["lift"] for s in fx.summary()}
    assert lifts["week"] == pytest.approx(1.4, rel=0.05)
    assert lifts["day"] == pytest.approx(1.7, rel=0.05)
    prod = fx.multipliers(ts, cal).prod(axis=1).to_numpy()
    inside = (ts >= cal.start[1]) & (ts < cal.end[1])
    assert prod[inside].mean() == pytest.approx(1.4 * 1.7, rel=0.03)


def test_warp_24h_shape_onto_48h_keeps_relative_shape_and_lift():
    hist = _cal(dict(name=["pd"], region="us", start=["2025-01-02T10:00Z"], end=["2025-01-03T10:00Z"]))
    ts, actual, base, _ = _series(hist, lift=2.0)
    fx = EventEffects().fit(ts, actual, base, hist)
    s24 = pd.Timestamp("2025-02-01T00:00Z")
    s48 = pd.Timestamp("2025-03-01T00:00Z")
    fut = _cal(dict(name=["pd", "pd"], region="us", start=[s24, s48], end=[s24 + pd.Timedelta("24h"),
                                                                          s48 + pd.Timedelta("48h")]))
    t24 = pd.date_range(s24, periods=1440, freq="1min")
    t48 = pd.date_range(s48, periods=2880, freq="1min")
    m24 = fx.multipliers(t24, fut)["pd"].to_numpy()
    m48 = fx.multipliers(t48, fut)["pd"].to_numpy()
    assert m48.mean() == pytest.approx(m24.mean(), rel=0.01)  # same lift whatever the duration
    u24, u48 = (np.arange(1440) + 0.5) / 1440, (np.arange(2880) + 0.5) / 2880
    assert np.allclose(np.interp(u24, u48, m48), m24, rtol=0.03)  # the same curve in relative time
    assert abs(int(np.argmax(m48)) - 2 * int(np.argmax(m24))) <= 2


def test_unseen_event_uses_prior_and_none_is_one():
    cal = _cal(dict(name=["launch", "mystery"], region="us", start=["2025-03-01T12:00Z", "2025-03-01T00:00Z"],
                    end=["2025-03-01T14:00Z", "2025-03-02T00:00Z"], prior_lift=[2.0, None],
                    prior_shape=["spike", "flat"]))
    ts, actual, base, _ = _series(cal.iloc[:0])
    fx = EventEffects().fit(ts, actual, base, cal)
    by = {s["name"]: s for s in fx.summary()}
    assert by["launch"]["source"] == "prior" and by["launch"]["lift"] == pytest.approx(2.0, rel=0.01)
    assert by["mystery"]["source"] == "none" and "no effect" in by["mystery"]["note"]
    fut = pd.date_range("2025-03-01", periods=2 * 1440, freq="1min", tz="UTC")
    m = fx.multipliers(fut, cal)
    assert (m["mystery"] == 1.0).all()
    inside = (fut >= pd.Timestamp("2025-03-01T12:00Z")) & (fut < pd.Timestamp("2025-03-01T14:00Z"))
    assert m["launch"][inside].mean() == pytest.approx(2.0, rel=0.02)
    assert m["launch"][inside].idxmax() < pd.Timestamp("2025-03-01T12:30Z")  # spike early in the window


def test_robust_to_one_odd_occurrence():
    cal = _cal(dict(name="sale", region="us", start=[f"2025-01-0{d}T06:00Z" for d in (1, 3, 5, 7)],
                    end=[f"2025-01-0{d}T12:00Z" for d in (1, 3, 5, 7)]))
    ts = pd.date_range("2025-01-01", periods=8 * 1440, freq="1min", tz="UTC")
    base = np.full(len(ts), 300.0)
    mult = np.ones(len(ts))
    for i, r in enumerate(cal.itertuples()):
        mult[(ts >= r.start) & (ts < r.end)] = 5.0 if i == 2 else 1.5  # one occurrence hit by a robot storm
    actual = np.random.default_rng(0).poisson(base * mult).astype(float)
    (s,) = EventEffects().fit(ts, actual, base, cal).summary()
    assert s["lift"] < 2.0  # a plain mean of ratios would give about 2.4


def test_errors_name_the_problem():
    ts = pd.date_range("2025-01-01", periods=10, freq="1min", tz="UTC")
    with pytest.raises(InputError, match="baseline"):
        EventEffects().fit(ts, np.ones(10), np.ones(9), None)
    with pytest.raises(InputError, match="end"):
        EventEffects().fit(ts, np.ones(10), np.ones(10), pd.DataFrame(dict(name=["x"], start=[ts[0]])))


def test_hourly_grain_and_settings():
    cal = _cal(dict(name="holiday", region="dc", start=["2025-01-03T00:00Z", "2025-01-10T00:00Z"],
                    end=["2025-01-04T00:00Z", "2025-01-11T00:00Z"]))
    ts = pd.date_range("2025-01-01", periods=14 * 24, freq="1h", tz="UTC")
    base = 100 + 50 * np.sin(np.arange(len(ts)) * 2 * np.pi / 24)
    inside = np.zeros(len(ts), bool)
    for r in cal.itertuples():
        inside |= (ts >= r.start) & (ts < r.end)
    actual = np.where(inside, 0.6, 1.0) * base
    fx = EventEffects(EffectSettings(smooth=0.3)).fit(ts, actual, base, cal)
    (s,) = fx.summary()
    assert s["lift"] == pytest.approx(0.6, rel=0.02) and s["shape"]["kind"] == "dip"


def _hourly(days=70, lift=2.0, day_noise=0.0, seed=3):
    """Hourly counts with a daily cycle and one 24 h event on day 35; `day_noise`: sd of a per-day level error
    the baseline does not know about (a wandering level the engine did not follow)."""
    ts = pd.date_range("2025-01-01", periods=days * 24, freq="1h", tz="UTC")
    base = 300 * np.exp(0.5 * np.sin(2 * np.pi * np.arange(len(ts)) / 24))
    rng = np.random.default_rng(seed)
    level = np.repeat(np.exp(day_noise * rng.standard_normal(days)), 24)
    cal = _cal(dict(name=["fest"], region="au", start=["2025-02-05T00:00Z"], end=["2025-02-06T00:00Z"]))
    inside = (ts >= cal.start[0]) & (ts < cal.end[0])
    actual = rng.poisson(base * level * np.where(inside, lift, 1.0)).astype(float)
    return ts, actual, base, cal


def test_clean_baseline_keeps_a_single_occurrence_at_full_credibility():
    ts, actual, base, cal = _hourly()
    (s,) = EventEffects().fit(ts, actual, base, cal).summary()
    assert s["source"] == "learned" and s["credibility"] > 0.98
    assert s["lift"] == pytest.approx(2.0, rel=0.05)


def test_noisy_baseline_shrinks_a_single_occurrence_toward_no_effect():
    ts, actual, base, cal = _hourly(day_noise=0.5, lift=4.0)
    (s,) = EventEffects().fit(ts, actual, base, cal).summary()
    # Z = 1 / (1 + s^2 / tau^2) with s ~ 0.5 (the day-level error) and tau = 0.7: about 0.65
    assert 0.5 < s["credibility"] < 0.8
    assert s["baseline_noise"] == pytest.approx(0.5, rel=0.3)
    assert 1.0 < s["lift"] < 4.0


def test_occurrence_whose_baseline_is_far_off_is_unusable_and_said_so():
    ts, actual, base, cal = _hourly()
    off = base * np.where((ts >= "2025-01-15") & (ts < "2025-02-25"), 0.2, 1.0)  # baseline 5x too low there
    (s,) = EventEffects().fit(ts, actual, off, cal).summary()
    assert s["source"] == "none" and s["occurrences_learned"] == 0 and s["occurrences_unusable"] == 1
    factor = float(s["unusable"][0]["reason"].split("off by x")[1].split()[0])
    assert factor == pytest.approx(5.0, rel=0.05) and "no usable past occurrence" in s["note"]
    # With a prior the prior applies instead, and the summary says why.
    (p,) = EventEffects().fit(ts, actual, off, cal.assign(prior_lift=1.5)).summary()
    assert p["source"] == "prior" and p["lift"] == pytest.approx(1.5, rel=0.01) and "unusable" in p["note"]


def test_occurrence_inside_an_outage_is_unusable():
    ts, actual, base, cal = _hourly()
    gap = (ts >= "2025-01-16") & (ts < "2025-02-05") | (ts >= "2025-02-07") & (ts < "2025-02-24")
    keep = ~gap  # the sensor was down for weeks on both sides; only the event day and far days remain
    (s,) = EventEffects().fit(ts[keep], actual[keep], base[keep], cal).summary()
    assert s["occurrences_unusable"] == 1 and "have data to check the baseline" in s["unusable"][0]["reason"]


def test_moderately_biased_baseline_is_recalibrated_on_the_days_around():
    ts, actual, base, cal = _hourly()
    (s,) = EventEffects().fit(ts, actual, base * 0.7, cal).summary()  # baseline 30% low everywhere
    assert s["source"] == "learned" and s["lift"] == pytest.approx(2.0, rel=0.05)


def test_learned_effects_reach_only_events_seen_in_the_history_and_due_in_the_window():
    from cloudtune.events.effects import learned_effects_reach

    cal = _cal([dict(name="sale", region="us", start="2025-01-03 00:00", end="2025-01-04 00:00"),
                dict(name="sale", region="us", start="2025-01-20 00:00", end="2025-01-21 00:00"),
                dict(name="old", region="us", start="2024-01-03 00:00", end="2024-01-04 00:00"),
                dict(name="old", region="us", start="2025-01-25 00:00", end="2025-01-26 00:00")])
    day = lambda d: pd.Timestamp(f"2025-01-{d:02d}", tz="UTC")  # noqa: E731
    window = pd.date_range(day(18), day(23), freq="1h", tz="UTC")
    assert learned_effects_reach(cal, (day(1), day(10)), window)  # sale seen, and due again
    assert not learned_effects_reach(cal, (day(5), day(10)), window)  # the history misses the first sale
    assert not learned_effects_reach(cal, (day(1), day(10)), window[:24])  # nothing due in the window
    late = pd.date_range(day(24), day(27), freq="1h", tz="UTC")
    assert not learned_effects_reach(cal, (day(1), day(10)), late)  # 'old' is due, but its 2024 run predates it
    assert not learned_effects_reach(None, (day(1), day(10)), window)


def test_a_calendar_may_mix_dates_and_date_times():
    cal = _cal([dict(name="sale", region="us", start="2025-01-08", end="2025-01-09"),
                dict(name="launch", region="us", start="2025-01-27 10:00", end="2025-01-27T14:00Z")])
    assert cal.start.tolist() == [pd.Timestamp("2025-01-08", tz="UTC"), pd.Timestamp("2025-01-27 10:00", tz="UTC")]
