"""Model settings from the `model:` section of conf/pipeline.yaml (owned by the forecast engine)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSettings:
    default: str = "cloudtune"
