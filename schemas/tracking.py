"""Tables written by live event tracking: the minutes that broke the forecast's P90/P99, and per-event reports."""
from schemas.table import Column, Table, key_columns

_TRACKED = (
    Column("event", "string", "Event name from conf/events, e.g. black_friday.", nullable=False),
    Column("event_start", "timestamp", "Occurrence start (UTC).", nullable=False),
    Column("forecast_run_id", "string", "The run in force before the event began (latest succeeded run whose "
           "run_date is on or before the event's start date).", nullable=False),
    Column("forecast_run_date", "date", "Run date of forecast_run_id.", nullable=False),
)

EVENT_BREACHES = Table(
    name="event_breaches",
    doc="Minutes of an event whose actual load was above the as-of forecast's P90 (severity p90) or P99 "
        "(severity p99). A new tracking pass over the same occurrence replaces its rows.",
    columns=(
        *key_columns(),
        *_TRACKED,
        Column("ts", "timestamp", "UTC minute (start of the interval).", nullable=False),
        Column("actual", "double", "Actual load.", nullable=False),
        Column("mean", "double", "Forecast mean."),
        Column("p90", "double", "Forecast 90th percentile."),
        Column("p99", "double", "Forecast 99th percentile."),
        Column("severity", "string", "p99 when actual > p99, else p90 (actual > p90).", nullable=False),
        Column("excess", "double", "actual / (the broken quantile) - 1."),
        Column("tracked_at", "timestamp", "When the tracking pass ran."),
    ),
    partition_by=("event",),
    key=("event", "event_start"),
)

EVENT_REPORTS = Table(
    name="event_reports",
    doc="Per series and event occurrence: how the actuals compared with the as-of forecast. status 'live' rows "
        "are replaced by each pass during the event; 'final' rows are written once the event has ended.",
    columns=(
        *key_columns(),
        *_TRACKED,
        Column("event_end", "timestamp", "Occurrence end (UTC), exclusive.", nullable=False),
        Column("status", "string", "live (event in progress) or final.", nullable=False),
        Column("minutes_expected", "bigint", "Minutes of the occurrence up to the tracking time."),
        Column("minutes_tracked", "bigint", "Minutes with both an actual and a forecast."),
        Column("actual_peak", "double", "Highest actual minute so far."),
        Column("actual_peak_ts", "timestamp", "When it happened."),
        Column("forecast_peak", "double", "Peak of the forecast mean over the whole occurrence."),
        Column("forecast_peak_ts", "timestamp", "When the forecast mean peaks."),
        Column("forecast_peak_p90", "double", "P90 of the occurrence's peak minute (event_peaks), if forecast."),
        Column("actual_total", "double", "Sum of the tracked actuals."),
        Column("forecast_total", "double", "Sum of the forecast mean over the tracked minutes."),
        Column("cumulative_error", "double", "actual_total - forecast_total."),
        Column("cumulative_error_pct", "double", "cumulative_error / forecast_total."),
        Column("minutes_above_p90", "bigint", "Tracked minutes with actual > P90."),
        Column("minutes_above_p99", "bigint", "Tracked minutes with actual > P99."),
        Column("report_path", "string", "Post-event report file (final rows)."),
        Column("tracked_at", "timestamp", "When the tracking pass ran."),
    ),
    partition_by=("event",),
    key=("event", "event_start"),
)
