"""Peak errors: capacity is sized on the peak minute, so the backtest scores the peak of each day and each event.

For each window (a day counted from the forecast origin, or an event occurrence [start, end) clipped to the scored
points), the actual peak is the largest actual and the forecast peak the largest point forecast in the window:
    magnitude error = |forecast peak - actual peak| / actual peak   (windows whose actual peak is 0 are skipped)
    timing error    = |time of the forecast peak - time of the actual peak| in minutes (first maximum on ties)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta("1d")
DETAIL_COLUMNS = ["window", "name", "start", "actual_peak", "forecast_peak", "actual_peak_ts", "forecast_peak_ts",
                  "magnitude_error", "timing_error_min"]


def _one_window(kind: str, name: str, start, ts: pd.DatetimeIndex, actual: np.ndarray, pred: np.ndarray):
    ia, ip = int(np.argmax(actual)), int(np.argmax(pred))
    peak = actual[ia]
    if not peak > 0:
        return None
    return dict(window=kind, name=name, start=start, actual_peak=float(peak), forecast_peak=float(pred[ip]),
                actual_peak_ts=ts[ia], forecast_peak_ts=ts[ip], magnitude_error=abs(float(pred[ip]) - peak) / peak,
                timing_error_min=abs((ts[ip] - ts[ia]) / pd.Timedelta("1min")))


def peak_errors(ts, actual, pred, origin, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per day since `origin` and per event occurrence overlapping `ts` (DETAIL_COLUMNS)."""
    ts = pd.DatetimeIndex(ts)
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    rows = []
    if len(ts):
        day = np.asarray((ts - pd.Timestamp(origin)) // DAY, dtype=np.int64)
        for d in np.unique(day):
            sel = day == d
            rows.append(_one_window("day", f"day {int(d) + 1}", pd.Timestamp(origin) + int(d) * DAY, ts[sel],
                                    actual[sel], pred[sel]))
        if events is not None and len(events):
            starts = pd.to_datetime(events["start"], utc=True)
            ends = pd.to_datetime(events["end"], utc=True)
            for name, s, e in zip(events["name"], starts, ends):
                sel = np.asarray((ts >= s) & (ts < e))
                if sel.any():
                    rows.append(_one_window("event", str(name), s, ts[sel], actual[sel], pred[sel]))
    return pd.DataFrame([r for r in rows if r is not None], columns=DETAIL_COLUMNS)


def peak_sums(ts, actual, pred, origin, events: pd.DataFrame | None = None) -> dict:
    """The PEAK_SUMS of `cloudtune.backtest.metrics` for one scored window."""
    d = peak_errors(ts, actual, pred, origin, events)
    days, evs = d[d.window == "day"], d[d.window == "event"]
    return dict(peak_days=len(days), peak_day_magnitude_sum=float(days.magnitude_error.sum()),
                peak_day_timing_sum=float(days.timing_error_min.sum()), peak_events=len(evs),
                peak_event_magnitude_sum=float(evs.magnitude_error.sum()),
                peak_event_timing_sum=float(evs.timing_error_min.sum()))
