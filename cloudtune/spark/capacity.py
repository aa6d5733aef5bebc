"""Capacity plans from the latest forecast run: Spark aggregates each series' peak minute per planning window,
then the pure planner (cloudtune.capacity) sizes the fleet. Only the peaks reach the driver, never the minutes.

    from cloudtune.spark.capacity import plan_latest_run
    print(plan_latest_run(spark, config, "out/"))
"""
from __future__ import annotations

import logging
import math
import uuid
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloudtune.capacity import load_capacity, load_fleet, plan_capacity
from cloudtune.capacity.config import CapacityConfig
from cloudtune.capacity.fleet import check_fleet, empty_fleet
from cloudtune.capacity.rollup import regional_rollup
from cloudtune.capacity.windows import LOADS, PEAK_COLUMNS, event_windows, with_event_peaks
from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError
from cloudtune.spark.tables import create_tables, qualified, replace_partition, struct_type
from schemas import CAPACITY_PLANS, CAPACITY_ROLLUP

log = logging.getLogger(__name__)
def capacity_dir(config: PipelineConfig, override: str | Path | None = None) -> Path:
    return Path(override) if override else config.resolve(config.capacity_dir)


def latest_run(spark: SparkSession, database: str, job: str = "daily") -> tuple[str, date]:
    """(run_id, run_date) of the latest succeeded run of `job` (daily: the per-minute forecast run)."""
    runs = spark.table(qualified(database, "forecast_runs")).where(F.col("status") == "succeeded")
    if "job" in runs.columns:
        runs = runs.where(F.col("job") == job)
    row = runs.orderBy(F.col("run_date").desc(), F.col("finished_at").desc()).select("run_id", "run_date").first()
    if row is None:
        raise InputError(f"{database}.forecast_runs has no succeeded {job} run: run `cloudtune forecast` first")
    return row["run_id"], row["run_date"]


def run_forecasts(spark: SparkSession, database: str, run_date: date, metrics, levels=("series",)) -> DataFrame:
    return (spark.table(qualified(database, "forecasts"))
            .where((F.col("run_date") == F.lit(run_date)) & F.col("metric").isin(list(metrics))
                   & F.col("level").isin(list(levels))))


def horizons(forecasts: DataFrame) -> pd.DataFrame:
    """region, first_ts, last_ts of the forecast (one small row per region)."""
    out = forecasts.groupBy("region").agg(F.min("ts").alias("first_ts"), F.max("ts").alias("last_ts")).toPandas()
    return utc(out, ["first_ts", "last_ts"])


def series_peaks(spark: SparkSession, forecasts: DataFrame, event_wins: pd.DataFrame) -> pd.DataFrame:
    """The busiest minute of every series in every week and event window, aggregated in Spark."""
    keys = ["service", "region", "metric"]
    aggs = [F.max(q).alias(f"peak_{q}") for q in LOADS] + [F.max_by("ts", q).alias(f"peak_ts_{q}") for q in LOADS]
    weeks = (forecasts.withColumn("window_start", F.date_trunc("week", "ts")).groupBy(*keys, "window_start")
             .agg(*aggs).withColumn("window_end", F.col("window_start") + F.expr("INTERVAL 7 DAYS"))
             .withColumn("window_kind", F.lit("week")).withColumn("window", F.lit("week"))
             .withColumn("event_start", F.lit(None).cast("timestamp")))
    parts = [weeks]
    if len(event_wins):
        wins = spark.createDataFrame(
            [(r.region, r.window, r.event_start.to_pydatetime(), r.window_start.to_pydatetime(),
              r.window_end.to_pydatetime()) for r in event_wins.itertuples(index=False)],
            "w_region string, window string, event_start timestamp, window_start timestamp, window_end timestamp")
        inside = (F.col("region") == F.col("w_region")) & (F.col("ts") >= F.col("window_start")) \
            & (F.col("ts") < F.col("window_end"))
        events = (forecasts.join(F.broadcast(wins), inside)
                  .groupBy(*keys, "window", "event_start", "window_start", "window_end").agg(*aggs)
                  .withColumn("window_kind", F.lit("event")))
        parts.append(events)
    out = parts[0].select(*PEAK_COLUMNS)
    for p in parts[1:]:
        out = out.unionByName(p.select(*PEAK_COLUMNS))
    pdf = out.toPandas()
    return utc(pdf, ["event_start", "window_start", "window_end", *[f"peak_ts_{q}" for q in LOADS]])


