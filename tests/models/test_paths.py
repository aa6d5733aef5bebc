"""Path maxima over windows equal the maxima of the sample paths themselves, from the same draws."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.events import normalize_events
from cloudtune.models.engine import CloudTuneModel
from cloudtune.peaks import occurrence_windows
from model_synth import synth


def _windows(ts):
    """An event's days and whole span, and a window that cuts hour blocks (05:30 to 07:15 on its first day)."""
    _, windows = occurrence_windows(ts, ts[0] + pd.Timedelta("8h"), ts[-1])
    odd = np.asarray((ts >= ts[0] + pd.Timedelta("5.5h")) & (ts < ts[0] + pd.Timedelta("7.25h")))
    return [*windows, odd]


def _maxima_of_paths(fit, ts, windows, seed, events=None):
    point, paths = fit.point_and_paths(ts, n_paths=300, seed=seed, events=events)
    return point, np.column_stack([paths[:, w].max(axis=1) for w in windows])


def test_maxima_equal_the_paths_maxima_over_days_and_cut_windows():
    y = synth(days=28, slope_change=0)
    starts = pd.to_datetime(["2025-01-20 08:00", "2025-02-04 08:00"], utc=True)
    events = normalize_events(pd.DataFrame(dict(name="sale", region="us", start=starts,
                                                 end=starts + pd.Timedelta("40h"))))
    y[(y.index >= events.start[0]) & (y.index < events.end[0])] *= 2
    fit = CloudTuneModel().fit(y, events=events, key="a/b/c")
    ts = pd.date_range(fit.end_ + pd.Timedelta("1d"), events.end[1], freq="1min", inclusive="left")
    windows = _windows(ts)
    point, expected = _maxima_of_paths(fit, ts, windows, seed=3, events=events)
    got_point, got = fit.point_and_maxima(ts, windows, n_paths=300, seed=3, events=events)
    np.testing.assert_array_equal(got_point, point)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got.std(axis=0).min() > 0  # the paths differ: a real distribution, not the point's maximum repeated


def test_maxima_far_beyond_the_backtest_and_with_in_sample_errors():
    far = CloudTuneModel().fit(synth(days=28))
    ts = pd.date_range(far.end_ + pd.Timedelta("200d"), periods=3 * 1440, freq="1min")
    windows = _windows(ts)
    np.testing.assert_allclose(far.point_and_maxima(ts, windows, n_paths=300, seed=0)[1],
                               _maxima_of_paths(far, ts, windows, seed=0)[1], rtol=1e-12)
    short = CloudTuneModel().fit(synth(days=3))
    assert short.errors_.inflate != 1.0  # the in-sample branch: every error (level and noise) is widened
    ts = pd.date_range(short.end_, periods=2 * 1440, freq="1min")
    windows = _windows(ts)
    np.testing.assert_allclose(short.point_and_maxima(ts, windows, n_paths=300, seed=0)[1],
                               _maxima_of_paths(short, ts, windows, seed=0)[1], rtol=1e-12)


def test_an_empty_window_is_named():
    fit = CloudTuneModel().fit(synth(days=14))
    ts = pd.date_range(fit.end_, periods=60, freq="1min")
    with pytest.raises(InputError, match="window 1 .* no timestamp"):
        fit.point_and_maxima(ts, [np.ones(60, bool), np.zeros(60, bool)], n_paths=10, seed=0)
