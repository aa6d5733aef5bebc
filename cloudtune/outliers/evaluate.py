"""Scoring flags against known truth (the sample fleet's injected outliers): the issue's outlier bars.

- recall: share of injected outlier windows overlapped by at least one flag;
- false-positive rate: share of points outside every injected window that are flagged;
- event flags: flags that overlap an event window (ramp and decay included); the bar is zero.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.outliers.flags import KEY, mask_from_flags


def score_flags(actuals: pd.DataFrame, flags: pd.DataFrame, truth: pd.DataFrame,
                events: pd.DataFrame | None = None) -> dict:
    """recall, false_positive_rate, event_flags, missed (truth rows not flagged), plus counts.

    `truth` windows are half-open [start, end) as the simulator writes them; `events` is a calendar
    (ramp_before / decay_after) or the simulator's per-series event truth (ramp_minutes / decay_minutes).
    """
    if len(truth):
        truth = truth.assign(end=pd.to_datetime(truth["end"], utc=True) - pd.Timedelta(1, "ns"))
    flagged = mask_from_flags(actuals, flags).to_numpy()
    injected = mask_from_flags(actuals, truth[KEY + ["start", "end"]]).to_numpy() if len(truth) else np.zeros(len(actuals), bool)
    hit = _overlaps(truth, flags)
    outside = ~injected
    return dict(
        injected=len(truth),
        recall=float(hit.mean()) if len(truth) else float("nan"),
        false_positive_rate=float(flagged[outside].mean()) if outside.any() else 0.0,
        flagged_points=int(flagged.sum()),
        flags=len(flags),
        event_flags=int(_overlaps(flags, _event_windows(events)).sum()) if events is not None and len(flags) else 0,
        missed=truth[~hit].reset_index(drop=True) if len(truth) else truth,
    )


def _event_windows(events: pd.DataFrame) -> pd.DataFrame:
    """Event windows by region (ramp and decay included), as rows matching any series in that region."""
    ramp, decay = _duration(events, "ramp"), _duration(events, "decay")
    keys = [k for k in ("service", "region", "metric") if k in events.columns]
    out = events[keys].reset_index(drop=True).copy()
    out["start"] = (pd.to_datetime(events["start"], utc=True) - ramp).to_numpy()
    out["end"] = (pd.to_datetime(events["end"], utc=True) + decay).to_numpy()
    return out


def _duration(events: pd.DataFrame, which: str) -> pd.Series:
    name = {"ramp": "ramp_before", "decay": "decay_after"}[which]
    if name in events.columns:
        return pd.to_timedelta(events[name]).reset_index(drop=True).set_axis(events.index)
    if f"{which}_minutes" in events.columns:
        return pd.to_timedelta(events[f"{which}_minutes"], unit="min")
    return pd.Series(pd.Timedelta(0), index=events.index)


def _overlaps(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray:
    """For each row of `left`, whether some row of `right` with the same keys overlaps its [start, end]."""
    out = np.zeros(len(left), dtype=bool)
    if left.empty or right.empty:
        return out
    keys = [k for k in KEY if k in right.columns]
    for key, idx in left.groupby(keys, sort=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        sel = np.ones(len(right), dtype=bool)
        for k, v in zip(keys, key):
            # 'global' events apply in every region
            sel &= (right[k].isin([v, "global"]) if k == "region" else right[k] == v).to_numpy()
        r = right[sel]
        if r.empty:
            continue
        ls = pd.to_datetime(left["start"].iloc[idx], utc=True).to_numpy()
        le = pd.to_datetime(left["end"].iloc[idx], utc=True).to_numpy()
        rs = pd.to_datetime(r["start"], utc=True).to_numpy()
        re = pd.to_datetime(r["end"], utc=True).to_numpy()
        out[idx] = ((ls[:, None] <= re[None, :]) & (le[:, None] >= rs[None, :])).any(axis=1)
    return out
