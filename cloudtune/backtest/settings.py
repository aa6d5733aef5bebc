"""Backtest settings: which origins, how far ahead, which models, and how a champion is picked.

Meant for a `backtest:` section of conf/pipeline.yaml (loaded strictly, unknown keys rejected); until that section
exists, `cloudtune backtest` builds them from these defaults and its flags. Example::

    backtest:
      cutoffs: 3                  # origins: the last 3 multiples of `step` leaving `horizon` of actuals after them
      cutoff_dates: []            # or explicit origins, e.g. ["2025-12-01", "2025-12-04"] (then `cutoffs` is unused)
      horizon: 1d
      step: 1d                    # spacing between origins
      min_train: 7d               # an origin needs this much history before it
      history_days: 120           # history each fold fits on (as the daily forecast run reads)
      horizon_buckets: [1d]       # bucket edges from the origin; 'all' (the whole horizon) is always scored
      models: [cloudtune, seasonal_naive, ets]
      levels: [series, region, global]
      champion_metric: mase
      min_improvement_pct: 2.0    # a challenger replaces the champion only if this much better
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cloudtune.backtest.metrics import LOWER_IS_BETTER
from cloudtune.config.durations import parse_duration
from cloudtune.models.settings import MODEL_NAMES

LEVELS = ("series", "region", "global")


@dataclass(frozen=True)
class BacktestSettings:
    cutoffs: int = 3
    cutoff_dates: list[str] = field(default_factory=list)
    horizon: str = "1d"
    step: str = "1d"
    min_train: str = "7d"
    history_days: int = 120
    horizon_buckets: list[str] = field(default_factory=lambda: ["1d"])
    models: list[str] = field(default_factory=lambda: ["cloudtune", "seasonal_naive", "ets"])
    levels: list[str] = field(default_factory=lambda: list(LEVELS))
    champion_metric: str = "mase"
    min_improvement_pct: float = 2.0

    def __post_init__(self):
        for name in ("horizon", "step", "min_train"):
            parse_duration(getattr(self, name), f"backtest.{name}")
        if self.cutoffs < 1:
            raise ValueError(f"backtest.cutoffs must be >= 1, got {self.cutoffs}")
        if self.history_days < 1:
            raise ValueError(f"backtest.history_days must be >= 1, got {self.history_days}")
        for d in self.cutoff_dates:
            try:
                pd.Timestamp(d)
            except ValueError:
                raise ValueError(f"backtest.cutoff_dates: {d!r} is not a date; write e.g. 2025-12-01 or "
                                 f"2025-12-01T06:00Z") from None
        bad = [m for m in self.models if m not in MODEL_NAMES]
        if bad or not self.models:
            raise ValueError(f"backtest.models must be a non-empty list of {', '.join(MODEL_NAMES)}; got {self.models}")
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"backtest.models lists a model twice: {self.models}")
        bad = [lv for lv in self.levels if lv not in LEVELS]
        if bad or "series" not in self.levels:
            raise ValueError(f"backtest.levels must include 'series' and be among {', '.join(LEVELS)}; "
                             f"got {self.levels}")
        if self.champion_metric not in LOWER_IS_BETTER:
            raise ValueError(f"backtest.champion_metric must be one of {', '.join(LOWER_IS_BETTER)}; "
                             f"got {self.champion_metric!r}")
        if self.min_improvement_pct < 0:
            raise ValueError(f"backtest.min_improvement_pct must be >= 0, got {self.min_improvement_pct}")
        edges = [parse_duration(b, "backtest.horizon_buckets") for b in self.horizon_buckets]
        horizon = parse_duration(self.horizon, "backtest.horizon")
        if any(b <= a for a, b in zip(edges, edges[1:])) or any(e <= pd.Timedelta(0) or e > horizon for e in edges):
            raise ValueError(f"backtest.horizon_buckets must increase, each in (0, horizon={self.horizon}]; "
                             f"got {self.horizon_buckets}")

    def bucket_edges(self) -> list[tuple[str, pd.Timedelta, pd.Timedelta]]:
        """(label, from, to) per bucket, measured from the origin; the last bucket ends at the horizon."""
        horizon = pd.Timedelta(parse_duration(self.horizon, "backtest.horizon"))
        names = ["0", *self.horizon_buckets]
        edges = [pd.Timedelta(0), *[pd.Timedelta(parse_duration(b, "")) for b in self.horizon_buckets]]
        if edges[-1] < horizon:
            names.append(self.horizon)
            edges.append(horizon)
        return [(f"{names[i]}-{names[i + 1]}", edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
