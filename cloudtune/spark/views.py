"""Views for SQL consumers: the latest succeeded run's rows, so a query never mixes runs or reads a failed one.

`latest_forecasts` holds every series' (and aggregate's) forecast from the most recent succeeded daily run;
earlier runs stay in `forecasts` (by run_id or run_date) and in Delta time travel.
"""
from __future__ import annotations

import re

from pyspark.sql import SparkSession

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")

# view -> (table, job whose latest succeeded run it shows)
VIEWS = {
    "latest_forecasts": ("forecasts", "daily"),
    "latest_event_peaks": ("event_peaks", "daily"),
    "latest_long_range": ("long_range_extract", "long_range"),
}


def register_views(spark: SparkSession, database: str) -> list[str]:
    if not _IDENTIFIER.fullmatch(database):
        raise ValueError(f"database name {database!r} must be letters, digits and _")
    names = []
    for view, (table, job) in VIEWS.items():
        spark.sql(
            f"CREATE OR REPLACE VIEW {database}.{view} "
            f"COMMENT 'Rows of {table} from the latest succeeded {job} run' AS "
            f"SELECT t.* FROM {database}.{table} t WHERE t.run_id = ("
            f"SELECT max_by(run_id, finished_at) FROM {database}.forecast_runs "
            f"WHERE job = '{job}' AND status = 'succeeded' AND run_date = ("
            f"SELECT max(run_date) FROM {database}.forecast_runs WHERE job = '{job}' AND status = 'succeeded'))"
        )
        names.append(f"{database}.{view}")
    return names
