"""One definition per Delta table. Used to create the tables, to type what Spark writes, and in tests.

Column docs become Delta column comments, so `DESCRIBE cloudtune.actuals` explains every column.
"""
from schemas.cleaning import EVENTS, OUTLIER_FLAGS
from schemas.forecasting import (
    ACCURACY, EVENT_PEAKS, FAILURES, FORECAST_COMPONENTS, FORECAST_RUNS, FORECASTS,
)
from schemas.ingest import ACTUALS, INGEST_RUNS, QUARANTINE
from schemas.planning import CAPACITY_PLANS, LONG_RANGE_EXTRACT
from schemas.table import Column, Table

ALL_TABLES: dict[str, Table] = {t.name: t for t in (
    ACTUALS, QUARANTINE, INGEST_RUNS, OUTLIER_FLAGS, EVENTS, FORECAST_RUNS, FORECASTS, FORECAST_COMPONENTS,
    FAILURES, ACCURACY, EVENT_PEAKS, CAPACITY_PLANS, LONG_RANGE_EXTRACT,
)}

__all__ = ["ALL_TABLES", "Column", "Table", *[name.upper() for name in ALL_TABLES]]
