"""Tables a forecast run writes: runs, forecasts, components, failures, event peaks and the long-range extract."""
from schemas.table import Column, Table, key_columns, run_columns

_RUN = run_columns()

FORECAST_RUNS = Table(
    name="forecast_runs",
    doc="One row per run of a job (daily forecast, long-range extract): what ran, on which config and code, how "
        "it went. A run is 'running' while it writes; consumers read only 'succeeded' runs.",
    columns=(
        *_RUN,
        Column("job", "string", "daily or long_range.", nullable=False),
        Column("started_at", "timestamp", "Start (UTC)."),
        Column("finished_at", "timestamp", "End (UTC)."),
        Column("config_hash", "string", "Hash of the effective pipeline config."),
        Column("code_version", "string", "CloudTune version."),
        Column("status", "string", "running, succeeded or failed."),
        Column("series_in", "bigint", "Series (every hierarchy node) read from actuals."),
        Column("series_forecast", "bigint", "Series with a forecast (their chosen model or a fallback)."),
        Column("series_fallback", "bigint", "Series answered by a fallback model."),
        Column("series_failed", "bigint", "Series with no forecast, or whose model raised (see failures)."),
        Column("forecast_rows", "bigint", "Rows written to forecasts (or to long_range_extract)."),
        Column("reconciliation", "string", "Reconciliation method used per metric, and why."),
        Column("message", "string", "Error text when failed."),
    ),
    partition_by=("run_date",),
    key=("run_date", "job"),
)

# How the forecasts' Parquet files are written (Delta hands table properties to the Parquet writer). A row group
# holds whole reconciliation blocks, every node of a hierarchy, so Parquet's own min/max of the keys, level, model
# and such skip none, and comparing every value with them was the largest part of encoding a row (metric keeps its
# statistics: a row group may hold one metric's blocks only). The doubles are distinct minute by minute: building a
# dictionary for them only to drop it is wasted. A pure write of 8.7 M forecast-like rows: 9.05 s -> 7.65 s
# (medians of five).
_PARQUET_LEAN = {
    **{f"parquet.column.statistics.enabled#{c}": "false"
       for c in ("service", "region", "level", "grain", "model", "reconciliation", "run_id")},
    **{f"parquet.enable.dictionary#{c}": "false" for c in ("mean", "p50", "p90", "p99", "base_mean")},
}

FORECASTS = Table(
    name="forecasts",
    doc="Forecasts in long format, at every level of the hierarchy, reconciled.",
    columns=(
        *key_columns(" '*' at an aggregate level."),
        Column("level", "string", "Hierarchy level: series (a service in a region), region (service '*'), global "
               "(service and region '*'), or another configured level.", nullable=False),
        Column("grain", "string", "1min, 5min, 15min, 30min, 1h, 1d or 1w.", nullable=False),
        Column("ts", "timestamp", "UTC start of the forecast interval.", nullable=False),
        Column("mean", "double", "Expected load.", nullable=False),
        Column("p50", "double", "Median."),
        Column("p90", "double", "90th percentile."),
        Column("p99", "double", "99th percentile."),
        Column("model", "string", "Model that answered."),
        Column("base_mean", "double", "The model's own mean before reconciliation."),
        Column("reconciliation", "string", "Reconciliation method applied (null when not reconciled)."),
        *_RUN,
    ),
    partition_by=("run_date",),
    key=("run_date",),
    # File statistics (for data skipping) on ts only. A run's files each hold whole reconciliation blocks, every
    # node of a metric, so min/max of the key strings span every service and region and skip no file; collecting
    # them was a fifth of a pure write's time (8.6 M rows: 11.0 s with the keys, 8.6 s with ts alone).
    properties={"delta.dataSkippingStatsColumns": "ts", **_PARQUET_LEAN},
)

FORECAST_COMPONENTS = Table(
    name="forecast_components",
    doc="The named parts each forecast is built from (trend, seasonalities, events, regressors), as means over "
        "the components grain (hourly by default): their product approximates the hourly mean forecast; the exact "
        "per-minute decomposition is FittedForecast.components().",
    columns=(
        *key_columns(),
        Column("grain", "string", "Grain of ts.", nullable=False),
        Column("ts", "timestamp", "UTC timestamp.", nullable=False),
        Column("component", "string", "trend, daily, weekly, yearly, event:<name>, regressor:<name>.",
               nullable=False),
        Column("value", "double", "The component's value at ts.", nullable=False),
        Column("combine", "string", "How components combine: add or multiply."),
        *_RUN,
    ),
    partition_by=("run_date",),
    key=("run_date",),
)

FAILURES = Table(
    name="failures",
    doc="Every series that did not get its chosen model, with the fallback used and the error text.",
    columns=(
        *key_columns(),
        Column("model", "string", "Model that answered in the end (null if none)."),
        Column("status", "string", "fallback or failed.", nullable=False),
        Column("reason", "string", "Why, including the error text.", nullable=False),
        *_RUN,
    ),
    partition_by=("run_date",),
    key=("run_date",),
)

EVENT_PEAKS = Table(
    name="event_peaks",
    doc="For each future event occurrence and day: quantiles of the peak minute's load, its time and spread.",
    columns=(
        *key_columns(),
        Column("event", "string", "Event name.", nullable=False),
        Column("event_start", "timestamp", "Occurrence start (UTC).", nullable=False),
        Column("day", "date", "UTC day within the occurrence."),
        Column("peak_p50", "double", "Median of the window's maximum load."),
        Column("peak_p90", "double", "90th percentile of the window's maximum."),
        Column("peak_p99", "double", "99th percentile of the window's maximum."),
        Column("peak_ts", "timestamp", "Expected time of the peak minute."),
        Column("peak_to_mean", "double", "Expected peak divided by the window's mean load."),
        *_RUN,
    ),
    partition_by=("run_date",),
    key=("run_date",),
)


LONG_RANGE_EXTRACT = Table(
    name="long_range_extract",
    doc="Weekly forecasts two years ahead per region (service '*') and per service in region, reconciled, for "
        "data-center planning. Loads are per minute: the week's mean load and the week's busiest minute.",
    columns=(
        *key_columns(" '*' for a region total."),
        Column("level", "string", "Hierarchy level: series (a service in a region), region or global.",
               nullable=False),
        Column("week_start", "date", "Monday of the week (UTC).", nullable=False),
        Column("mean", "double", "Expected mean load per minute over the week."),
        Column("p50", "double", "Median of the week's mean load per minute."),
        Column("p90", "double", "90th percentile of the week's mean load per minute."),
        Column("p99", "double", "99th percentile of the week's mean load per minute."),
        Column("peak_minute_p50", "double", "Median load of the week's busiest minute."),
        Column("peak_minute_p90", "double", "90th percentile load of the week's busiest minute."),
        Column("peak_minute_p99", "double", "99th percentile load of the week's busiest minute."),
        *_RUN,
    ),
    partition_by=("run_date",),
    key=("run_date",),
)
