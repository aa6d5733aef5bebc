"""Planning windows and the peak minute per series and window (the pandas reference for the Spark adapter)."""
import numpy as np
import pandas as pd

from cloudtune.capacity.windows import event_windows, week_windows, window_peaks, with_event_peaks
from cloudtune.events import normalize_events

HORIZON = pd.DataFrame(dict(region=["us"], first_ts=[pd.Timestamp("2026-01-07T00:00Z")],
                            last_ts=[pd.Timestamp("2026-01-20T23:59Z")]))
CALENDAR = normalize_events(pd.DataFrame([
    dict(name="sale", region="us", start="2026-01-14T00:00Z", end="2026-01-15T00:00Z", ramp_before="6h",
         decay_after="2h"),
    dict(name="sale", region="us", start="2025-12-01T00:00Z", end="2025-12-02T00:00Z", ramp_before="6h",
         decay_after="2h"),
    dict(name="sale", region="uk", start="2026-01-14T00:00Z", end="2026-01-15T00:00Z", ramp_before="6h",
         decay_after="2h"),
]))


def test_event_windows_include_ramp_and_decay_and_only_the_horizon():
    w = event_windows(CALENDAR, HORIZON)
    assert len(w) == 1
    assert w.iloc[0]["window_start"] == pd.Timestamp("2026-01-13T18:00Z")
    assert w.iloc[0]["window_end"] == pd.Timestamp("2026-01-15T02:00Z")


def test_weeks_run_monday_to_monday_over_the_horizon():
    w = week_windows(HORIZON)
    assert w["window_start"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-05", "2026-01-12", "2026-01-19"]
    assert (w["window_start"].dt.dayofweek == 0).all()


def _minutes():
    ts = pd.date_range("2026-01-07", "2026-01-21", freq="1min", inclusive="left", tz="UTC")
    p99 = np.full(len(ts), 100.0)
    p99[ts == pd.Timestamp("2026-01-13T20:00Z")] = 500.0  # inside the sale window, in its ramp
    p99[ts == pd.Timestamp("2026-01-16T09:00Z")] = 300.0  # the same week, outside the sale
    return pd.DataFrame(dict(service="svc", region="us", metric="requests", ts=ts, mean=p99 / 2, p50=p99 / 2,
                             p90=p99 * 0.8, p99=p99))


def test_window_peaks_take_the_busiest_minute_and_its_time():
    windows = pd.concat([event_windows(CALENDAR, HORIZON), week_windows(HORIZON)])
    peaks = window_peaks(_minutes(), windows).set_index(["window", "window_start"])
    sale = peaks.loc[("sale", pd.Timestamp("2026-01-13T18:00Z"))]
    assert sale["peak_p99"] == 500 and sale["peak_ts_p99"] == pd.Timestamp("2026-01-13T20:00Z")
    assert peaks.loc[("week", pd.Timestamp("2026-01-12T00:00Z")), "peak_p99"] == 500
    assert peaks.loc[("week", pd.Timestamp("2026-01-19T00:00Z")), "peak_p99"] == 100


def test_event_peak_quantiles_raise_a_lower_pointwise_peak_only():
    peaks = window_peaks(_minutes(), event_windows(CALENDAR, HORIZON))
    ep = pd.DataFrame(dict(service="svc", region="us", metric="requests", event="sale",
                           event_start=[pd.Timestamp("2026-01-14T00:00Z")] * 2, day=[None, pd.Timestamp("2026-01-14")],
                           peak_p50=[40.0, 30.0], peak_p90=[350.0, 300.0], peak_p99=[650.0, 600.0],
                           peak_ts=[pd.Timestamp("2026-01-14T10:00Z")] * 2))
    out = with_event_peaks(peaks, ep).iloc[0]
    assert out["peak_p99"] == 650 and out["source_p99"] == "event_peaks"
    assert out["peak_p50"] == 250 and out["source_p50"] == "forecasts"  # the minute's own median is higher
    assert out["peak_ts_p99"] == pd.Timestamp("2026-01-14T10:00Z")
