"""A small synthetic fleet with known outliers and events, for the detector's tests.

Stands in for cloudtune.simulate where that is not wanted (fast unit tests): minute series with a daily
shape, a weekend that is lower and peaks later, a gentle trend, count noise, event lifts with ramps,
and injected spikes, outages and level drops that never touch an event window.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("spike_up", "spike_down", "outage", "level_drop")


def make_series(rng, ts: pd.DatetimeIndex, level: float) -> np.ndarray:
    minute = np.asarray(ts.hour * 60 + ts.minute)
    weekend = np.asarray(ts.dayofweek >= 5)
    phase = np.where(weekend, 2 * np.pi * (minute - 60) / 1440, 2 * np.pi * minute / 1440)
    shape = np.exp(0.5 * np.sin(phase - 1.9) + 0.15 * np.sin(2 * phase))
    days = np.asarray((ts - ts[0]) / pd.Timedelta("1d"))
    return level * shape * np.where(weekend, 0.8, 1.0) * (1 + 0.005 * days)


def make_fleet(series=(("home", "us", "requests", 800.0), ("checkout", "uk", "orders", 40.0)),
               days: int = 21, end: str = "2025-12-08", n_outliers: int = 8, seed: int = 3, events=None):
    """actuals, truth (service, region, metric, start, end, kind, magnitude; [start, end)) and the events used."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(end=pd.Timestamp(end, tz="UTC") - pd.Timedelta("1min"), periods=days * 1440, freq="1min")
    if events is None:
        events = pd.DataFrame(dict(
            name=["flash_sale", "flash_sale"], region=["us", "uk"],
            start=[ts[0] + pd.Timedelta("9d 18h"), ts[0] + pd.Timedelta("12d 10h")],
            end=[ts[0] + pd.Timedelta("10d 6h"), ts[0] + pd.Timedelta("12d 14h")],
            ramp_before=[pd.Timedelta("2h")] * 2, decay_after=[pd.Timedelta("1h")] * 2,
        ))
    frames, truth = [], []
    for service, region, metric, level in series:
        mean = make_series(rng, ts, level)
        busy = np.zeros(len(ts), dtype=bool)
        for ev in events[events["region"].isin([region, "global"])].itertuples():
            lo, hi = ev.start - ev.ramp_before, ev.end + ev.decay_after
            inside = (ts >= lo) & (ts < hi)
            ramp = np.clip(np.asarray((ts - lo) / ev.ramp_before), 0, 1) if ev.ramp_before > pd.Timedelta(0) else 1
            mean = mean * np.where(inside, 1 + 1.5 * ramp, 1)  # events lift load up to 2.5x: never an outlier
            busy |= inside
        value = rng.poisson(mean).astype(float)
        for kind in rng.permutation(np.resize(KINDS, n_outliers)):
            length = dict(spike_up=rng.integers(1, 30), spike_down=rng.integers(1, 30),
                          outage=rng.integers(5, 60), level_drop=rng.integers(120, 360))[kind]
            factor = dict(spike_up=rng.uniform(1.8, 4), spike_down=rng.uniform(0.25, 0.5),
                          outage=rng.uniform(0, 0.03), level_drop=rng.uniform(0.5, 0.7))[kind]
            for _ in range(50):  # find a free slot away from events and other outliers
                at = int(rng.integers(1440, len(ts) - length - 60))
                if not busy[max(0, at - 60):at + length + 60].any():
                    break
            else:
                continue
            seg = slice(at, at + length)
            value[seg] = rng.poisson(mean[seg] * factor)
            busy[seg] = True
            truth.append(dict(service=service, region=region, metric=metric, start=ts[at], end=ts[at] + length * pd.Timedelta("1min"),
                              kind=kind, magnitude=factor))
        frames.append(pd.DataFrame(dict(service=service, region=region, metric=metric, ts=ts, value=value)))
    return pd.concat(frames, ignore_index=True), pd.DataFrame(truth), events
