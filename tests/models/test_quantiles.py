"""Calibration pieces of cloudtune.models.quantiles and the calibration refits of cloudtune.models.base."""
import numpy as np
import pandas as pd

from cloudtune.events import normalize_events
from cloudtune.models.base import _unlearned_event_points
from cloudtune.models.engine import CloudTuneModel
from cloudtune.models.quantiles import ErrorModel, backtest_pairs, finite_sample_levels, level_jumps


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


def test_level_jumps_split_excursions_from_shifts_and_skip_what_calibration_saw():
    rng = np.random.default_rng(0)
    r = rng.normal(0, 0.03, 30)
    days = pd.date_range("2025-01-01", periods=30, freq="D", tz="UTC")
    quiet = level_jumps(r, days)
    assert len(quiet[0]) == 0 and quiet[1:] == (0.0, 0.0)  # day noise is not a jump
    out = r.copy()
    out[3] -= 2.0  # a one-day outage early on: down then back up, an excursion of one day
    sizes, rate, share = level_jumps(out, days)
    assert len(sizes) == 2 and np.all(sizes > 1.8) and rate == 0.0 and np.isclose(share, 1 / 29)
    shift = r.copy()
    shift[5:] += 1.0  # a lasting shift
    sizes, rate, share = level_jumps(shift, days)
    assert len(sizes) == 1 and np.isclose(rate, 1 / 29) and share == 0.0
    # the same outage inside the calibration windows is already among the out-of-sample errors
    late = r.copy()
    late[25] -= 2.0
    _, rate, share = level_jumps(late, days, [(days[20], days[-1] + pd.Timedelta("1d"))])
    assert rate == 0.0 and share == 0.0


def test_jump_mixture_widens_the_tail_not_the_middle():
    origin = pd.Timestamp("2025-01-01", tz="UTC")
    ts = pd.date_range(origin, periods=1440, freq="1min")
    rng = np.random.default_rng(1)
    actual = 100 * np.exp(rng.normal(0, 0.05, len(ts)))
    pairs = [(origin, ts, actual, np.full(len(ts), 100.0))]
    args = (pairs, 1.0, pd.Timedelta("1min"), ts[-1] + pd.Timedelta("1min"))
    qs = (0.5, 0.9, 0.99)
    calm = ErrorModel(*args).table(pd.Timedelta("1min"), qs)[0]
    jumpy = ErrorModel(*args, jumps=np.array([1.5]), jump_share=0.06).table(pd.Timedelta("1min"), qs)[0]
    assert abs(jumpy[0] - calm[0]) < 0.01  # the median stays
    assert jumpy[1] - calm[1] < 0.05  # the P90 barely moves (3% of steps jump up)
    assert jumpy[2] > 1.4  # the P99 holds the jump


def test_an_early_outage_widens_the_p99_of_a_calm_series():
    ts = pd.date_range("2025-01-01", periods=14 * 288, freq="5min", tz="UTC")
    rng = np.random.default_rng(2)
    y = 30 * np.exp(rng.normal(0, 0.05, len(ts)))
    hist = pd.Series(y, index=ts)
    base = CloudTuneModel().fit(hist).forecast("1d", quantiles=(0.5, 0.9, 0.99))
    dip = hist.copy()
    dip[(ts >= "2025-01-03") & (ts < "2025-01-04")] /= 8  # a day at an eighth, before any calibration origin
    wide = CloudTuneModel().fit(dip).forecast("1d", quantiles=(0.5, 0.9, 0.99))
    assert (wide["p99"] / wide["mean"]).median() > 2 * (base["p99"] / base["mean"]).median()
    assert (wide["p90"] / wide["mean"]).median() < 1.2 * (base["p90"] / base["mean"]).median()
