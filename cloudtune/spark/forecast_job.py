"""The daily forecast run on Spark: map `cloudtune.pipeline.run_series` over every series with applyInPandas.

One pass fits each series once and emits every output as tagged rows of one wide schema; the rows are then
split into the Delta tables. Writes replace the run date's partition, so a rerun never duplicates.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from datetime import date, datetime, timezone

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import cloudtune
from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError
from cloudtune.spark.tables import qualified, replace_partition, struct_type
from schemas import EVENT_PEAKS, FAILURES, FORECAST_COMPONENTS, FORECAST_RUNS, FORECASTS, OUTLIER_FLAGS

log = logging.getLogger(__name__)

# Every output of run_series as one row type, told apart by `record`.
WIDE_SCHEMA = (
    "record string, service string, region string, metric string, ts timestamp, mean double, p50 double, "
    "p90 double, p99 double, model string, status string, reason string, component string, value double, "
    "combine string, grain string, start timestamp, `end` timestamp, flag_reason string, score double, "
    "method string, team string, note string, event string, event_start timestamp, day date, peak_p50 double, "
    "peak_p90 double, peak_p99 double, peak_ts timestamp, peak_to_mean double"
)
_WIDE_COLUMNS = [part.strip().split(" ")[0].strip("`") for part in WIDE_SCHEMA.split(",")]


def make_series_runner(run: dict, model: dict, outliers: dict, events: list[dict]):
    """The applyInPandas function. It closes over plain dicts and lists only (picklable, small)."""

    def run_group(rows: pd.DataFrame) -> pd.DataFrame:
        from cloudtune.config.strict import from_dict
        from cloudtune.events import events_for_region, normalize_events
        from cloudtune.models.settings import ModelSettings
        from cloudtune.outliers.settings import OutlierSettings
        from cloudtune.config.pipeline import ForecastSettings
        from cloudtune.pipeline import run_series

        key = tuple(str(rows[k].iloc[0]) for k in ("service", "region", "metric"))
        calendar = normalize_events(pd.DataFrame(events)) if events else None
        region_events = events_for_region(calendar, key[1]) if calendar is not None else None
        result = run_series(
            rows, key, from_dict(ForecastSettings, run), from_dict(ModelSettings, model),
            from_dict(OutlierSettings, outliers),
            region_events if region_events is not None and len(region_events) else None,
        )
        return _to_wide(key, result)

    return run_group


def _to_wide(key: tuple, result) -> pd.DataFrame:
    parts = []
    report = {**result.report}
    parts.append(pd.DataFrame([{"record": "report", **report}]))
    if len(result.forecast):
        parts.append(result.forecast.assign(record="forecast", model=report.get("model")))
    if len(result.components):
        parts.append(result.components.assign(record="component"))
    if len(result.flags):
        flags = result.flags.rename(columns={"reason": "flag_reason"})
        parts.append(flags.drop(columns=[c for c in ("service", "region", "metric") if c in flags]).assign(record="flag"))
    if len(result.peaks):
        peaks = result.peaks.drop(columns=["service", "region", "metric"], errors="ignore")
        parts.append(peaks.assign(record="peak"))
    wide = pd.concat(parts, ignore_index=True)
    wide["service"], wide["region"], wide["metric"] = key
    for col in _WIDE_COLUMNS:
        if col not in wide.columns:
            wide[col] = None
    for col in ("ts", "start", "end", "event_start", "peak_ts"):
        wide[col] = pd.to_datetime(wide[col], utc=True)
    return wide[_WIDE_COLUMNS]


def _events_records(config: PipelineConfig) -> list[dict]:
    from cloudtune.events import load_calendar

    cal = load_calendar(config.resolve(config.events_dir))
    cal = cal.assign(start=cal.start.astype(str), end=cal.end.astype(str),
                     ramp_before=cal.ramp_before.astype(str), decay_after=cal.decay_after.astype(str))
    return cal.astype(object).where(cal.notna(), None).to_dict("records")


def run_forecast(spark: SparkSession, config: PipelineConfig, run_date: date | None = None) -> dict:
    """Forecast every series in cloudtune.actuals; returns the run record (also written to forecast_runs)."""
    run_date = run_date or datetime.now(timezone.utc).date()
    run_id = f"forecast-{run_date:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    started = datetime.now(timezone.utc)
    db, run = config.database, config.forecast
    actuals = spark.table(qualified(db, "actuals"))
    # The run sees only actuals before its run date, so a backfill or a rerun after new ingests gives the same rows.
    actuals = actuals.where(F.col("date") < F.lit(run_date))
    latest = actuals.agg(F.max("date")).first()[0]
    if latest is None:
        raise InputError(f"{db}.actuals has no rows before {run_date}: ingest actuals first "
                         f"(cloudtune ingest --source FILE) or pass an earlier --run-date")
    since = pd.Timestamp(latest) - pd.Timedelta(days=run.history_days - 1)
    history = actuals.where(F.col("date") >= F.lit(since.date())).select("service", "region", "metric", "ts", "value")
    runner = make_series_runner(asdict(run), asdict(config.model), asdict(config.outliers), _events_records(config))
    wide = (history.groupBy("service", "region", "metric").applyInPandas(runner, WIDE_SCHEMA)
            .withColumn("run_id", F.lit(run_id)).withColumn("run_date", F.lit(run_date))).persist()
    record = dict(run_id=run_id, run_date=run_date, started_at=started, config_hash=config.config_hash(),
                  code_version=cloudtune.__version__, status="failed", message=None)
    try:
        record.update(_write_outputs(spark, db, wide, run_date), status="succeeded")
    except Exception as exc:
        record["message"] = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        wide.unpersist()
        record["finished_at"] = datetime.now(timezone.utc)
        row = {f.name: record.get(f.name) for f in struct_type(FORECAST_RUNS).fields}
        replace_partition(spark, spark.createDataFrame([row], struct_type(FORECAST_RUNS)), db, FORECAST_RUNS,
                          {"run_date": run_date})
    return record


def _write_outputs(spark: SparkSession, db: str, wide: DataFrame, run_date: date) -> dict:
    where = {"run_date": run_date}
    rec = F.col("record")
    forecasts = (wide.where(rec == "forecast").withColumn("level", F.lit("series"))
                 .withColumn("base_mean", F.col("mean")).withColumn("reconciliation", F.lit(None)))
    replace_partition(spark, forecasts, db, FORECASTS, where)
    replace_partition(spark, wide.where(rec == "component"), db, FORECAST_COMPONENTS, where)
    flags = wide.where(rec == "flag").withColumn("reason", F.col("flag_reason"))
    replace_partition(spark, flags, db, OUTLIER_FLAGS, where)
    replace_partition(spark, wide.where(rec == "peak"), db, EVENT_PEAKS, where)
    reports = wide.where(rec == "report")
    replace_partition(spark, reports.where(F.col("status") != "ok"), db, FAILURES, where)
    counts = reports.groupBy("status").count().collect()
    by_status = {r["status"]: r["count"] for r in counts}
    return dict(series=sum(by_status.values()), series_fallback=by_status.get("fallback", 0),
                series_failed=by_status.get("failed", 0),
                forecast_rows=spark.table(qualified(db, FORECASTS)).where(F.col("run_date") == F.lit(run_date)).count())
