"""forecast_peaks: quantiles of the window maximum from sample paths, expected time, peak-to-mean."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.events import normalize_events
from cloudtune.peaks import forecast_peaks, occurrence_peaks, paths_from_quantiles
from schemas.forecasting import EVENT_PEAKS

TS = pd.date_range("2025-11-28T00:00Z", periods=3 * 1440, freq="1min")


def _occ(start="2025-11-28T05:00Z", hours=36):
    s = pd.Timestamp(start)
    return normalize_events(pd.DataFrame(dict(name=["black_friday"], region=["us"], start=[s],
                                              end=[s + pd.Timedelta(hours=hours)])))


def _mean():
    minute = np.arange(len(TS))
    return 1000 + 400 * np.sin(2 * np.pi * minute / 1440) + np.where(minute % 1440 == 600, 300, 0)


def test_rows_per_day_and_whole_occurrence_with_schema_columns():
    mean = _mean()
    paths = mean * np.exp(0.1 * np.random.default_rng(0).standard_normal((400, len(TS))))
    occ = _occ()
    rows = pd.DataFrame(occurrence_peaks(TS, mean, paths, "black_friday", occ.start[0], occ.end[0],
                                         key=("checkout", "us", "orders")))
    schema = [c.name for c in EVENT_PEAKS.columns if c.name not in ("run_id", "run_date")]
    assert list(rows.columns) == schema
    assert rows["day"].tolist() == [pd.Timestamp("2025-11-28").date(), pd.Timestamp("2025-11-29").date(), None]
    assert (rows["peak_p50"] <= rows["peak_p90"]).all() and (rows["peak_p90"] <= rows["peak_p99"]).all()
    whole = rows.iloc[-1]
    inside = (TS >= occ.start[0]) & (TS < occ.end[0])
    assert whole["peak_p50"] >= mean[inside].max()  # max of noisy minutes sits above the max of the mean
    assert whole["peak_ts"] == TS[inside][np.argmax(mean[inside])]
    assert whole["peak_to_mean"] > mean[inside].max() / mean[inside].mean()


def test_max_of_paths_is_not_max_of_pointwise_quantiles():
    mean = np.full(len(TS), 100.0)
    rng = np.random.default_rng(1)
    paths = mean * np.exp(0.2 * rng.standard_normal((2000, len(TS))))  # independent minutes
    (day, whole) = occurrence_peaks(TS[:1440], mean[:1440], paths[:, :1440], "x", TS[0], TS[1440])
    pointwise_p90 = np.quantile(paths[:, :1440], 0.9, axis=0).max()
    assert whole["peak_p50"] > pointwise_p90  # 1440 independent minutes: the max is far above any P90


def test_copula_paths_match_pointwise_quantiles_and_correlate():
    n = 500
    mean = np.full(n, 200.0)
    q = {0.5: mean, 0.9: mean * 1.3, 0.99: mean * 1.8}
    paths = paths_from_quantiles(mean, q, n_paths=4000, seed=0, rho=0.9)
    assert np.quantile(paths[:, 100], 0.9) == pytest.approx(260, rel=0.05)
    assert np.quantile(paths[:, 100], 0.99) == pytest.approx(360, rel=0.1)
    lag1 = np.corrcoef(np.log(paths[:, 100]), np.log(paths[:, 101]))[0, 1]
    assert 0.8 < lag1 < 0.97


def test_forecast_peaks_from_forecast_frame_fallback():
    mean = _mean()
    fc = pd.DataFrame(dict(ts=TS, mean=mean, p50=mean, p90=mean * 1.2, p99=mean * 1.5))
    out = forecast_peaks(fc, _occ(), key=("checkout", "us", "orders"), n_paths=300)
    assert len(out) == 3 and out["day"].isna().sum() == 1
    assert (out["peak_p90"] >= out["peak_p50"]).all()
    assert (out["service"] == "checkout").all()


def test_forecast_peaks_uses_sample_paths_of_a_fitted_model():
    class Fitted:  # the engine's protocol: end_, step_, key, events_, point_and_maxima
        end_, step_, key, events_ = TS[0], pd.Timedelta("1min"), "cart/us/requests", None

        def point_and_maxima(self, ts, windows, n_paths=1000, seed=None, events=None):
            self.asked = (len(ts), n_paths, events, [int(np.sum(w)) for w in windows])
            paths = np.full((n_paths, len(ts)), 50.0) + np.arange(n_paths)[:, None]
            return np.full(len(ts), 50.0), np.column_stack([paths[:, w].max(axis=1) for w in windows])

    f = Fitted()
    out = forecast_peaks(f, _occ(hours=24), n_paths=100)
    assert f.asked[0] == 1440 and f.asked[1] == 100 and f.asked[2] is not None
    assert f.asked[3] == [19 * 60, 5 * 60, 1440]  # the occurrence's two UTC days, then all of it
    whole = out[out["day"].isna()].iloc[0]
    assert whole["peak_p50"] == pytest.approx(50 + 49.5) and whole["peak_p99"] == pytest.approx(50 + 98.01)
    assert tuple(out.iloc[0][["service", "region", "metric"]]) == ("cart", "us", "requests")


def test_bad_inputs_name_the_problem():
    with pytest.raises(InputError, match="paths must be"):
        occurrence_peaks(TS, np.ones(len(TS)), np.ones((3, 5)), "x", TS[0], TS[-1])
    with pytest.raises(InputError, match="quantiles"):
        forecast_peaks(pd.DataFrame(dict(ts=TS, mean=1.0)), _occ(), quantiles=(0.5, 1.5), key=("a", "b", "c"))
