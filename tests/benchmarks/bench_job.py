"""Benchmark of the daily Spark job against the floor of pure data movement, on local[2].

Run: python -m tests.benchmarks.bench_job [--series 50 200 1000] [--days 30] [--horizon 30d]
Writes tests/benchmarks/results/bench_job.md.

For each N: N synthetic series of `days` of minutes (daily and weekly shape, trend, noise; generated in Spark)
are written to a fresh actuals table. Then, in the same session and run:
- the floor: the same input through an identity applyInPandas that emits as many rows as the job's forecasts
  (one per minute of the horizon per node of the hierarchy: the series and their totals), written to Delta:
  pure data movement;
- the job: cloudtune.spark.forecast_job.run_forecast (outliers, fit, forecast, reconcile, components, peaks,
  flags, every Delta write).
Reported: wall seconds, series/s, rows/s written (forecasts, components), the job/floor ratio, and the peak
memory (PSS) of the driver (Python + JVM) and of the Python workers, sampled every 0.5 s.
"""
from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import pandas as pd
import psutil

from tests.benchmarks.markdown import md_table

OUT = Path(__file__).parent / "results" / "bench_job.md"
END = date(2025, 12, 8)  # history ends here (exclusive); the run date


def _resident(process: psutil.Process) -> int:
    """Proportional set size where the OS has it: pages shared between processes count once across them, not once
    per process as RSS does (the libraries of workers forked from one daemon; the JVM forks to run shell commands,
    and until the child execs it shows the JVM's whole RSS). A process that is gone or a zombie holds nothing."""
    try:
        return process.memory_full_info().pss
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return 0
    except (AttributeError, psutil.AccessDenied):
        return process.memory_info().rss


class MemorySampler:
    """Peak memory (PSS) of this process + its JVM (the driver) and of the Python workers, sampled in a thread."""

    def __init__(self, every: float = 0.5):
        self.every, self.driver, self.workers = every, 0, 0
        self._stop = threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        me = psutil.Process()
        while not self._stop.wait(self.every):
            driver = workers = 0
            try:
                processes = [me, *me.children(recursive=True)]
            except psutil.Error:
                continue
            for p in processes:
                try:
                    cmd = " ".join(p.cmdline())
                except psutil.Error:  # gone, or a zombie (the JVM's finished shell commands): it holds nothing
                    continue
                if "pyspark.daemon" in cmd or "pyspark.worker" in cmd:
                    workers += _resident(p)
                else:
                    driver += _resident(p)
            self.driver, self.workers = max(self.driver, driver), max(self.workers, workers)


def write_actuals(spark, db: str, n: int, days: int) -> None:
    from pyspark.sql import functions as F

    minutes = days * 1440
    start = pd.Timestamp(END) - pd.Timedelta(days=days)
    series = spark.range(n).select(
        F.concat(F.lit("svc"), F.lpad(F.col("id").cast("string"), 4, "0")).alias("service"),
        F.element_at(F.array(*[F.lit(r) for r in ("us", "in", "uk")]), (F.col("id") % 3 + 1).cast("int"))
        .alias("region"),
        F.lit("requests").alias("metric"), (100 + F.col("id") % 50 * 20).alias("base"), F.col("id").alias("sid"))
    grid = spark.range(minutes).withColumnRenamed("id", "m")
    t = F.col("m") / 1440.0
    value = (F.col("base") * F.exp(0.002 * t + 0.35 * F.sin(2 * 3.14159265 * t)
                                   + 0.15 * F.sin(2 * 3.14159265 * t / 7) + 0.08 * F.randn(7)))
    rows = (series.crossJoin(grid)
            .select("service", "region", "metric",
                    (F.lit(start).cast("timestamp") + F.make_dt_interval(mins=F.col("m").cast("int"))).alias("ts"),
                    F.round(value, 2).alias("value"))
            .withColumn("date", F.to_date("ts")).withColumn("source_file", F.lit("bench"))
            .withColumn("ingest_run_id", F.lit("bench")).withColumn("ingested_at", F.current_timestamp()))
    from cloudtune.spark.tables import conform, location
    from schemas import ACTUALS

    # By path, typed like the table: the registered table keeps its schema and the metastore is left alone.
    conform(rows, ACTUALS).write.format("delta").mode("overwrite").save(location(spark, db, ACTUALS))


