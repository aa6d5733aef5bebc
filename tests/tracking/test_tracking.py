"""Live tracking: exactly the constructed breaches are flagged, the summary adds up, occurrences are found."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.tracking import breach_windows, find_occurrence, format_summary, post_event_markdown, track_series

START = pd.Timestamp("2025-11-28T05:00Z")
END = START + pd.Timedelta("2h")
KEY = ("checkout", "us", "orders")


def _case():
    """A flat forecast (mean 100, P90 120, P99 150) and actuals at 100 except for known minutes."""
    ts = pd.date_range(START, END, freq="1min", inclusive="left")
    fc = pd.DataFrame({"ts": ts, "mean": 100.0, "p90": 120.0, "p99": 150.0})
    actual = pd.Series(100.0, index=ts)
    p90_only = [START + pd.Timedelta(minutes=m) for m in (10, 11, 12, 40)]
    p99 = [START + pd.Timedelta(minutes=m) for m in (60, 61, 90)]
    actual[p90_only] = [121.0, 130.0, 149.0, 125.0]
    actual[p99] = [151.0, 200.0, 160.0]
    actual[START + pd.Timedelta(minutes=20)] = 120.0  # at P90 exactly: not a breach
    actual[START + pd.Timedelta(minutes=21)] = 150.0 + 1e-9  # just above P99: a p99 breach
    acts = pd.DataFrame({"ts": ts, "value": actual.to_numpy()})
    return fc, acts, p90_only, [*p99, START + pd.Timedelta(minutes=21)]


def test_exactly_the_constructed_breaches_are_flagged():
    fc, acts, p90_only, p99 = _case()
    breaches, summary = track_series(fc, acts, START, END, key=KEY)
    got90 = set(breaches.loc[breaches.severity == "p90", "ts"])
    got99 = set(breaches.loc[breaches.severity == "p99", "ts"])
    assert got90 == set(p90_only)
    assert got99 == set(p99)
    assert (breaches[["service", "region", "metric"]].drop_duplicates().to_numpy() == [list(KEY)]).all()
    row = breaches.set_index("ts").loc[START + pd.Timedelta(minutes=61)]
    assert row.excess == pytest.approx(200 / 150 - 1)
    assert summary["minutes_above_p90"] == len(p90_only) + len(p99)
    assert summary["minutes_above_p99"] == len(p99)
    assert summary["actual_peak"] == 200.0 and summary["actual_peak_ts"] == START + pd.Timedelta(minutes=61)
    assert summary["forecast_peak"] == 100.0
    excess = acts["value"].sum() - 100.0 * len(acts)
    assert summary["cumulative_error"] == pytest.approx(excess)
    assert summary["minutes_tracked"] == summary["minutes_expected"] == 120


def test_live_pass_scores_only_minutes_before_now_and_ingested():
    fc, acts, _, _ = _case()
    now = START + pd.Timedelta(minutes=62)
    acts = acts[acts.ts != START + pd.Timedelta(minutes=11)]  # not ingested yet
    breaches, summary = track_series(fc, acts, START, END, now=now, key=KEY)
    assert set(breaches.ts) == {START + pd.Timedelta(minutes=m) for m in (10, 12, 21, 40, 60, 61)}
    assert summary["minutes_expected"] == 62 and summary["minutes_tracked"] == 61
    assert summary["minutes_above_p99"] == 3
    assert summary["forecast_peak"] == 100.0  # over the whole occurrence, not only so far


def test_breach_windows_and_post_event_report():
    fc, acts, _, _ = _case()
    breaches, summary = track_series(fc, acts, START, END, key=KEY)
    windows = breach_windows(breaches)
    assert windows[["minutes", "severity"]].values.tolist() == [
        [3, "p90"], [1, "p99"], [1, "p90"], [2, "p99"], [1, "p99"]]
    event = dict(name="black_friday", start=START, end=END, regions=["us"])
    text = post_event_markdown(event, "forecast-20251127-x", "2025-11-27", pd.DataFrame([summary]), breaches)
    assert "forecast-20251127-x" in text and "| checkout/us/orders | 200 |" in text
    assert "| 8 | 4 |" in text  # minutes above P90 (p99 minutes included) and above P99
    coarse = post_event_markdown(event, "r", "2025-11-27", pd.DataFrame([summary]), breaches, step="15min")
    assert "counts below are of 15min steps" in coarse
    assert breach_windows(breaches, "10min").minutes.tolist() == [4, 1, 2, 1]  # 10, 11, 12 and 21 are one window
    printed = format_summary(pd.DataFrame([summary]), event, "forecast-20251127-x", END)
    assert "final" in printed and "200" in printed


CAL = pd.DataFrame({
    "name": ["black_friday", "black_friday", "diwali"], "region": ["us", "us", "in"],
    "start": pd.to_datetime(["2024-11-29T05:00Z", "2025-11-28T05:00Z", "2025-10-20T00:00Z"]),
    "end": pd.to_datetime(["2024-11-30T05:00Z", "2025-11-29T05:00Z", "2025-10-21T00:00Z"]),
})


def test_occurrence_lookup_and_its_errors():
    occ = find_occurrence(CAL, "black_friday", "us", now="2025-11-28T12:00Z")
    assert occ["start"] == START and occ["regions"] == ["us"]
    assert find_occurrence(CAL, "black_friday", start="2024-11-29")["start"].year == 2024
    with pytest.raises(InputError, match="unknown event 'prime'; known events: black_friday, diwali"):
        find_occurrence(CAL, "prime")
    with pytest.raises(InputError, match="applies in: us"):
        find_occurrence(CAL, "black_friday", "in")
    with pytest.raises(InputError, match="occurrences: 2024-11-29T05:00Z, 2025-11-28T05:00Z"):
        find_occurrence(CAL, "black_friday", start="2023-11-24")
    with pytest.raises(InputError, match="has not started"):
        find_occurrence(CAL, "diwali", now="2025-01-01")


def test_forecast_without_quantiles_is_refused_with_the_series_name():
    fc, acts, _, _ = _case()
    with pytest.raises(InputError, match="checkout/us/orders: forecast needs columns .* missing p99"):
        track_series(fc.drop(columns="p99"), acts, START, END, key=KEY)
    assert np.isfinite(track_series(fc, acts.iloc[:0], START, END, key=KEY)[1]["cumulative_error"])
