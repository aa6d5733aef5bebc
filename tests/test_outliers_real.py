"""Outlier detection on the sample fleet (known truth) and on real data.

Real data: Twitter AnomalyDetection's minute series (github.com/twitter/AnomalyDetection, data/raw_data.rda,
GPL-3; see /work/shared/data/twitter-anomalydetection/SOURCE.md). It has no labels, so the checks are
properties: the extreme points the package's README shows are flagged, the share flagged stays small.
"""
import time
from pathlib import Path

import pandas as pd
import pytest

from cloudtune.outliers import detect_outliers, mask_from_flags
from cloudtune.outliers.evaluate import score_flags

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data")
TWITTER = DATA / "twitter-anomalydetection" / "raw_data_minutely.csv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fleet():
    simulate = pytest.importorskip("cloudtune.simulate")
    from cloudtune.events import load_calendar

    return simulate.simulate_fleet(end="2025-12-08", days=28, seed=7, events=load_calendar(ROOT / "conf" / "events"))


@pytest.mark.parametrize("events_from", ["calendar", "fleet_truth"])
def test_outlier_bars_on_the_sample_fleet(fleet, events_from):
    from cloudtune.events import load_calendar

    events = load_calendar(ROOT / "conf" / "events") if events_from == "calendar" else fleet.events
    t0 = time.perf_counter()
    flags = detect_outliers(fleet.actuals, events=events)
    seconds = time.perf_counter() - t0
    score = score_flags(fleet.actuals, flags, fleet.outliers, fleet.events)
    print(f"\nfleet ({events_from}): {score['injected']} injected, recall {score['recall']:.3f}, "
          f"false-positive rate {score['false_positive_rate']:.5f}, event flags {score['event_flags']}, "
          f"{score['flags']} flags, {seconds:.1f} s for {fleet.actuals.groupby(['service', 'region', 'metric']).ngroups} series")
    assert score["injected"] >= 50
    assert score["recall"] >= 0.90, score["missed"]
    assert score["false_positive_rate"] <= 0.01
    assert score["event_flags"] == 0


def test_fleet_reasons_follow_the_injected_kind(fleet):
    flags = detect_outliers(fleet.actuals, events=fleet.events)
    truth = fleet.outliers
    agree = 0
    for row in truth.itertuples():
        over = flags[(flags["service"] == row.service) & (flags["region"] == row.region) & (flags["metric"] == row.metric)
                     & (flags["start"] < row.end) & (flags["end"] >= row.start)]
        if len(over) and over.loc[(over["end"] - over["start"]).idxmax(), "reason"] == row.kind:
            agree += 1
    assert agree / len(truth) >= 0.85


@pytest.fixture(scope="module")
def twitter():
    if not TWITTER.exists():
        pytest.skip(f"{TWITTER} not available")
    raw = pd.read_csv(TWITTER)
    return pd.DataFrame(dict(service="twitter", region="global", metric="count",
                             ts=pd.to_datetime(raw["timestamp"], utc=True), value=raw["count"]))


def test_twitter_spikes_are_flagged_and_few(twitter):
    t0 = time.perf_counter()
    flags = detect_outliers(twitter)
    seconds = time.perf_counter() - t0
    mask = mask_from_flags(twitter, flags)
    print(f"\ntwitter: {len(flags)} windows, {int(mask.sum())} of {len(twitter)} points ({mask.mean():.2%}) "
          f"in {seconds:.2f} s; {flags['reason'].value_counts().to_dict()}")
    by_ts = mask.set_axis(twitter["ts"])
    # The series' minimum and maximum (SOURCE.md) and the deep dips visible in the README's plot.
    for ts in ["1980-09-25 16:05", "1980-10-05 13:28", "1980-10-05 13:18", "1980-09-30 18:00", "1980-10-05 01:20"]:
        assert by_ts[pd.Timestamp(ts, tz="UTC")], ts
    assert 0.005 <= mask.mean() <= 0.05
    assert seconds < 2.0
    # The ordinary daily peak (the same hour on every day) is not an outlier.
    peak_hour = twitter.assign(h=twitter["ts"].dt.hour).groupby("h")["value"].median().idxmax()
    at_peak = twitter["ts"].dt.hour == peak_hour
    assert mask[at_peak].mean() < 0.05


def test_twitter_flags_left_out_of_the_fit_lower_backtest_mase(twitter):
    """Rolling origins (>= 5 days of history, 1-day horizon); flags from the training part only, passed as
    `outliers=` to cloudtune.api.forecast. Same run as tests/benchmarks/outliers_twitter.py."""
    from tests.benchmarks import outliers_twitter

    res = outliers_twitter.run(twitter)
    print("\n" + res.round(3).to_string())
    assert len(res) >= 4
    assert (res["flags"] > 0).all()  # every origin's history has flagged spikes to leave out
    assert res["mase_with_flags"].mean() < res["mase_without"].mean()
