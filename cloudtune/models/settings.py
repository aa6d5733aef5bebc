"""Model settings from the `model:` section of conf/pipeline.yaml (owned by the forecast engine).

Every key has a default, so an empty `model:` section (or none) gives the recommended model.
Example::

    model:
      default: cloudtune            # cloudtune | seasonal_naive | ets | naive
      overrides:                    # first match wins; pattern is fnmatch on "service/region/metric"
        - {pattern: "checkout/*/*", model: cloudtune}
        - {pattern: "legacy-*/*/*", model: seasonal_naive}
      cloudtune:
        mode: multiplicative
        breaks: ["2025-11-01"]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

MODEL_NAMES = ("cloudtune", "seasonal_naive", "ets", "naive")
MODES = ("multiplicative", "additive")
DAY_TYPES = ("auto", "dow", "weekend", "none")
AGGREGATIONS = ("mean", "sum")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Seasonality:
    """An extra seasonality: a Fourier series of `period` (e.g. '12h', '30d') with `order` harmonics,
    fitted on the daily level when the period is >= 2 days, or on the intra-day shape otherwise."""

    name: str
    period: str
    order: int = 3

    def __post_init__(self):
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"seasonality name must be letters, digits or '_', got {self.name!r}")
        if self.order < 1:
            raise ValueError(f"seasonality '{self.name}': order must be >= 1, got {self.order}")


@dataclass(frozen=True)
class ConditionalShape:
    """A named intra-day shape used on some days instead of the regular one, e.g.
    `{name: weekend, days: [sat, sun]}` or `{name: holiday, event_kinds: [holiday]}`."""

    name: str
    days: list[str] = field(default_factory=list)
    event_kinds: list[str] = field(default_factory=list)

    def __post_init__(self):
        bad = [d for d in self.days if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"conditional shape '{self.name}': days must be among {', '.join(WEEKDAYS)}, got {bad}")
        if not self.days and not self.event_kinds:
            raise ValueError(f"conditional shape '{self.name}': give days or event_kinds")


@dataclass(frozen=True)
class CloudTuneSettings:
    """The two-resolution model: robust daily level regression x minute-of-week shape."""

    mode: str = "multiplicative"
    # Trend: configured break dates plus automatically detected ones (greedy, BIC-penalized).
    breaks: list[str] = field(default_factory=list)
    auto_breaks: bool = True
    max_breaks: int = 5
    break_penalty: float = 4.0  # x log(n_days) per break in the BIC test; larger = fewer breaks
    min_break_gap_days: int = 5  # no break closer than this to another break or to either end
    # Seasonality.
    weekly: bool = True
    yearly: str = "auto"  # auto (only with > 1 year of history) | on | off
    yearly_order: int = 6
    seasonalities: list[Seasonality] = field(default_factory=list)
    # Intra-day shape per: dow (7 shapes), weekend (2), none (1). auto: the one whose shape best predicts each of the
    # history's last 7 days from the days before it; a richer one must be 5% better (the summary says why).
    day_types: str = "auto"
    conditional: list[ConditionalShape] = field(default_factory=list)
    shape_weeks: int = 8  # intra-day shape from the most recent weeks
    shape_halflife: str = "3d"  # recency weighting of the days in the shape (per day type)
    shape_smooth: str = "15min"  # centred smoothing window of the shape ('0min' = none)
    # Level: AR(1) carry-over of the last days' level residual, decaying with the horizon.
    level_adjust: bool = True
    level_halflife: str = "28d"  # recency weighting of the daily level fit ('0d' = all days weigh the same)
    min_history: str = "3d"
    max_horizon: str = "750d"
    # Out-of-sample calibration of the quantiles inside the history.
    calibration_origins: int = 6
    calibration_horizon: str = "14d"
    robust: bool = True  # statsmodels RLM (Huber) for the daily level; False = OLS

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.day_types not in DAY_TYPES:
            raise ValueError(f"day_types must be one of {', '.join(DAY_TYPES)}, got {self.day_types!r}")
        if self.yearly not in ("auto", "on", "off"):
            raise ValueError(f"yearly must be auto, on or off, got {self.yearly!r}")
        if self.max_breaks < 0 or self.break_penalty < 0:
            raise ValueError("max_breaks and break_penalty must be >= 0")
        if self.calibration_origins < 1:
            raise ValueError(f"calibration_origins must be >= 1, got {self.calibration_origins}")
        names = [s.name for s in self.seasonalities] + [c.name for c in self.conditional]
        reserved = {"trend", "daily", "weekly", "yearly", "level_adjust"}
        clash = sorted({n for n in names if n in reserved or names.count(n) > 1})
        if clash:
            raise ValueError(f"seasonality names must be unique and not one of {sorted(reserved)}; got {clash}")


@dataclass(frozen=True)
class Override:
    pattern: str  # fnmatch pattern on "service/region/metric", e.g. "checkout/in/*"
    model: str

    def __post_init__(self):
        if self.model not in MODEL_NAMES:
            raise ValueError(f"override {self.pattern!r}: model must be one of {', '.join(MODEL_NAMES)}, "
                             f"got {self.model!r}")


@dataclass(frozen=True)
class ModelSettings:
    default: str = "cloudtune"
    overrides: list[Override] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=lambda: ["seasonal_naive", "naive"])
    aggregation: str = "mean"  # how values combine into a coarser output grain: mean (a rate) or sum (a count)
    cloudtune: CloudTuneSettings = field(default_factory=CloudTuneSettings)
    ets_trend: Optional[str] = "add"  # daily ETS baseline: add | None
    ets_damped: bool = True

    def __post_init__(self):
        for name in [self.default, *self.fallbacks]:
            if name not in MODEL_NAMES:
                raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)}, got {name!r}")
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {self.aggregation!r}")