def hierarchy_nodes(spark, config) -> int:
    """The nodes the job forecasts: every series and the totals of the configured levels above them."""
    from cloudtune.spark.reconcile import node_keys
    from cloudtune.spark.series_runner import KEYS

    keys = spark.table(f"{config.database}.actuals").select(*KEYS).distinct().toPandas()
    return len(node_keys(keys, config.reconcile.levels))


def floor(spark, db: str, rows_per_series: int, target: str) -> float:
    """Identity applyInPandas emitting `rows_per_series` rows per series, written to Delta: seconds."""
    from pyspark.sql import functions as F

    def emit(pdf: pd.DataFrame) -> pd.DataFrame:
        reps = -(-rows_per_series // len(pdf))
        out = pd.concat([pdf] * reps, ignore_index=True).iloc[:rows_per_series]
        return out[["service", "region", "metric", "ts", "value"]]

    df = spark.table(f"{db}.actuals").select("service", "region", "metric", "ts", "value")
    t = time.perf_counter()
    (df.groupBy("service", "region", "metric").applyInPandas(emit, df.schema)
     .withColumn("run_date", F.lit(END)).write.format("delta").mode("overwrite").save(target))
    return time.perf_counter() - t


def bench(n: int, days: int, horizon: str, workdir: Path) -> dict:
    from cloudtune.config import load_config
    from cloudtune.spark.forecast_job import run_forecast
    from cloudtune.spark.session import get_spark
    from cloudtune.spark.tables import create_tables

    config = load_config()
    config = dataclasses.replace(
        config, database=f"bench{n}",
        spark=dataclasses.replace(config.spark, master="local[2]",
                                  conf={**config.spark.conf, "spark.ui.enabled": "false",
                                        "spark.driver.memory": "4g", "spark.sql.shuffle.partitions": "8"}),
        forecast=dataclasses.replace(config.forecast, horizon=horizon, history_days=days),
    )
    spark = get_spark(config, workdir / "warehouse")
    spark.sql(f"DROP DATABASE IF EXISTS {config.database} CASCADE")
    create_tables(spark, config.database)
    write_actuals(spark, config.database, n, days)
    steps = int(pd.Timedelta(horizon) // pd.Timedelta("1min"))
    forecast_rows = steps * hierarchy_nodes(spark, config)
    with MemorySampler() as floor_mem:
        per_series = -(-forecast_rows // n)
        floor_s = floor(spark, config.database, per_series, str(workdir / f"floor{n}"))
    with MemorySampler() as mem:
        t = time.perf_counter()
        record = run_forecast(spark, config, END, progress=False)
        job_s = time.perf_counter() - t
    comps = spark.table(f"{config.database}.forecast_components").count()
    gib = 2**30
    return {"series": n, "floor s": floor_s, "job s": job_s, "job / floor": job_s / floor_s,
            "series/s": n / job_s, "floor rows": per_series * n, "forecast rows": record["forecast_rows"],
            "forecast rows/s": record["forecast_rows"] / job_s, "component rows": comps,
            "component rows/s": comps / job_s, "driver GiB": mem.driver / gib, "workers GiB": mem.workers / gib,
            "floor driver GiB": floor_mem.driver / gib, "failed": record["series_failed"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--horizon", default="30d")
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="cloudtune-bench-job-"))
    rows = []
    try:
        for n in args.series:
            rows.append(bench(n, args.days, args.horizon, workdir))
            print(md_table(pd.DataFrame(rows[-1:]), 2), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    table = md_table(pd.DataFrame(rows), 2)
    text = (f"# Daily job vs the data-movement floor (local[2], {args.days} days of minutes -> {args.horizon} per "
            f"minute)\n\n{table}\n\nThe floor is an identity applyInPandas emitting as many rows as the forecasts, "
            f"written to Delta, measured in the same session. Memory is peak PSS (driver: Python + JVM).\n")
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
