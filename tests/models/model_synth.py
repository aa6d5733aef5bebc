"""A small synthetic minute series with known truth, for model tests (the sample fleet covers the rest)."""
import numpy as np
import pandas as pd


def synth(days=28, seed=0, break_day=18, slope=0.002, slope_change=0.01, daily_amp=0.3, weekend=-0.2,
          noise=0.1, start="2025-01-06", freq="1min"):
    """Multiplicative: exp(trend + daily sine + weekend dip + noise), 100 at the start. Returns a Series."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=int(days * pd.Timedelta("1d") / pd.Timedelta(freq)), freq=freq, tz="UTC")
    t = np.asarray((ts - ts[0]) / pd.Timedelta("1d"))
    trend = np.log(100) + slope * t + slope_change * np.maximum(0, t - break_day)
    daily = daily_amp * np.sin(2 * np.pi * (t % 1) - 1)
    week = np.where(ts.dayofweek >= 5, weekend, 0.0)
    return pd.Series(np.exp(trend + daily + week + rng.normal(0, noise, len(ts))), index=ts)


def frame(series, service="svc", region="us", metric="requests"):
    return pd.DataFrame(dict(service=service, region=region, metric=metric, ts=series.index, value=series.to_numpy()))
