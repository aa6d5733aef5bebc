"""Each metric against values worked out by hand on a tiny case (the arithmetic is in the comments)."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.backtest.metrics import SUM_COLUMNS, mae, mape, mase, metrics_from_sums, pinball, point_sums, rmse, \
    smape, under_forecast_rate, weighted_quantile_loss, coverage
from cloudtune.backtest.peaks import peak_errors, peak_sums

# y = actuals, f = point forecast, q90 = P90 forecast
Y = [10, 20, 0, 40]
F = [12, 15, 2, 40]
Q90 = [15, 18, 1, 50]


def test_point_metrics_by_hand():
    # errors y - f = [-2, 5, -2, 0]; |e| = [2, 5, 2, 0]
    assert mae(Y, F) == pytest.approx(9 / 4)  # (2 + 5 + 2 + 0) / 4 = 2.25
    assert rmse(Y, F) == pytest.approx(np.sqrt((4 + 25 + 4 + 0) / 4))  # sqrt(33 / 4) = 2.8723
    # MAPE skips y = 0: |e| / y = 2/10, 5/20, 0/40 = 0.2, 0.25, 0 -> mean 0.15 -> 15 %
    assert mape(Y, F) == pytest.approx(15.0)
    # sMAPE terms 2|e| / (|y| + |f|): 4/22, 10/35, 4/2, 0/80 -> mean 0.61688 -> 61.688 %
    assert smape(Y, F) == pytest.approx(100 * (4 / 22 + 10 / 35 + 2 + 0) / 4)
    # MASE: MAE 2.25 / in-sample seasonal naive MAE 1.5 = 1.5
    assert mase(Y, F, 1.5) == pytest.approx(1.5)


def test_quantile_metrics_by_hand():
    # pinball at q = 0.9 against q90: y - q90 = [-5, 2, -1, -10]
    # y < q90: (1 - 0.9) * 5 = 0.5; y > q90: 0.9 * 2 = 1.8; 0.1 * 1 = 0.1; 0.1 * 10 = 1.0 -> sum 3.4, mean 0.85
    assert pinball(Y, Q90, 0.9) == pytest.approx(0.85)
    # pinball at q = 0.5 against f: 0.5 * [2, 5, 2, 0] -> sum 4.5, mean 1.125
    assert pinball(Y, F, 0.5) == pytest.approx(1.125)
    # wQL[q] = 2 * sum(pinball_q) / sum|y| with sum|y| = 70: q50 9 / 70, q90 6.8 / 70 -> mean 15.8 / 140 = 0.112857
    assert weighted_quantile_loss(Y, {0.5: F, 0.9: Q90}) == pytest.approx(15.8 / 140)
    # y <= q90: 10<=15 yes, 20<=18 no, 0<=1 yes, 40<=50 yes -> coverage 0.75; under-forecast rate 1 of 4 = 0.25
    assert coverage(Y, Q90) == 0.75
    assert under_forecast_rate(Y, Q90) == 0.25


def test_peak_errors_per_day_and_per_event_by_hand():
    origin = pd.Timestamp("2025-01-01", tz="UTC")
    ts = origin + pd.to_timedelta([0, 1, 2, 24, 25, 26], unit="h")
    actual = [5, 9, 7, 4, 4, 6]
    pred = [6, 7, 8, 5, 3, 5]
    events = pd.DataFrame(dict(name=["flash_sale"], start=[origin + pd.Timedelta("1h")],
                               end=[origin + pd.Timedelta("3h")]))
    d = peak_errors(ts, actual, pred, origin, events).set_index("name")
    # day 1: actual peak 9 at 01:00, forecast peak 8 at 02:00 -> |8 - 9| / 9 = 0.1111, 60 minutes late
    assert d.loc["day 1", "magnitude_error"] == pytest.approx(1 / 9)
    assert d.loc["day 1", "timing_error_min"] == 60
    # day 2: actual peak 6 at 02:00 (+1 d); forecast 5 at 00:00 and 02:00, first maximum 00:00 -> 1/6, 120 minutes
    assert d.loc["day 2", "magnitude_error"] == pytest.approx(1 / 6)
    assert d.loc["day 2", "timing_error_min"] == 120
    # event [01:00, 03:00): actual [9, 7] peaks at 01:00, forecast [7, 8] at 02:00 -> 1/9, 60 minutes
    assert d.loc["flash_sale", "magnitude_error"] == pytest.approx(1 / 9)
    assert d.loc["flash_sale", "timing_error_min"] == 60
    s = metrics_from_sums(pd.DataFrame([{**dict.fromkeys(SUM_COLUMNS, 1), **peak_sums(ts, actual, pred, origin,
                                                                                        events)}])).iloc[0]
    assert s["peak_day_magnitude_error_pct"] == pytest.approx(100 * (1 / 9 + 1 / 6) / 2)  # 13.889 %
    assert s["peak_day_timing_error_min"] == pytest.approx((60 + 120) / 2)  # 90 minutes
    assert s["peak_event_magnitude_error_pct"] == pytest.approx(100 / 9)
    assert s["peak_event_timing_error_min"] == 60


def test_a_day_whose_actual_peak_is_zero_has_no_relative_peak_error():
    origin = pd.Timestamp("2025-01-01", tz="UTC")
    ts = origin + pd.to_timedelta([0, 1], unit="h")
    assert peak_errors(ts, [0, 0], [1, 2], origin).empty


def _sums(y, f, scale=1.0):
    q = np.asarray(f, float)
    return point_sums(y, f, {0.5: q, 0.9: q * 1.1, 0.99: q * 1.5}, scale)


def test_sums_reproduce_the_direct_metrics():
    q = {0.5: F, 0.9: Q90, 0.99: np.asarray(Q90) * 2}
    row = metrics_from_sums(pd.DataFrame([{**point_sums(Y, F, q, 1.5), **peak_sums([], [], [], None)}])).iloc[0]
    assert row["mae"] == pytest.approx(mae(Y, F)) and row["rmse"] == pytest.approx(rmse(Y, F))
    assert row["mape"] == pytest.approx(mape(Y, F)) and row["smape"] == pytest.approx(smape(Y, F))
    assert row["mase"] == pytest.approx(mase(Y, F, 1.5)) and row["pinball_p90"] == pytest.approx(0.85)
    assert row["coverage_p90"] == 0.75 and row["under_forecast_rate_p90"] == 0.25
    assert row["wql"] == pytest.approx(weighted_quantile_loss(Y, q))
    assert np.isnan(row["peak_day_magnitude_error_pct"])  # no peak window scored: NaN, not 0


def test_aggregated_sums_weigh_every_point_not_every_window():
    # window A: |e| = [2, 5] (MAE 3.5); window B: |e| = [2, 0, 0, 0] (MAE 0.5)
    a, b = _sums([10, 20], [12, 15]), _sums([0, 40, 30, 30], [2, 40, 30, 30])
    total = pd.DataFrame([a, b])[list(a)].sum().to_frame().T.assign(**peak_sums([], [], [], None))
    # pooled MAE = (7 + 2) / 6 = 1.5, not the mean of window MAEs (3.5 + 0.5) / 2 = 2.0
    assert metrics_from_sums(total).iloc[0]["mae"] == pytest.approx(1.5)
    # MAPE pools the non-zero actuals: (2/10 + 5/20 + 0 + 0 + 0) / 5 = 0.09 -> 9 %
    assert metrics_from_sums(total).iloc[0]["mape"] == pytest.approx(9.0)


def test_no_seasonal_naive_scale_means_no_mase():
    row = metrics_from_sums(pd.DataFrame([{**_sums(Y, F, scale=0.0), **peak_sums([], [], [], None)}])).iloc[0]
    assert np.isnan(row["mase"]) and row["mae"] == pytest.approx(2.25)
