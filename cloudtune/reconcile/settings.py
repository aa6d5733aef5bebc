"""Reconciliation settings, the `reconcile:` section of conf/pipeline.yaml. Every key has a default::

    reconcile:
      method: mint_shrink        # bottom_up | top_down | ols | wls_struct | mint_shrink
      fallback: wls_struct       # used when mint_shrink cannot be (too few residuals, not positive definite)
      levels: [series, region, global]   # any of series, region, service, global; series is required
      partition: metric          # metric | region (region: one hierarchy per metric and region; no cross-region level)
      block: 1d                  # Spark reconciles each hierarchy in time blocks of this length...
      max_block_rows: 250000     # ...or shorter, so no block holds more rows (nodes x timestamps) than this
      min_residuals: 48          # timestamps every pair of nodes must both have a residual for, for MinT
      total_min_share: 0.99      # a total's minute is kept where its reporting series carry this share of the day
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cloudtune.reconcile.hierarchy import check_levels
from cloudtune.reconcile.methods import FALLBACKS, METHODS


@dataclass(frozen=True)
class ReconcileSettings:
    method: str = "mint_shrink"
    fallback: str = "wls_struct"
    levels: list[str] = field(default_factory=lambda: ["series", "region", "global"])
    partition: str = "metric"
    block: str = "1d"
    max_block_rows: int = 250_000  # a Python worker holds one block: this keeps its memory flat as nodes grow
    min_residuals: int = 48
    # A total's history keeps a timestamp only where the series reporting there usually carry this share of the
    # day's volume (see aggregate_levels): a big series' missing minute is a gap, a quiet one's absence is not.
    total_min_share: float = 0.99

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"reconcile.method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.fallback not in FALLBACKS:
            raise ValueError(f"reconcile.fallback must be one of {', '.join(FALLBACKS)} (methods that need no "
                             f"residuals or history), got {self.fallback!r}")
        check_levels(self.levels, self.partition)
        if _block_length(self.block) < pd.Timedelta(seconds=1):
            raise ValueError(f"reconcile.block must be at least one second, such as '1d', got {self.block!r}")
        if isinstance(self.max_block_rows, bool) or not isinstance(self.max_block_rows, int) or \
                self.max_block_rows < 1:
            raise ValueError(f"reconcile.max_block_rows must be a whole number >= 1, got {self.max_block_rows!r}")
        if isinstance(self.min_residuals, bool) or not isinstance(self.min_residuals, int) or self.min_residuals < 3:
            raise ValueError(f"reconcile.min_residuals must be a whole number >= 3, got {self.min_residuals!r}")
        if isinstance(self.total_min_share, bool) or not isinstance(self.total_min_share, (int, float)) or \
                not 0 <= self.total_min_share <= 1:
            raise ValueError(f"reconcile.total_min_share must be a number in [0, 1], got {self.total_min_share!r}")

    @property
    def block_seconds(self) -> int:
        return int(_block_length(self.block).total_seconds())


def _block_length(text) -> pd.Timedelta:
    # Not cloudtune.config.durations: cloudtune.config imports this module. pandas reads a bare '30' as
    # nanoseconds; in config that is always a forgotten unit.
    if isinstance(text, bool) or str(text).strip().replace(".", "", 1).isdigit():
        raise ValueError(f"reconcile.block: give a unit, e.g. '{text}h' or '{text}d', not {text!r}")
    try:
        return pd.Timedelta(str(text).strip())
    except ValueError:
        raise ValueError(f"reconcile.block: cannot read {text!r}; use e.g. '6h', '1d' or '1w'") from None
