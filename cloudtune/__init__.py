"""CloudTune: capacity forecasting on Spark and Delta Lake.

`import cloudtune` is light: no JVM, no pyspark. The notebook API is loaded on first use:
`cloudtune.forecast(...)`, `cloudtune.detect_outliers(...)`.
"""
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "forecast": ("cloudtune.api", "forecast"),
    "fit_report": ("cloudtune.api", "fit_report"),
    "detect_outliers": ("cloudtune.outliers", "detect_outliers"),
    "load_config": ("cloudtune.config", "load_config"),
    "load_calendar": ("cloudtune.events", "load_calendar"),
    "simulate_fleet": ("cloudtune.simulate", "simulate_fleet"),
}


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'cloudtune' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
