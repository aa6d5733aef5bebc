"""conf/capacity/gameday.yaml: the customer-journey steps a region's load splits into, and how."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cloudtune.config.durations import parse_duration
from cloudtune.config.strict import load_file
from cloudtune.errors import ConfigError

SHARE_MODES = ("learned", "configured")


@dataclass(frozen=True)
class JourneyConfig:
    steps: list[str] = field(default_factory=lambda: ["search", "browse", "detail", "cart", "checkout"])
    shares: str = "learned"  # learned from the mapped services' forecasts, or the fixed `configured` shares
    services: dict[str, str] = field(default_factory=dict)  # service -> step
    configured: dict[str, float] = field(default_factory=dict)  # step -> share, summing to 1
    ramp_up: str = "30min"  # the schedule starts this long before the event window
    ramp_from: float = 0.1  # at this share of the window's first minute

    def __post_init__(self):
        if not self.steps or len(set(self.steps)) != len(self.steps):
            raise ValueError(f"steps must name each journey step once, got {self.steps}")
        if self.shares not in SHARE_MODES:
            raise ValueError(f"shares must be one of {', '.join(SHARE_MODES)}, got {self.shares!r}")
        bad = {s: step for s, step in self.services.items() if step not in self.steps}
        if bad:
            raise ValueError(f"services map to steps that are not in steps {self.steps}: {bad}")
        if self.configured:
            unknown = sorted(set(self.configured) - set(self.steps))
            if unknown or any(v < 0 for v in self.configured.values()):
                raise ValueError(f"configured shares must be >= 0 and name steps from {self.steps}; "
                                 f"got {unknown or self.configured}")
            if abs(sum(self.configured.values()) - 1.0) > 1e-6:
                raise ValueError(f"configured shares must sum to 1, they sum to {sum(self.configured.values()):.6g}")
        if self.shares == "configured" and not self.configured:
            raise ValueError("shares: configured needs the 'configured' step shares")
        if not 0 <= self.ramp_from <= 1:
            raise ValueError(f"ramp_from is a share of the first event minute in [0, 1], got {self.ramp_from}")
        if parse_duration(self.ramp_up, "ramp_up") % pd.Timedelta(minutes=1):
            raise ValueError(f"ramp_up must be whole minutes, got {self.ramp_up!r}")

    @property
    def ramp(self) -> pd.Timedelta:
        return parse_duration(self.ramp_up, "ramp_up")


def load_journey(path: str | Path) -> JourneyConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"game-day config not found: {path}; see conf/capacity/README.md (gameday.yaml)")
    return load_file(JourneyConfig, path)
