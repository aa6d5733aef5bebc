"""The actuals contract and the quarantine reasons, shared by the Spark ingest and the pandas facade."""
from __future__ import annotations

from pathlib import Path

from cloudtune.errors import InputError

REQUIRED_COLUMNS = ("service", "region", "metric", "ts", "value")
KEY_COLUMNS = ("service", "region", "metric")
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "json",
           ".ndjson": "json"}

# Reasons, in the order rows are checked; a row gets the first that applies.
REASONS = {
    "malformed_row": "the line could not be parsed as {fmt}; fix its quoting or field count",
    "missing_key": "service, region and metric must be non-empty",
    "unparsable_timestamp": "ts must be an ISO 8601 UTC timestamp such as 2025-07-08T07:00:00Z",
    "off_grain_timestamp": "ts must be aligned to the {grain} grain (e.g. whole minutes)",
    "missing_value": "value is empty",
    "non_numeric_value": "value must be a number",
    "nan_value": "value is NaN",
    "infinite_value": "value is infinite",
    "negative_value": "value must be >= 0",
    "conflicting_duplicate": "the same (service, region, metric, ts) appears with different values in this file",
}


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in ("csv", "parquet", "json"):
            raise InputError(f"--format must be csv, parquet or json, got {fmt!r}")
        return fmt
    suffix = Path(str(path)).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"{path}: cannot tell the format from '{suffix or 'no extension'}'; "
            f"use .csv, .parquet or .jsonl, or pass --format csv|parquet|json"
        )
    return FORMATS[suffix]


def check_source(source: str | Path) -> Path | str:
    """A readable, non-empty local file, or a one-line InputError saying what is wrong. A URI (s3a://, hdfs://)
    is returned as it is: Spark reads it, and a missing one fails there."""
    if "://" in str(source):
        return source
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give one file of actuals (CSV, Parquet or JSON lines)")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty; expected a header with {', '.join(REQUIRED_COLUMNS)} and rows")
    return path.resolve()


def check_columns(path: str | Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(
            f"{path}: missing required column(s) {', '.join(missing)}; "
            f"actuals need {', '.join(REQUIRED_COLUMNS)} (found: {', '.join(columns) or 'none'})"
        )


def grain_seconds(grain: str) -> int:
    import pandas as pd

    return int(pd.Timedelta(grain).total_seconds())
