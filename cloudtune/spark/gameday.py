"""Game-day schedules from the latest forecast run: find the occurrence, collect its window's minutes (a few
thousand rows per service), and build the schedule with the pure cloudtune.gameday code.

    from cloudtune.spark.gameday import plan_game_day
    print(plan_game_day(spark, config, "out/", event="black_friday", region="uk", quantile="p99"))
"""
from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError
from cloudtune.gameday import build_schedule, find_occurrence, load_journey
from cloudtune.spark.capacity import capacity_dir, horizons, latest_run, run_forecasts, utc


def plan_game_day(spark: SparkSession, config: PipelineConfig, out_dir: str | Path, event: str | None = None,
                  region: str | None = None, quantile: str = "p99", start: str | None = None,
                  shares: str | None = None, capacity_dir_path: str | Path | None = None,
                  metric: str = "requests") -> str:
    """Write the per-minute schedule (CSV and JSON) of `event` in `region` (default: the next event occurrence
    the latest forecast covers, in any region) under `out_dir`; returns a summary."""
    from cloudtune.events import load_calendar

    journey = load_journey(capacity_dir(config, capacity_dir_path) / "gameday.yaml")
    db = config.database
    forecast_run_id, run_date = latest_run(spark, db)
    series = run_forecasts(spark, db, run_date, [metric])
    if region is not None:
        series = series.where(F.col("region") == region)
    span = horizons(series)
    if span.empty:
        raise InputError(f"forecast run {forecast_run_id} ({run_date}) has no {metric} forecasts"
                         + (f" for region {region!r}" if region else ""))
    occ = find_occurrence(load_calendar(config.resolve(config.events_dir)), span, event, region, start)
    window = (run_forecasts(spark, db, run_date, [metric], levels=("series", "region"))
              .where((F.col("region") == occ.region) & (F.col("ts") >= F.lit(occ.window_start.to_pydatetime()))
                     & (F.col("ts") < F.lit(occ.window_end.to_pydatetime())))
              .select("service", "region", "level", "ts", "mean", "p50", "p90", "p99").toPandas())
    schedule = build_schedule(utc(window, ["ts"]), occ, quantile, journey, shares=shares, metric=metric)
    schedule.meta.update(forecast_run_id=forecast_run_id, forecast_run_date=str(run_date))
    paths = schedule.write(out_dir)
    return f"{schedule.summary()}\n  wrote {paths['csv']} and {paths['json']}"
