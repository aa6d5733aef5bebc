"""Outlier settings from the `outliers:` section of conf/pipeline.yaml."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutlierSettings:
    enabled: bool = True
