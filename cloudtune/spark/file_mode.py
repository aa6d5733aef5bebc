"""File mode: the daily pipeline from a file of actuals to a folder of outputs, with no table store.

The same stages as the daily job (the ingest's row validation, every hierarchy node through run_series,
reconciliation) on a local Spark session; outputs are plain CSV or Parquet folders, one per table, so a user can
try CloudTune on their own data without a warehouse. Rerunning into the same folder replaces its outputs.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError
from cloudtune.spark.forecast_job import concurrently, fit_nodes, reconcile, series_counts
from cloudtune.spark.ingest import read_checked
from cloudtune.spark.progress import Progress
from cloudtune.spark.series_runner import KEYS
from cloudtune.spark.tables import conform
from schemas import EVENT_PEAKS, FAILURES, FORECAST_COMPONENTS, FORECASTS, OUTLIER_FLAGS

FORMATS = ("csv", "parquet")


def forecast_file(spark: SparkSession, config: PipelineConfig, actuals: str | Path, out: str | Path,
                  fmt: str = "csv", run_date: date | None = None, progress: bool = True, printer=None) -> dict:
    """Validate `actuals`, forecast and reconcile every series, write one folder per output under `out`."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    started = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with Progress(spark, printer, enabled=progress) as prog:
        prog.stage(f"validating {actuals}")
        path, _, checked = read_checked(spark, actuals, None, config.ingest.grain)
        checked = checked.persist()
        try:
            good = checked.where(F.col("reason").isNull() & ~F.col("identical_duplicate"))
            history, last_day = _lookback(good, config.forecast.history_days, path)
            run_date = run_date or last_day
            fitted = fit_nodes(spark, config, history, asdict(config.forecast), prog, "fit and forecast")
            try:
                info, paths, counts, rows = _reconcile_and_write(spark, config, fitted, history, checked, run_date,
                                                                 out, fmt, prog)
            finally:
                fitted.unpersist()
        finally:
            checked.unpersist()
    summary = dict(source=str(path), out=str(out.resolve()), run_date=str(run_date), series_in=fitted.nodes, **counts,
                   rows=rows, reconciliation=info, seconds=round(time.monotonic() - started, 1), outputs=paths)
    (out / "run.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def _reconcile_and_write(spark, config, fitted, history, checked, run_date, out: Path, fmt: str, prog):
    """Reconcile the fitted nodes and write every output (and the quarantined rows) under `out`:
    (reconciliation info, paths by output, series counts, rows read back per output)."""
    stamp = {"run_id": F.lit(f"file-{run_date:%Y%m%d}"), "run_date": F.lit(run_date)}
    stamped = fitted.stamped(stamp)
    prog.stage("reconcile and write")
    forecasts, info = reconcile(spark, config, stamped, history)
    reports = stamped.rows("report")
    outputs = {
        "forecasts": conform(forecasts.withColumns(stamp), FORECASTS),
        "forecast_components": conform(stamped.rows("component"), FORECAST_COMPONENTS),
        "outlier_flags": conform(stamped.rows("flag").withColumn("reason", F.col("flag_reason")), OUTLIER_FLAGS),
        "event_peaks": conform(stamped.rows("peak"), EVENT_PEAKS),
        "failures": conform(reports.where(F.col("status") != "ok"), FAILURES),
        "quarantine": checked.where(F.col("reason").isNotNull()).select("line_number", "raw", "reason", "detail"),
    }
    paths = concurrently(spark, {name: (lambda df=df, name=name: _write(df, out / name, fmt))
                                 for name, df in outputs.items()})
    rows = {name: spark.read.format(fmt).option("header", True).load(p).count() if fmt == "csv"
            else spark.read.parquet(p).count() for name, p in paths.items()}
    return info, paths, series_counts(reports), rows


def _lookback(good: DataFrame, days: int, path) -> tuple[DataFrame, date]:
    last = good.agg(F.max("ts")).first()[0]
    if last is None:
        raise InputError(f"{path}: no valid rows to forecast; see the quarantine folder for why each row was refused")
    last_day = last.date()
    since = last_day - timedelta(days=days - 1)
    history = good.where(F.to_date("ts") >= F.lit(since)).select(*KEYS, "ts", "value")
    return history, last_day + timedelta(days=1)


def _write(df: DataFrame, folder: Path, fmt: str) -> str:
    writer = df.write.mode("overwrite")
    if fmt == "csv":
        writer = writer.option("header", True)
    writer.format(fmt).save(str(folder))
    return str(folder.resolve())


def with_overrides(config: PipelineConfig, events: str | None, horizon: str | None, grain: str | None):
    """The config with the file-mode flags applied (events file or folder, horizon, grain)."""
    forecast = config.forecast
    changes = {k: v for k, v in (("horizon", horizon), ("grain", grain)) if v}
    if changes:
        forecast = dataclasses.replace(forecast, **changes)
    config = dataclasses.replace(config, forecast=forecast)
    if events:
        if not Path(events).exists():
            raise InputError(f"--events {events}: no such file or folder; give a calendar YAML like "
                             f"conf/events/us.yaml or a folder of them")
        config = dataclasses.replace(config, events_dir=str(Path(events).resolve()))
    return config
