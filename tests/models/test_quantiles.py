"""Calibration pieces of cloudtune.models.quantiles and the calibration refits of cloudtune.models.base."""
import numpy as np
import pandas as pd

from cloudtune.events import normalize_events
from cloudtune.models.base import _unlearned_event_points
from cloudtune.models.quantiles import backtest_pairs, finite_sample_levels


def test_finite_sample_levels_pick_the_conformal_order_statistic():
    e = np.arange(144.0)  # errors 0..143: the k-th smallest is k - 1
    got = np.quantile(e, finite_sample_levels((0.1, 0.5, 0.9, 0.99), 144))
    # ceil(145 * 0.9) = 131st and ceil(145 * 0.99) = 144th smallest; mirrored below; the median is untouched
    np.testing.assert_allclose(got, [13, 71.5, 130, 143])  # 14th smallest below: 145 - 131
    big = finite_sample_levels((0.9, 0.99), 100_000)
    np.testing.assert_allclose(big, [0.9, 0.99], atol=2e-4)


def test_origins_fall_on_utc_midnights_a_day_apart():
    ts = pd.date_range("2025-01-01 07:00", periods=20 * 1440, freq="1min", tz="UTC")
    y = pd.Series(1.0, index=ts)
    pairs = backtest_pairs(lambda train, w: np.ones(len(w)), y, pd.Timedelta("1min"), 6, pd.Timedelta("14d"),
                           pd.Timedelta("3d"))
    origins = pd.DatetimeIndex([p[0] for p in pairs])
    assert len(origins) >= 4 and (origins == origins.floor("D")).all()  # half the span is kept for training
    gaps = -np.diff(origins.asi8)
    assert (gaps > 0).all() and (gaps % pd.Timedelta("1d").value == 0).all()


def test_refits_leave_out_events_they_had_not_seen():
    ev = normalize_events(pd.DataFrame(dict(
        name=["sale", "sale", "launch"], region="us",
        start=pd.to_datetime(["2025-01-05 10:00", "2025-01-12 10:00", "2025-01-13 10:00"], utc=True),
        end=pd.to_datetime(["2025-01-05 12:00", "2025-01-12 12:00", "2025-01-13 12:00"], utc=True))))
    drop = _unlearned_event_points(ev)
    ts = pd.date_range("2025-01-10", "2025-01-15", freq="1h", tz="UTC", inclusive="left")
    mask = drop(pd.Timestamp("2025-01-10", tz="UTC"), ts)
    sale = (ts >= ev.start[1]) & (ts < ev.end[1])
    launch = (ts >= ev.start[2]) & (ts < ev.end[2])
    assert not mask[sale].any()  # one sale was complete before the origin: its effect was learned
    assert mask[launch].all() and mask.sum() == launch.sum()
    early = drop(pd.Timestamp("2025-01-03", tz="UTC"), ts)
    assert early[sale].all()
    assert _unlearned_event_points(None) is None
