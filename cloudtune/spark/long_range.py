"""The long-range extract: weekly forecasts two years ahead per region and per service in region, reconciled,
written to long_range_extract and exported as CSV and Parquet for data-center planners.

It reuses the daily job's per-node function at weekly grain over a longer lookback (yearly seasonality needs
more than a year), without components or peaks. A week's busiest minute is the week's quantile times that
node's own busiest-minute-to-mean ratio from the same point forecast (peaks do not add up, so parents have
their own ratio rather than a sum of children's peaks).
"""
from __future__ import annotations

import dataclasses
from dataclasses import asdict
from datetime import date, datetime, timezone
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloudtune.config import PipelineConfig
from cloudtune.spark.forecast_job import describe_reconciliation, fit_nodes, read_history, reconcile, series_counts
from cloudtune.spark.progress import Progress
from cloudtune.spark.runs import RunRecord
from cloudtune.spark.tables import qualified, replace_partition
from schemas import LONG_RANGE_EXTRACT

QUANTILES = ("p50", "p90", "p99")


def run_long_range(spark: SparkSession, config: PipelineConfig, run_date: date | None = None,
                   export_dir: str | Path | None = None, progress: bool = True, out=None) -> dict:
    """Fit every node at weekly grain, reconcile, write the run date's extract and export it; the run record."""
    run_date = run_date or datetime.now(timezone.utc).date()
    lr = config.long_range
    settings = dataclasses.replace(config.forecast, grain="1w", horizon=f"{7 * lr.weeks}d",
                                   history_days=lr.history_days, components=False, peaks=False)
    record, prog = RunRecord(spark, config, "long_range", run_date), Progress(spark, out, enabled=progress)
    with record, prog:
        prog.stage("reading actuals")
        history = read_history(spark, config, run_date, lr.history_days)
        fitted = fit_nodes(spark, config, history, asdict(settings), prog, "weekly fit and forecast")
        try:
            prog.stage("reconcile and write the extract")
            weekly, info = reconcile(spark, config, fitted, history)
            extract = _extract(weekly).withColumns({"run_id": F.lit(record.run_id), "run_date": F.lit(run_date)})
            replace_partition(spark, extract, config.database, LONG_RANGE_EXTRACT, {"run_date": run_date})
            counts = series_counts(fitted.rows("report"))
        finally:
            fitted.unpersist()
        table = spark.table(qualified(config.database, LONG_RANGE_EXTRACT)).where(F.col("run_date") == run_date)
        folder = Path(export_dir or lr.export_dir or _default_exports(spark)) / f"run_date={run_date}"
        paths = export(table, folder)
        record.update(series_in=fitted.nodes, forecast_rows=table.count(), **counts,
                      reconciliation=describe_reconciliation(info))
    return {**record.fields, "exports": paths}


def _extract(weekly: DataFrame) -> DataFrame:
    ratio = F.coalesce(F.col("peak_to_mean"), F.lit(1.0))
    cols = {f"peak_minute_{q}": F.col(q) * ratio for q in QUANTILES}
    return weekly.withColumns(cols).withColumn("week_start", F.to_date("ts"))


def export(table: DataFrame, folder: Path) -> dict:
    """CSV and Parquet copies for planners (two years of weeks per node: small enough for one file each)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = table.orderBy("metric", "level", "region", "service", "week_start").toPandas()
    paths = {"csv": folder / "long_range.csv", "parquet": folder / "long_range.parquet"}
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], index=False)
    return {k: str(v) for k, v in paths.items()}


def _default_exports(spark: SparkSession) -> Path:
    warehouse = spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")
    return Path(warehouse) / "exports" / "long_range"
