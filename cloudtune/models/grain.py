"""Grains, grain inference, and turning one series' rows into a regular, validated grid.

Handling of hard inputs (documented, tested):
- unsorted timestamps are sorted; duplicate timestamps raise (the caller decides how to combine them);
- NaN / inf / negative / non-numeric (text) values raise, naming how many and the first timestamp;
- timestamps off the grain (not a multiple of it from the epoch) raise;
- gaps are kept as missing slots (NaN in the grid) and are left out of the fit; they are never filled.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.errors import InputError, ModelError
from cloudtune.timestamps import utc_index

GRAINS = {
    "1min": pd.Timedelta("1min"), "5min": pd.Timedelta("5min"), "15min": pd.Timedelta("15min"),
    "30min": pd.Timedelta("30min"), "1h": pd.Timedelta("1h"), "1d": pd.Timedelta("1d"), "1w": pd.Timedelta("7d"),
}
DAY = pd.Timedelta("1d")
WEEK = pd.Timedelta("7d")


def grain_name(step: pd.Timedelta) -> str:
    for name, td in GRAINS.items():
        if td == step:
            return name
    raise InputError(f"grain {step} is not supported; use one of {', '.join(GRAINS)}")


def parse_grain(grain) -> pd.Timedelta:
    if isinstance(grain, pd.Timedelta):
        grain_name(grain)
        return grain
    if grain in GRAINS:
        return GRAINS[grain]
    raise InputError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")


def infer_grain(ts: pd.Series | pd.DatetimeIndex) -> pd.Timedelta:
    """The most common positive spacing, rounded to a supported grain (the largest grain that divides it)."""
    idx = pd.DatetimeIndex(ts).as_unit("ns").sort_values().unique()  # asi8 below counts nanoseconds
    if len(idx) < 2:
        raise InputError("cannot infer the grain from fewer than 2 distinct timestamps; pass grain=")
    diffs = pd.Series(np.diff(idx.asi8)).value_counts()
    step = pd.Timedelta(int(diffs.index[0]), "ns")
    for td in sorted(GRAINS.values(), reverse=True):
        if step >= td and step % td == pd.Timedelta(0):
            return td
    raise InputError(f"timestamps are {step} apart, finer than the finest grain 1min")


def to_utc_index(ts) -> pd.DatetimeIndex:
    try:
        idx = utc_index(ts)
    except (ValueError, TypeError) as exc:
        raise InputError(f"ts has values that are not timestamps ({exc})") from None
    if idx.hasnans:
        raise InputError(f"ts has {int(idx.isna().sum())} missing timestamp(s)")
    return idx


def regular_series(ts, values, grain: pd.Timedelta | None = None, what: str = "series") -> tuple[pd.Series, pd.Timedelta]:
    """Validate one series and put it on a regular grid from its first to its last timestamp (gaps = NaN)."""
    idx = to_utc_index(ts)
    raw = pd.Series(np.asarray(values))
    vals = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=float)
    if len(idx) == 0:
        raise ModelError(f"{what}: history is empty")
    text = np.isnan(vals) & raw.notna().to_numpy()
    if text.any():
        i = int(np.argmax(text))
        raise InputError(f"{what}: {int(text.sum())} value(s) are not numbers (first {raw.iloc[i]!r} at {idx[i]}); "
                         "values must be numeric")
    bad = ~np.isfinite(vals)
    if bad.any():
        first = idx[np.argmax(bad)]
        raise InputError(f"{what}: {int(bad.sum())} value(s) are NaN or inf (first at {first}); "
                         "drop them or pass them as gaps (absent rows)")
    if (vals < 0).any():
        first = idx[np.argmax(vals < 0)]
        raise InputError(f"{what}: {int((vals < 0).sum())} value(s) are negative (first at {first}); "
                         "values must be >= 0")
    s = pd.Series(vals, index=idx)
    if not s.index.is_monotonic_increasing:
        s = s.sort_index()
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()]
        raise InputError(f"{what}: {len(dup)} duplicate timestamp(s) (first {dup[0]}); "
                         "aggregate them before forecasting")
    step = grain if grain is not None else (infer_grain(s.index) if len(s) > 1 else DAY)
    off = (s.index.asi8 % step.value) != 0 if step < WEEK else np.zeros(len(s), bool)
    if step == WEEK:  # weekly data: every ts at the same time of week as the first one
        off = ((s.index.asi8 - s.index.asi8[0]) % step.value) != 0
    if off.any():
        raise InputError(f"{what}: {int(off.sum())} timestamp(s) are off the {grain_name(step)} grain "
                         f"(first {s.index[np.argmax(off)]}); floor them to the grain first")
    full = pd.date_range(s.index[0], s.index[-1], freq=step)
    return s.reindex(full), step


def horizon_steps(horizon, step: pd.Timedelta) -> int:
    """A horizon as a pd.Timedelta, a string such as '90d' or an int number of `step` steps -> steps."""
    if isinstance(horizon, (int, np.integer)) and not isinstance(horizon, bool):
        n = int(horizon)
    else:
        try:
            td = pd.Timedelta(horizon)
        except (ValueError, TypeError):
            raise InputError(f"horizon must be a Timedelta, a string like '90d' or an int of steps, "
                             f"got {horizon!r}") from None
        n = int(td // step)
    if n < 1:
        raise InputError(f"horizon {horizon!r} is shorter than one {grain_name(step)} step")
    return n
