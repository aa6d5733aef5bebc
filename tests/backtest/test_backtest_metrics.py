import numpy as np
import pandas as pd
import pytest

from cloudtune.backtest import backtest, coverage, mase, smape, summarize
from cloudtune.backtest.metrics import naive_scale


def test_metrics_by_hand():
    assert mase([1, 2, 3], [1, 2, 5], 2.0) == pytest.approx(2 / 3 / 2)
    assert smape([0, 1], [0, 3]) == pytest.approx(100 * (0 + 2 * 2 / 4) / 2)
    assert coverage([1, 2, 3, 4], [2, 2, 2, 2]) == 0.5
    assert naive_scale(np.array([1.0, 2, 4, 8]), 1) == pytest.approx((1 + 2 + 4) / 3)


def test_rolling_backtest_rows():
    ts = pd.date_range("2025-01-06", periods=21 * 24, freq="h", tz="UTC")
    v = 100 + 30 * np.sin(2 * np.pi * np.arange(len(ts)) / 24) + np.random.default_rng(0).normal(0, 3, len(ts))
    a = pd.DataFrame(dict(service="s", region="r", metric="m", ts=ts, value=v))
    r = backtest(a, horizon="1d", n_origins=3, every="1d")
    assert len(r) == 3 and (r["origin"].diff().dropna() == -pd.Timedelta("1d")).all()
    s = summarize(r)
    assert s["mase"] < s["naive_mase"]
