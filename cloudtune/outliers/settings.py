"""Outlier settings from the `outliers:` section of conf/pipeline.yaml.

Every key has a default, so an empty section (or none) gives the recommended detector. Example::

    outliers:
      detect: {point_z: 5.0, window_z: 4.0}
      teams:
        checkout-team:
          services: ["checkout*", "payments"]
          exclude:
            - {start: "2025-11-03T10:00Z", end: "2025-11-03T12:00Z", note: "load test"}
          keep:
            - {region: us, start: "2025-11-10T00:00Z", end: "2025-11-11T00:00Z", note: "real flash sale"}
      exclude:   # windows by series pattern, not tied to a team
        - {service: "search", region: "in", metric: "*", start: "2025-11-15", end: "2025-11-16"}

Manual windows are half-open [start, end) in UTC; a team's windows only reach that team's services.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cloudtune.config.durations import parse_duration

TRANSFORMS = ("log", "none")


@dataclass(frozen=True)
class DetectSettings:
    """The automatic detector: robust residual vs a seasonal expectation, MAD-scaled."""

    transform: str = "log"  # log suits multiplicative load; none for additive series
    log_offset: float = 0.05  # added before log, as a fraction of the series median, so zeros stay finite
    profile_cycles: int = 14  # days (weeks for daily series) each side that build the expected profile
    min_profile_cycles: int = 2  # fewer other cycles than this: fall back to a rolling median
    weekend_profile: bool = True  # weekend days are judged against other weekend days when there are enough
    weekly: bool = True  # adjust the daily profile by weekday when other same-weekday days exist
    point_z: float = 5.0  # a single point this many robust sds off is flagged
    windows: list[str] = field(default_factory=lambda: ["5min", "30min", "2h"])  # rolling-median scales
    window_z: float = 4.0  # a rolling median this many robust sds off is flagged
    extend_z: float = 2.5  # a flagged window grows over neighbours at least this far off, same sign
    # Practical significance: a flag also needs the point (or rolling median) this far off expected, as a
    # share of it. Without it, hours of a 5% misfit on a smooth high-volume series pass any z threshold.
    min_effect: float = 0.2
    merge_gap: str = "5min"  # flagged runs closer than this become one window
    outage_ratio: float = 0.1  # a downward window whose median is below this share of expected is an outage
    level_drop_after: str = "2h"  # a downward window at least this long is a level drop
    passes: int = 2  # each pass after the first rebuilds the expectation without the windows flagged so far
    max_flag_share: float = 0.05  # above this share of a series flagged, a warning is logged

    def __post_init__(self):
        if self.transform not in TRANSFORMS:
            raise ValueError(f"detect.transform must be one of {', '.join(TRANSFORMS)}, got {self.transform!r}")
        _positive("detect.log_offset", self.log_offset)
        if self.profile_cycles < 1:
            raise ValueError(f"detect.profile_cycles must be >= 1, got {self.profile_cycles}")
        if not 1 <= self.min_profile_cycles <= 2 * self.profile_cycles:
            raise ValueError(
                f"detect.min_profile_cycles must be between 1 and 2 * profile_cycles "
                f"({2 * self.profile_cycles}), got {self.min_profile_cycles}"
            )
        for name in ("point_z", "window_z", "extend_z"):
            _positive(f"detect.{name}", getattr(self, name))
        if self.extend_z > min(self.point_z, self.window_z):
            raise ValueError(f"detect.extend_z ({self.extend_z}) must not exceed point_z and window_z")
        for w in self.windows:
            if _duration(w, "detect.windows") <= pd.Timedelta(0):
                raise ValueError(f"detect.windows: {w!r} must be a positive duration")
        _duration(self.merge_gap, "detect.merge_gap")
        _duration(self.level_drop_after, "detect.level_drop_after")
        if not 0 <= self.min_effect < 1:
            raise ValueError(f"detect.min_effect must be in [0, 1), got {self.min_effect}")
        if not 0 < self.outage_ratio < 1:
            raise ValueError(f"detect.outage_ratio must be in (0, 1), got {self.outage_ratio}")
        if not 1 <= self.passes <= 5:
            raise ValueError(f"detect.passes must be between 1 and 5, got {self.passes}")
        if not 0 < self.max_flag_share <= 1:
            raise ValueError(f"detect.max_flag_share must be in (0, 1], got {self.max_flag_share}")


@dataclass(frozen=True)
class ManualWindow:
    """One manual window: series patterns (fnmatch) and a half-open UTC time range [start, end)."""

    start: str
    end: str
    service: str = "*"
    region: str = "*"
    metric: str = "*"
    note: str = ""

    def __post_init__(self):
        start, end = self.bounds()
        if end <= start:
            raise ValueError(f"manual window {self.start} .. {self.end}: start must be before end")

    def bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return _utc(self.start, "start"), _utc(self.end, "end")


@dataclass(frozen=True)
class TeamSettings:
    """A team owns services (fnmatch patterns) and may exclude or keep windows on them."""

    services: list[str] = field(default_factory=list)
    exclude: list[ManualWindow] = field(default_factory=list)
    keep: list[ManualWindow] = field(default_factory=list)

    def __post_init__(self):
        if not self.services:
            raise ValueError("a team needs at least one service pattern in 'services'")


@dataclass(frozen=True)
class OutlierSettings:
    enabled: bool = True  # false: no automatic flags; manual exclusions still apply
    detect: DetectSettings = field(default_factory=DetectSettings)
    teams: dict[str, TeamSettings] = field(default_factory=dict)
    exclude: list[ManualWindow] = field(default_factory=list)
    keep: list[ManualWindow] = field(default_factory=list)

    def __post_init__(self):
        for name in self.teams:
            if not name.strip():
                raise ValueError("team names must not be empty")


def _duration(text: str, where: str) -> pd.Timedelta:
    # pandas reads a bare '30' as 30 nanoseconds; in config that is always a forgotten unit.
    if str(text).strip().replace(".", "", 1).isdigit():
        raise ValueError(f"{where}: give a unit, e.g. '{text}min' or '{text}h', not {text!r}")
    return parse_duration(text, where)


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def _utc(text: str, which: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(str(text))
    except (ValueError, TypeError):
        raise ValueError(f"manual window {which} {text!r} is not a timestamp; use ISO 8601 such as 2025-11-03T10:00Z") from None
    if ts is pd.NaT:
        raise ValueError(f"manual window {which} is empty")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
