"""The default two-resolution model on synthetic minute data with known truth."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError, ModelError
from cloudtune.events import normalize_events
from cloudtune.models.engine import CloudTuneModel
from cloudtune.models.settings import CloudTuneSettings, ConditionalShape
from model_synth import synth


@pytest.fixture(scope="module")
def fitted():
    return CloudTuneModel().fit(synth())


def test_forecast_shape_and_invariants(fitted):
    fc = fitted.forecast("7d")
    assert len(fc) == 7 * 1440
    assert list(fc.columns) == ["ts", "mean", "p50", "p90", "p99"]
    assert fc["ts"].iloc[0] == pd.Timestamp("2025-02-03", tz="UTC")
    assert (fc[["mean", "p50", "p90", "p99"]] >= 0).all().all()
    assert (fc["p50"] <= fc["p90"]).all() and (fc["p90"] <= fc["p99"]).all()


def test_quantiles_widen_with_horizon(fitted):
    fc = fitted.forecast("60d")
    c = fitted.errors_.offset
    width = np.log(fc["p99"].to_numpy() + c) - np.log(fc["mean"].to_numpy() + c)
    daily = width.reshape(60, 1440).mean(axis=1)
    assert daily[-1] > daily[0]
    assert np.all(np.diff(daily) >= -1e-9)


def test_components_multiply_to_forecast(fitted):
    comp = fitted.components("2d")
    assert {"trend", "daily", "weekly", "level_adjust"} <= set(comp.columns)
    np.testing.assert_allclose(comp.drop(columns="mean").prod(axis=1), comp["mean"], rtol=1e-12)
    np.testing.assert_allclose(comp["mean"].to_numpy(), fitted.forecast("2d")["mean"].to_numpy(), rtol=1e-12)


def test_break_found_within_a_day(fitted):
    s = fitted.summary().to_dict()
    dates = [pd.Timestamp(b["date"]) for b in s["breaks"]]
    assert len(dates) == 1
    assert abs(dates[0] - pd.Timestamp("2025-01-24")) <= pd.Timedelta("1d")
    assert s["breaks"][0]["change"] == pytest.approx(0.01, rel=0.3)


def test_no_break_in_pure_noise():
    f = CloudTuneModel().fit(synth(slope_change=0.0, seed=3))
    assert f.summary()["breaks"] == []


def test_daily_amplitude_recovered(fitted):
    amps = fitted.summary()["seasonal_amplitudes"]
    assert "log multiplier" in amps["definition"]
    assert amps["daily"] == pytest.approx(0.3, rel=0.05)  # synth: exp(0.3 sin(...)); half-range of the log is 0.3
    assert amps["weekly"] == pytest.approx(0.1, rel=0.2)  # weekend dip of -0.2 in the log: half-range 0.1


def test_summary_text_and_yearly_note(fitted):
    text = str(fitted.summary())
    assert "breaks:" in text and "growth:" in text
    assert any("yearly seasonality omitted" in n for n in fitted.summary()["notes"])


def test_additive_components_sum():
    f = CloudTuneModel(CloudTuneSettings(mode="additive")).fit(synth(days=21))
    comp = f.components("1d")
    np.testing.assert_allclose(comp.drop(columns="mean").sum(axis=1), comp["mean"], rtol=1e-9)


def test_configured_break_listed():
    f = CloudTuneModel(CloudTuneSettings(breaks=["2025-01-20"], auto_breaks=False)).fit(synth())
    b = f.summary()["breaks"]
    assert [x["date"] for x in b] == ["2025-01-20"] and b[0]["source"] == "configured"


def test_regressor_coefficient_in_summary():
    y = synth(days=28, slope_change=0)
    days = pd.date_range("2025-01-06", periods=40, freq="D", tz="UTC")
    push = pd.Series(np.where(np.arange(40) % 5 == 0, 1.0, 0.0), index=days)
    ts = pd.date_range(days[0], days[-1] + pd.Timedelta("1d"), freq="min", tz="UTC", inclusive="left")
    regs = pd.DataFrame({"push": push.reindex(ts.floor("D")).to_numpy()}, index=ts)
    y = y * np.exp(0.5 * regs["push"].reindex(y.index).to_numpy())
    f = CloudTuneModel().fit(y, regressors=regs)
    assert f.summary()["regressors"]["push"] == pytest.approx(0.5, abs=0.05)
    comp = f.components("5d")
    assert "regressor:push" in comp.columns
    with pytest.raises(ModelError, match="regressor values are missing"):
        f.forecast("30d")


def test_conditional_weekend_shape_component():
    s = CloudTuneSettings(conditional=[ConditionalShape(name="weekend_shape", days=["sat", "sun"])], day_types="none")
    f = CloudTuneModel(s).fit(synth())
    comp = f.components("7d")
    assert "weekend_shape" in comp.columns
    np.testing.assert_allclose(comp.drop(columns="mean").prod(axis=1), comp["mean"], rtol=1e-12)


def test_coarser_history_and_grains():
    y = synth(days=60, freq="1h")
    f = CloudTuneModel().fit(y)
    assert len(f.forecast("3d")) == 72
    wk = f.forecast(104, grain="1w")
    assert len(wk) in (104, 105)
    with pytest.raises(ModelError, match="finer than the history's grain"):
        f.forecast("1d", grain="1min")


def test_weekly_104_from_minutes(fitted):
    wk = fitted.forecast(104, grain="1w")
    assert len(wk) >= 104 and (wk["p90"] >= wk["p50"]).all()


def test_horizon_too_long(fitted):
    with pytest.raises(ModelError, match="is longer than model 'cloudtune' supports"):
        fitted.forecast("800d")


def test_outliers_masked_and_counted():
    y = synth(days=21)
    y.iloc[20000:20060] *= 20
    flags = pd.DataFrame(dict(start=[y.index[20000]], end=[y.index[20059]], reason=["robot spike"]))
    f = CloudTuneModel().fit(y, outliers=flags)
    assert f.summary()["outliers_excluded"] == {"robot spike": 60}
    assert f.history_.iloc[20000] == y.iloc[20000]  # nothing deleted


def test_gaps_are_handled():
    y = synth(days=21).drop(synth(days=21).index[5000:9000])
    fc = CloudTuneModel().fit(y).forecast("1d")
    assert len(fc) == 1440 and np.isfinite(fc["mean"]).all()


@pytest.mark.parametrize("bad, message", [
    ("nan", r"value\(s\) are NaN or inf"),
    ("dup", "duplicate timestamp"),
    ("off", "off the 1min grain"),
    ("neg", "are negative"),
])
def test_hard_inputs_have_clear_messages(bad, message):
    y = synth(days=7)
    if bad == "nan":
        y.iloc[10] = np.nan
    elif bad == "dup":
        y = pd.concat([y, y.iloc[:1]])
    elif bad == "off":
        y.index = y.index + pd.Timedelta("10s")
        y = pd.concat([y.iloc[:-1], pd.Series([1.0], index=[y.index[-1] + pd.Timedelta("30s")])])
    elif bad == "neg":
        y.iloc[3] = -1
    with pytest.raises(InputError, match=message):
        CloudTuneModel().fit(y)


def test_unsorted_input_is_sorted():
    y = synth(days=7)
    a = CloudTuneModel().fit(y).forecast("1d")
    b = CloudTuneModel().fit(y.sample(frac=1, random_state=1)).forecast("1d")
    pd.testing.assert_frame_equal(a, b)


def test_short_history_message():
    with pytest.raises(ModelError, match="history too short for model 'cloudtune'"):
        CloudTuneModel().fit(synth(days=1))


def test_sample_paths(fitted):
    paths = fitted.sample_paths("1d", n_paths=200, seed=1)
    assert paths.shape == (200, 1440) and (paths >= 0).all()
    fc = fitted.forecast("1d")
    cover = (paths <= fc["p90"].to_numpy()[None, :]).mean()
    assert 0.8 < cover < 0.97
    again = fitted.sample_paths("1d", n_paths=200, seed=1)
    np.testing.assert_array_equal(paths, again)


def test_calibrated_coverage_out_of_sample():
    y = synth(days=35, seed=5)
    train, test = y.iloc[:28 * 1440], y.iloc[28 * 1440:]
    fc = CloudTuneModel().fit(train).forecast("7d")
    cov90 = (test.to_numpy() <= fc["p90"].to_numpy()).mean()
    cov99 = (test.to_numpy() <= fc["p99"].to_numpy()).mean()
    assert 0.85 <= cov90 <= 0.95
    assert cov99 >= 0.97


def _sale_calendar(starts, prior_lift=None):
    starts = pd.to_datetime(starts, utc=True)
    ev = pd.DataFrame(dict(name="sale", region="us", start=starts, end=starts + pd.Timedelta("12h")))
    if prior_lift is not None:
        ev["prior_lift"] = prior_lift
    return normalize_events(ev)


def test_summary_lists_upcoming_event_peaks():
    y = synth(days=28, slope_change=0)
    ev = _sale_calendar(["2025-01-20 08:00", "2025-02-04 08:00", "2026-06-01 08:00"])
    y[(y.index >= ev.start[0]) & (y.index < ev.end[0])] *= 2
    fit = CloudTuneModel().fit(y, events=ev, key="svc/us/requests")
    peaks = fit.summary()["upcoming_event_peaks"]
    assert len(peaks) == 1, peaks  # after the history (ends 2025-02-03) and within a year: only 2025-02-04
    p = peaks[0]
    assert p["event"] == "sale" and p["start"].startswith("2025-02-04 08:00")
    window = fit.forecast("2d")
    window = window[(window.ts >= ev.start[1]) & (window.ts < ev.end[1])]
    assert window["mean"].max() < p["peak_p50"] <= p["peak_p90"]
    assert ev.start[1] <= pd.Timestamp(p["peak_ts"]) < ev.end[1]
    assert "upcoming_event_peaks" in str(fit.summary())


def test_summary_peaks_failure_is_reported_not_raised(fitted, monkeypatch):
    import cloudtune.peaks as peaks_module

    def broken(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr(peaks_module, "forecast_peaks", broken)
    y = synth(days=21, slope_change=0)
    fit = CloudTuneModel().fit(y, events=_sale_calendar(["2025-01-10 08:00", "2025-01-28 08:00"]))
    assert fit.summary()["upcoming_event_peaks"] == [dict(error="RuntimeError: boom")]


def test_events_unseen_in_fit_use_their_prior(fitted):
    ev = _sale_calendar([fitted.end_ + pd.Timedelta("1d")], prior_lift=1.5)
    comp = fitted.components("3d", events=ev)
    inside = (comp.index >= ev.start[0]) & (comp.index < ev.end[0])
    assert comp.loc[inside, "event:sale"].mean() == pytest.approx(1.5, rel=0.05)
    assert (comp.loc[comp.index < ev.start[0] - pd.Timedelta("1d"), "event:sale"] == 1.0).all()


def test_sample_paths_leave_out_isolated_spikes():
    y = synth(days=28, slope_change=0, noise=0.05)
    spikes = y.index[(y.index.day % 2 == 0) & (y.index.hour == 3) & (y.index.minute < 3)]
    y[spikes] *= 8  # robot spikes at 03:00 every other day, never in the test window's truth
    fit = CloudTuneModel().fit(y)
    paths = fit.sample_paths("1d", n_paths=200, seed=0)
    ratio = paths.max(axis=1) / fit.forecast("1d")["mean"].max()
    assert np.quantile(ratio, 0.9) < 1.5


def test_trend_is_damped_beyond_the_last_segment():
    # A break 10 days before the end: the steep last slope is followed for ~10 days, then damped.
    fit = CloudTuneModel().fit(synth(days=28, break_day=18, slope_change=0.02, noise=0.02))
    g = fit.summary().to_dict()["growth"]
    L = g["damped_beyond_days"]
    assert 5 <= L <= 12 and "damped beyond" in g["extrapolation"]
    comp = fit.components(pd.date_range(fit.end_, fit.end_ + pd.Timedelta("400d"), freq="1d", inclusive="left"))
    log_trend = np.log(comp["trend"].to_numpy())
    slope = g["slope_per_day"]
    grown = log_trend - log_trend[0]
    assert grown[int(L) - 1] == pytest.approx(slope * (int(L) - 1), rel=0.05)  # linear within L days
    assert grown[-1] <= 2 * L * slope * 1.001 and grown[-1] >= 1.8 * L * slope  # at most 2 L days of growth


def test_far_event_peaks_have_a_spread():
    from cloudtune.peaks import forecast_peaks
    fit = CloudTuneModel().fit(synth(days=28))
    occ = normalize_events(pd.DataFrame(dict(name=["sale"], region="us", start=[fit.end_ + pd.Timedelta("200d")],
                                             end=[fit.end_ + pd.Timedelta("201d")])))
    pk = forecast_peaks(fit, occ, n_paths=200, key=("a", "b", "c"))
    whole = pk[pk["day"].isna()].iloc[0]
    assert whole.peak_p50 < whole.peak_p90 < whole.peak_p99
    paths = fit.sample_paths(pd.date_range(occ.start[0], occ.end[0], freq="1min", inclusive="left"), 100, seed=0)
    assert np.std(np.log(paths.max(axis=1))) > 0.01  # paths differ beyond the backtested days


def test_calibration_refits_that_skip_event_learning_give_the_same_quantiles(monkeypatch):
    """Refits learn event effects only when a learned event recurs in their window: a shortcut, not a change."""
    import cloudtune.models.engine as engine
    from cloudtune.events import normalize_events

    ts = pd.date_range("2025-01-01", periods=24 * 30, freq="1h", tz="UTC")
    rng = np.random.default_rng(3)
    cal = normalize_events(pd.DataFrame([
        dict(name="sale", region="us", start="2025-01-08", end="2025-01-09"),
        dict(name="sale", region="us", start="2025-01-24", end="2025-01-25"),
        dict(name="launch", region="us", start="2025-01-27 10:00", end="2025-01-27 14:00")]))
    y = 100 * np.exp(0.3 * np.sin(2 * np.pi * np.arange(len(ts)) / 24) + 0.05 * rng.standard_normal(len(ts)))
    for r in cal.itertuples():
        y[(ts >= r.start) & (ts < r.end)] *= 1.7
    history = pd.DataFrame({"ts": ts, "value": y})
    spec = engine.CloudTuneModel(CloudTuneSettings(calibration_horizon="10d"))
    calls = []
    real = engine.learned_effects_reach
    monkeypatch.setattr(engine, "learned_effects_reach", lambda *a: calls.append(real(*a)) or calls[-1])
    fast = spec.fit(history, events=cal).forecast("3d", "1h", (0.5, 0.9, 0.99), events=cal)
    assert True in calls and False in calls  # both paths were taken
    monkeypatch.setattr(engine, "learned_effects_reach", lambda *a: True)
    slow = spec.fit(history, events=cal).forecast("3d", "1h", (0.5, 0.9, 0.99), events=cal)
    pd.testing.assert_frame_equal(fast, slow)


def test_an_event_with_no_end_masks_nothing():
    from cloudtune.models.engine import _window_mask

    ts = pd.date_range("2025-01-01", periods=96, freq="1h", tz="UTC")
    events = pd.DataFrame({"start": [ts[10], ts[50]], "end": [pd.NaT, ts[60]],
                           "ramp_before": pd.Timedelta(0), "decay_after": pd.Timedelta(0)})
    mask = _window_mask(ts, events)
    assert mask.sum() == 10 and mask[50:60].all()
    np.testing.assert_array_equal(mask, _window_mask(ts[::-1], events)[::-1])  # the unsorted path agrees
