"""Durations in config are text such as '90min', '6h', '2d' or '1w'."""
from __future__ import annotations

import pandas as pd

from cloudtune.errors import ConfigError


def parse_duration(text: str | int | float, where: str = "duration") -> pd.Timedelta:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        raise ConfigError(f"{where}: give a unit, e.g. '{text}min' or '{text}h', not a bare number")
    try:
        value = pd.Timedelta(str(text).strip())
    except ValueError:
        raise ConfigError(f"{where}: cannot read duration {text!r}; use e.g. '30min', '6h', '2d' or '1w'") from None
    if value < pd.Timedelta(0):
        raise ConfigError(f"{where}: duration {text!r} is negative")
    return value
