"""Typed, strict configuration loaded from conf/."""
from cloudtune.config.pipeline import PipelineConfig, load_config
from cloudtune.config.strict import from_dict, load_file

__all__ = ["PipelineConfig", "load_config", "from_dict", "load_file"]
