"""Live event tracking: actuals during an event against the forecast that was in force before it began.

    from cloudtune.tracking import find_occurrence, track_series, breach_windows, post_event_markdown

Pure pandas. `cloudtune.spark.tracking` maps `track_series` over every series of a region (cogrouped actuals
and forecasts) and writes the tables `event_breaches` and `event_reports` (schemas/tracking.py).
"""
from cloudtune.tracking.live import (BREACH_COLUMNS, SUMMARY_COLUMNS, breach_windows, find_occurrence, format_summary,
                                     track_series)
from cloudtune.tracking.report import post_event_markdown

__all__ = ["BREACH_COLUMNS", "SUMMARY_COLUMNS", "breach_windows", "find_occurrence", "format_summary",
           "post_event_markdown", "track_series"]
