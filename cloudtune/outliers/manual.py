"""Manual windows from config: exclusions that teams add, and 'keep' windows that veto automatic flags.

Config windows are half-open [start, end) in UTC and match series by fnmatch patterns. A team's
windows only reach the services the team owns, so one team cannot exclude another team's data.
"""
from __future__ import annotations

from fnmatch import fnmatchcase

import numpy as np
import pandas as pd

from cloudtune.outliers.settings import ManualWindow, OutlierSettings

WINDOW_COLUMNS = ["action", "team", "service", "region", "metric", "start", "end", "note", "owned"]


def manual_windows(settings: OutlierSettings) -> pd.DataFrame:
    """Every manual window as one row: action (exclude | keep), team ('' for series windows), patterns, bounds."""
    rows = []
    for team, spec in settings.teams.items():
        for action, windows in (("exclude", spec.exclude), ("keep", spec.keep)):
            rows.extend(_row(action, team, w, tuple(spec.services)) for w in windows)
    for action, windows in (("exclude", settings.exclude), ("keep", settings.keep)):
        rows.extend(_row(action, "", w, ("*",)) for w in windows)
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS)


def _row(action: str, team: str, w: ManualWindow, owned: tuple[str, ...]) -> dict:
    start, end = w.bounds()
    return dict(action=action, team=team, service=w.service, region=w.region, metric=w.metric,
                start=start, end=end, note=w.note, owned=owned)


def windows_for_series(windows: pd.DataFrame, service: str, region: str, metric: str) -> pd.DataFrame:
    """The windows whose patterns match this series (and, for a team window, a service the team owns)."""
    if windows.empty:
        return windows
    hit = [
        fnmatchcase(service, w.service) and fnmatchcase(region, w.region) and fnmatchcase(metric, w.metric)
        and any(fnmatchcase(service, p) for p in w.owned)
        for w in windows.itertuples(index=False)
    ]
    return windows[np.asarray(hit, dtype=bool)]


def window_mask(ts_ns: np.ndarray, starts: pd.Series, ends: pd.Series, inclusive_end: bool = False) -> np.ndarray:
    """True where a sorted timestamp array (int64 ns) falls inside any window; vectorized by a difference array."""
    mask = np.zeros(len(ts_ns), dtype=bool)
    if len(ts_ns) == 0 or len(starts) == 0:
        return mask
    lo = np.searchsorted(ts_ns, _ns(starts), side="left")
    hi = np.searchsorted(ts_ns, _ns(ends), side="right" if inclusive_end else "left")
    diff = np.zeros(len(ts_ns) + 1, dtype=np.int64)
    np.add.at(diff, lo, 1)
    np.add.at(diff, hi, -1)
    return np.cumsum(diff[:-1]) > 0


def _ns(values) -> np.ndarray:
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(values), utc=True)).as_unit("ns").asi8
