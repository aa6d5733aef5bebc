"""The actuals contract and validation rules; the Spark ingest lives in cloudtune.spark.ingest."""
from cloudtune.ingest.rules import KEY_COLUMNS, REASONS, REQUIRED_COLUMNS, detect_format

__all__ = ["KEY_COLUMNS", "REASONS", "REQUIRED_COLUMNS", "detect_format"]
