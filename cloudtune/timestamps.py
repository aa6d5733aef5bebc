"""Timestamps as a UTC DatetimeIndex, without parsing values that are already datetimes.

A leaf module (pandas only), so the models, events and outliers packages can all use it without import cycles.
"""
from __future__ import annotations

import pandas as pd


def utc_index(values) -> pd.DatetimeIndex:
    """UTC nanosecond timestamps; naive datetimes are read as UTC. Datetime columns are converted as they are:
    `to_datetime` would first box hundreds of them to decide on caching, a noticeable share of a fit. Raises
    ValueError or TypeError for values that are not timestamps; callers say which column."""
    if pd.api.types.is_datetime64_any_dtype(getattr(values, "dtype", None)):
        idx = pd.DatetimeIndex(values)
        idx = idx.tz_convert("UTC") if idx.tz is not None else idx.tz_localize("UTC")
    else:
        idx = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    return idx.as_unit("ns")