def plan_latest_run(spark: SparkSession, config: PipelineConfig, out_dir: str | Path,
                    capacity_dir_path: str | Path | None = None, fleet: str | Path | None = None,
                    event_quantile: str | None = None, week_quantile: str | None = None) -> str:
    """Capacity plan, orders and regional roll-up for the latest succeeded forecast run; returns a summary.

    Writes capacity_plans and capacity_rollup (replacing the run date's rows) and, under `out_dir`,
    capacity-plan-<date>.csv, capacity-orders-<date>.csv and capacity-rollup-<date>.csv.
    fleet: a CSV file, or 'table:<db.name>'; default the capacity config's current_fleet.
    """
    from cloudtune.events import load_calendar

    capacity = load_capacity(capacity_dir(config, capacity_dir_path))
    db = config.database
    create_tables(spark, db, {t.name: t for t in (CAPACITY_PLANS, CAPACITY_ROLLUP)})
    forecast_run_id, run_date = latest_run(spark, db)
    current = _current_fleet(spark, capacity, fleet)
    metrics = sorted({"requests", *(m.spec.metric for m in capacity.models.values())})
    forecasts = run_forecasts(spark, db, run_date, metrics)
    span = horizons(forecasts)
    if span.empty:
        raise InputError(f"forecast run {forecast_run_id} ({run_date}) has no series forecasts of {metrics}")
    windows = event_windows(load_calendar(config.resolve(config.events_dir)), span)
    peaks = with_event_peaks(series_peaks(spark, forecasts, windows), _event_peaks(spark, db, run_date, metrics))
    plan = plan_capacity(peaks, capacity, current, as_of=run_date, event_quantile=event_quantile,
                         week_quantile=week_quantile)
    run_id = f"capacity-{run_date:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    rows = plan.table_rows().assign(forecast_run_id=forecast_run_id, run_id=run_id, run_date=run_date)
    replace_partition(spark, to_spark(spark, rows, CAPACITY_PLANS), db, CAPACITY_PLANS, {"run_date": run_date})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"plan": out / f"capacity-plan-{run_date}.csv", "orders": out / f"capacity-orders-{run_date}.csv"}
    rows.to_csv(paths["plan"], index=False)
    plan.orders.to_csv(paths["orders"], index=False)
    lines = [f"forecast run {forecast_run_id} ({run_date}): " + plan.summary(),
             f"  wrote {len(rows)} rows to {qualified(db, CAPACITY_PLANS)}; plan {paths['plan']}; "
             f"orders {paths['orders']}"]
    lines.append(_rollup(spark, config, capacity, run_date, run_id, out))
    return "\n".join(lines)


def _rollup(spark, config, capacity: CapacityConfig, run_date: date, run_id: str, out: Path) -> str:
    db = config.database
    if not spark.catalog.tableExists(qualified(db, "long_range_extract")):
        return "  regional roll-up skipped: no long_range_extract table yet"
    extract = spark.table(qualified(db, "long_range_extract"))
    try:
        latest = latest_run(spark, db, job="long_range")[1]
    except InputError:  # no run recorded for it (yet): the newest rows the extract holds
        latest = extract.agg(F.max("run_date")).first()[0]
    if latest is None:
        return "  regional roll-up skipped: long_range_extract is empty (no long-range run yet)"
    pdf = extract.where(F.col("run_date") == F.lit(latest)).toPandas()  # 104 weeks x series: small
    if pdf.empty:
        return f"  regional roll-up skipped: long_range_extract has no rows for its run of {latest}"
    rollup, unplanned = regional_rollup(pdf, capacity)
    rollup = rollup.assign(forecast_run_id=pdf["run_id"].iloc[0], run_id=run_id, run_date=run_date)
    replace_partition(spark, to_spark(spark, rollup, CAPACITY_ROLLUP), db, CAPACITY_ROLLUP, {"run_date": run_date})
    path = out / f"capacity-rollup-{run_date}.csv"
    rollup.to_csv(path, index=False)
    weeks = rollup["week_start"].nunique()
    text = (f"  regional roll-up from the long-range extract of {latest}: {weeks} weeks x "
            f"{rollup['region'].nunique()} regions by generation -> {qualified(db, CAPACITY_ROLLUP)}, {path}")
    if len(unplanned):
        text += "\n  roll-up NOT PLANNED: " + ", ".join(f"{r.service}/{r.region}" for r in unplanned.itertuples())
    return text


def _current_fleet(spark: SparkSession, capacity: CapacityConfig, fleet) -> pd.DataFrame:
    if fleet is not None and str(fleet).startswith("table:"):
        name = str(fleet)[len("table:"):]
        return check_fleet(spark.table(name).toPandas().astype(str), capacity.catalog, name)
    path = Path(fleet) if fleet is not None else capacity.fleet_path()
    return empty_fleet() if path is None else load_fleet(path, capacity.catalog)


def _event_peaks(spark: SparkSession, db: str, run_date: date, metrics) -> pd.DataFrame:
    ep = (spark.table(qualified(db, "event_peaks"))
          .where((F.col("run_date") == F.lit(run_date)) & F.col("metric").isin(list(metrics)))
          .select("service", "region", "metric", "event", "event_start", "day", "peak_p50", "peak_p90", "peak_p99",
                  "peak_ts").toPandas())
    return utc(ep, ["event_start", "peak_ts"])


def utc(pdf: pd.DataFrame, columns) -> pd.DataFrame:
    """Spark hands timestamps to pandas as naive session-time (UTC) values: make them UTC-aware."""
    out = pdf.copy()
    for col in columns:
        values = pd.to_datetime(out[col])
        out[col] = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
    return out


def to_spark(spark: SparkSession, pdf: pd.DataFrame, table) -> DataFrame:
    """A small pandas frame as a Spark DataFrame typed like `table` (NaN and NaT become null)."""
    schema = struct_type(table)
    converters = {f.name: _converter(f.dataType.simpleString()) for f in schema.fields}
    records = [tuple(converters[f.name](row.get(f.name)) for f in schema.fields) for row in pdf.to_dict("records")]
    return spark.createDataFrame(records, schema)


def _converter(kind: str):
    def missing(v) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT or \
            (not isinstance(v, (str, bytes)) and pd.isna(v) is True)

    def convert(v):
        if missing(v):
            return None
        if kind == "timestamp":
            return pd.Timestamp(v).tz_convert("UTC").to_pydatetime() if pd.Timestamp(v).tzinfo else \
                pd.Timestamp(v).tz_localize("UTC").to_pydatetime()
        if kind == "date":
            return v if isinstance(v, date) and not isinstance(v, datetime) else pd.Timestamp(v).date()
        if kind in ("int", "bigint"):
            return int(v)
        if kind == "double":
            return float(v)
        if kind == "boolean":
            return bool(v)
        return str(v)

    return convert
