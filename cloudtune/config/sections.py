"""One section of the pipeline config, from whatever a caller holds."""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from cloudtune.errors import ConfigError

T = TypeVar("T")


def config_section(config, name: str, cls: type[T]) -> T:
    """`cls` settings from None (defaults), a `cls`, a PipelineConfig (its `name` section) or a pipeline YAML path."""
    if config is None:
        return cls()
    if isinstance(config, cls):
        return config
    if isinstance(config, (str, Path)):
        from cloudtune.config.pipeline import load_config  # pipeline imports the sections' modules; import late

        return getattr(load_config(config), name)
    section = getattr(config, name, None)
    if isinstance(section, cls):
        return section
    article = "an" if cls.__name__[0] in "AEIOU" else "a"
    raise ConfigError(f"config must be None, {article} {cls.__name__}, a PipelineConfig or a pipeline YAML path; "
                      f"got {type(config).__name__}")
