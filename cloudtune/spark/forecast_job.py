"""The daily forecast run on Spark: every hierarchy node fitted once in a grouped map, then reconciled.

Read actuals before the run date (over the lookback) -> add the upper levels (region and global totals) ->
map `cloudtune.pipeline.run_series` over every node -> reconcile the forecasts in Spark -> write forecasts,
components, peaks, flags and failures, each replacing the run date's partition, so a rerun never duplicates.
No driver loop over series and nothing per series collected to the driver.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError
from cloudtune.spark.progress import Progress
from cloudtune.spark.runs import RunFailed, RunRecord
from cloudtune.spark.session import balanced_keys, stage_tasks
from cloudtune.spark.series_runner import (KEYS, NODE, STEPPED, UNPLANNED, WIDE_SCHEMA, events_records,
                                          make_series_runner, node_names, node_table, unpack_steps,
                                          wide_arrow_schema)
from cloudtune.spark.tables import conform, location, qualified, replace_partition, struct_type
from schemas import EVENTS, EVENT_PEAKS, FAILURES, FORECAST_COMPONENTS, FORECASTS, OUTLIER_FLAGS

log = logging.getLogger(__name__)


def read_history(spark: SparkSession, config: PipelineConfig, run_date: date, days: int) -> DataFrame:
    """Actuals of the `days` before the latest date before `run_date`: a backfill or a rerun after new ingests
    reads the same rows."""
    db = config.database
    actuals = spark.table(qualified(db, "actuals")).where(F.col("date") < F.lit(run_date))
    latest = actuals.agg(F.max("date")).first()[0]
    if latest is None:
        raise InputError(f"{db}.actuals has no rows before {run_date}: ingest actuals first "
                         f"(cloudtune ingest --source FILE) or pass a later --run-date")
    since = (pd.Timestamp(latest) - pd.Timedelta(days=days - 1)).date()
    return actuals.where(F.col("date") >= F.lit(since)).select(*KEYS, "ts", "value")


@dataclass
class NodeOutputs:
    """fit_nodes' rows: every wide row on disk, and the rows other than forecasts (under a tenth of them) split off
    once, so each small output and the residuals are read from those instead of another pass over the forecasts."""

    wide: DataFrame
    other: DataFrame
    nodes: int

    def rows(self, record: str) -> DataFrame:
        rows = (self.wide if record == "forecast" else self.other).where(F.col("record") == record)
        return unpack_steps(rows, STEPPED[record]) if record in STEPPED else rows

    def stamped(self, columns: dict) -> "NodeOutputs":
        return NodeOutputs(self.wide.withColumns(columns), self.other.withColumns(columns), self.nodes)

    def unpersist(self) -> None:
        self.other.unpersist()
        self.wide.unpersist()


def fit_nodes(spark: SparkSession, config: PipelineConfig, history: DataFrame, run: dict, progress: Progress,
              stage: str) -> NodeOutputs:
    """Every node of the hierarchy through run_series; the wide rows, persisted for the writes that split them."""
    from cloudtune.spark.reconcile import aggregate_levels_spark, node_keys, planned_block_seconds, series_days

    levels = list(config.reconcile.levels)
    # One scan of the actuals gives the series keys and the day weights of the totals' completeness rule.
    days = series_days(history).persist()
    cached = [days]
    try:
        keys = node_keys(days.select(*KEYS).distinct().toPandas(), levels)
        nodes = aggregate_levels_spark(history, levels, min_share=config.reconcile.total_min_share, days=days,
                                       cached=cached)
        progress.stage(stage, len(keys))
        tasks = stage_tasks(spark, len(keys))
        table = node_table(keys)
        table[NODE] = balanced_keys(spark, len(table), tasks)  # equal shares of the nodes for the fit's tasks
        runner = make_series_runner(run, asdict(config.model), asdict(config.outliers), events_records(config),
                                    planned_block_seconds(keys, config.reconcile, run["grain"]),
                                    nodes=node_names(table), schema=wide_arrow_schema(), counter=progress.done)
        # Left, not inner: rows whose keys the table lacks reach the runner, named, and fail the run, not vanish.
        numbered = (nodes.join(F.broadcast(spark.createDataFrame(table)), [*KEYS, "level"], "left")
                    .select(NODE, "ts", "value", F.when(F.col(NODE).isNull(), F.concat_ws("/", *KEYS, "level"))
                            .alias(UNPLANNED)))
        wide = (numbered.repartition(tasks, NODE).groupBy(NODE)
                .applyInArrow(runner, WIDE_SCHEMA).persist(StorageLevel.DISK_ONLY))
        # Fit here, once: every later write reads the persisted rows (and progress counts this stage). On disk,
        # not in memory: months of minutes for thousands of nodes do not fit in the heap; each write reads them once.
        wide.count()
    finally:
        for frame in cached:
            frame.unpersist()
    other = wide.where(F.col("record") != "forecast").persist(StorageLevel.MEMORY_AND_DISK)
    other.count()
    return NodeOutputs(wide, other, len(keys))


def reconcile(spark: SparkSession, config: PipelineConfig, outputs: NodeOutputs, history: DataFrame
              ) -> tuple[DataFrame, dict]:
    """Reconciled forecasts of every level from the base forecasts and hourly residuals in the wide rows."""
    from cloudtune.spark.reconcile import reconcile_spark

    base = outputs.rows("forecast").select(*KEYS, "level", "grain", "ts", "mean", "p50", "p90", "p99", "model",
                                           F.col("peak_to_mean_steps").alias("peak_to_mean"))
    residuals = outputs.rows("residual").select(*KEYS, "level", "ts", "residual")
    return reconcile_spark(spark, base, residuals, config.reconcile,
                           history if config.reconcile.method == "top_down" else None)


def run_forecast(spark: SparkSession, config: PipelineConfig, run_date: date | None = None,
                 progress: bool = True, out=None) -> dict:
    """Forecast every series in the actuals table; returns the run record (also in forecast_runs).

    Raises RunFailed (after writing everything) when more than forecast.max_failed_share of the series failed.
    """
    run_date = run_date or datetime.now(timezone.utc).date()
    with ThreadPoolExecutor(max_workers=2) as pool:
        # Two Delta commits of a few rows each (mostly latency) overlap the reads before the fit: the run's
        # 'running' row and the calendar. The calendar's error is raised inside the run, which is then marked failed.
        record = RunRecord(spark, config, "daily", run_date, background=pool)
        calendar = pool.submit(write_calendar, spark, config)
        with record, Progress(spark, out, enabled=progress) as prog:
            _run(spark, config, run_date, record, prog, calendar)
    return record.fields


def _run(spark: SparkSession, config: PipelineConfig, run_date: date, record: RunRecord, prog: Progress,
         calendar: Future) -> None:
    """The run inside its record: read, fit, reconcile, write; the counts go to the record. `calendar`: the
    calendar's write, awaited before the outputs (a bad calendar file also fails the fit's events first)."""
    where = {"run_date": run_date}
    prog.stage("reading actuals")
    history = read_history(spark, config, run_date, config.forecast.history_days)
    fitted = fit_nodes(spark, config, history, asdict(config.forecast), prog, "fit and forecast")
    stamp = {"run_id": F.lit(record.run_id), "run_date": F.lit(run_date)}
    try:
        calendar.result()
        record.started()  # the run reads 'running' before its first output is written
        outputs = fitted.stamped(stamp)
        prog.stage("reconcile; write forecasts, components, outlier flags, event peaks, failures")
        forecasts, info = reconcile(spark, config, outputs, history)
        # Counted as they are written (an observed metric of the write itself), not by scanning the table after.
        written = Observation("forecast rows")
        rows = forecasts.withColumns(stamp).observe(written, F.count(F.lit(1)).alias("rows"))
        writes = {"forecasts": lambda: replace_partition(spark, rows, config.database, FORECASTS, where),
                  **_side_outputs(spark, config.database, outputs, where)}
        counts = concurrently(spark, writes)["counts"]
    finally:
        fitted.unpersist()
    record.update(series_in=fitted.nodes, reconciliation=describe_reconciliation(info), **counts,
                  forecast_rows=int(written.get["rows"]))
    check_failed_share(record.fields, config.forecast.max_failed_share)


NODES_PER_COMPONENTS_FILE = 500  # about a million rows a file at the default components grain and horizon


def _side_outputs(spark: SparkSession, db: str, outputs: NodeOutputs, where: dict) -> dict:
    """The small writes and the run's counts, as callables for `concurrently`. Each writes few files: flags, peaks
    and failures are a few rows a node (one file), components a few thousand. A task per partition of the fit's
    output wrote as many files of a few rows each, a task's fixed cost each, and SQL readers list them all."""
    reports = outputs.rows("report")
    component_files = max(1, -(-outputs.nodes // NODES_PER_COMPONENTS_FILE))
    return {
        "components": lambda: replace_partition(spark, outputs.rows("component").coalesce(component_files), db,
                                                FORECAST_COMPONENTS, where),
        "flags": lambda: replace_partition(spark, outputs.rows("flag").withColumn("reason", F.col("flag_reason"))
                                           .coalesce(1), db, OUTLIER_FLAGS, where),
        "peaks": lambda: replace_partition(spark, outputs.rows("peak").coalesce(1), db, EVENT_PEAKS, where),
        "failures": lambda: replace_partition(spark, reports.where(F.col("status") != "ok").coalesce(1), db, FAILURES,
                                              where),
        "counts": lambda: series_counts(reports),
    }


def concurrently(spark: SparkSession, jobs: dict) -> dict:
    """Run Spark actions from threads, each in its own fair-scheduler pool (the session runs spark.scheduler.mode
    FAIR), so the small ones (a commit, a few rows: mostly latency) take a share of the cores while the big one
    runs instead of queueing behind all of its tasks. Results by name; the first error is raised after all have
    finished."""
    context = spark.sparkContext

    def in_pool(name: str, job):
        context.setLocalProperty("spark.scheduler.pool", name)
        try:
            return job()
        finally:
            context.setLocalProperty("spark.scheduler.pool", None)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(in_pool, name, job) for name, job in jobs.items()}
        wait(futures.values())
    return {name: future.result() for name, future in futures.items()}


def series_counts(reports: DataFrame) -> dict:
    row = reports.agg(
        F.count("*").alias("n"),
        F.sum((F.col("status") != "failed").cast("int")).alias("forecast"),
        F.sum((F.col("status") == "fallback").cast("int")).alias("fallback"),
        F.sum(((F.col("status") == "failed") | F.coalesce(F.col("errored"), F.lit(False))).cast("int")).alias("bad"),
    ).first()
    return dict(series_forecast=row["forecast"] or 0, series_fallback=row["fallback"] or 0,
                series_failed=row["bad"] or 0)


def check_failed_share(fields: dict, max_share: float) -> None:
    total, failed = fields.get("series_in") or 0, fields.get("series_failed") or 0
    if total and failed / total > max_share:
        raise RunFailed(f"{failed} of {total} series failed ({failed / total:.1%} > forecast.max_failed_share "
                        f"{max_share:.1%}); see the failures table for run {fields['run_id']}")


def describe_reconciliation(info: dict) -> str:
    """Per metric: the method used and why (the reconciliation adapter's info)."""
    if not isinstance(info, dict):
        return str(info)
    parts = []
    for unit, detail in sorted(info.items()):
        if isinstance(detail, dict):
            parts.append(f"{unit}: {detail.get('method')} ({detail.get('reason', '')})")
        else:
            parts.append(f"{unit}: {detail}")
    return "; ".join(parts)


def write_calendar(spark: SparkSession, config: PipelineConfig) -> None:
    """The configured event calendar into the events table (replaced whole: the YAML is the source of truth),
    so SQL consumers can join forecasts to event windows."""
    from cloudtune.events import load_calendar

    cal = load_calendar(config.resolve(config.events_dir))
    frame = pd.DataFrame({
        "name": cal["name"], "region": cal["region"], "kind": cal["kind"],
        "start": pd.to_datetime(cal["start"], utc=True), "end": pd.to_datetime(cal["end"], utc=True),
        "ramp_before_minutes": pd.to_timedelta(cal["ramp_before"]) // pd.Timedelta("1min"),
        "decay_after_minutes": pd.to_timedelta(cal["decay_after"]) // pd.Timedelta("1min"),
        "prior_lift": cal["prior_lift"], "prior_shape": cal["prior_shape"],
    })
    df = spark.createDataFrame(frame.astype(object).where(frame.notna(), None), struct_type(EVENTS))
    conform(df, EVENTS).write.format("delta").mode("overwrite").save(location(spark, config.database, EVENTS))
