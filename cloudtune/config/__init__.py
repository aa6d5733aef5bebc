"""Typed, strict configuration loaded from conf/."""
from cloudtune.config.strict import from_dict, load_file

__all__ = ["PipelineConfig", "load_config", "from_dict", "load_file"]


def __getattr__(name: str):
    # Lazy (PEP 562): the pipeline config imports every section's settings (models, backtest, ...), and those
    # import leaf helpers from this package (durations, strict); loading it eagerly made those imports circular.
    if name in ("PipelineConfig", "load_config"):
        from cloudtune.config import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'cloudtune.config' has no attribute {name!r}")
