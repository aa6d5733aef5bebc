"""The one Spark session factory (local Delta warehouse by default, anything else from conf/ or spark-submit), and
how heavy stages split into tasks."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from pyspark import SparkConf
from pyspark.sql import SparkSession

from cloudtune.config import PipelineConfig
from cloudtune.errors import ConfigError
from cloudtune.spark.jars import delta_jars

log = logging.getLogger(__name__)

# Settings only honoured when the JVM starts; in plain `python` runs they go to PYSPARK_SUBMIT_ARGS.
_LOG4J = Path(__file__).with_name("log4j2.properties")


def session_settings(config: PipelineConfig, warehouse: str | Path) -> dict[str, str]:
    """Every Spark setting CloudTune applies, lowest precedence first (conf/ overrides our defaults)."""
    remote = is_uri(warehouse)
    wh = str(warehouse).rstrip("/") if remote else str(Path(warehouse).resolve())
    settings = {
        "spark.master": config.spark.master,
        "spark.app.name": config.spark.app_name,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": wh,
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_LOG4J}",
        "spark.ui.showConsoleProgress": "false",
        # Python workers run the interpreter that has CloudTune installed, one BLAS thread each (Spark uses the cores).
        "spark.pyspark.python": sys.executable,
        "spark.executorEnv.OMP_NUM_THREADS": "1",
        "spark.executorEnv.OPENBLAS_NUM_THREADS": "1",
        "spark.executorEnv.MKL_NUM_THREADS": "1",
        "spark.sql.adaptive.enabled": "true",
        # Jobs a run starts together (its small writes beside the forecasts' big one) share the cores by pool
        # (forecast_job.concurrently); a job without a pool is scheduled in order, as under FIFO.
        "spark.scheduler.mode": "FAIR",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        # Tasks Delta rebuilds a table's state with, before every write. Its default (50) suits huge logs on big
        # clusters; ours are a commit a day per table, and the tasks' latency was the cost: 50 made a one-row
        # write take 3 s instead of 1.4 s, and 8 instead of 2 cost 3.5 s of a 30 s run (A/B, same session).
        "spark.databricks.delta.snapshotPartitions": "2",
        # A task writing a partitioned table writes its first partition value's rows as they come instead of
        # sorting every row by the partition columns first (a run writes one run_date; the sorter copied each
        # forecast row, seen in a JFR profile). Only a task with a second value sorts the rest, as before, so
        # memory holds one open file a task as before. No change measurable in time (N = 200, four alternating
        # runs: the write stage 12.8-14.4 s either way). The key was misspelt here before and did nothing.
        "spark.sql.maxConcurrentOutputFileWriters": "1",
        # Timestamps as Parquet's INT64 microseconds, marked UTC, not the legacy INT96 (Spark's default): what other
        # readers expect (pyarrow reads INT96 as naive nanoseconds), and cheaper to write (8.6 M forecast rows to
        # Delta: 9.0 s against 7.3 s, medians of three).
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # pandas writes nanosecond Parquet timestamps, which Spark otherwise refuses; ingest converts them.
        "spark.sql.legacy.parquet.nanosAsLong": "true",
    }
    if not remote:  # a persistent embedded metastore beside local data; remote warehouses bring a shared metastore
        settings["spark.hadoop.javax.jdo.option.ConnectionURL"] = \
            f"jdbc:derby:;databaseName={wh}/metastore_db;create=true"
        settings["spark.driver.extraJavaOptions"] += f" -Dderby.system.home={wh}"
    settings.update(config.spark.conf)
    return settings


TASKS_PER_CORE = 3  # a few tasks a core, so one slow task at a stage's end leaves little of the cluster idle


def stage_tasks(spark: SparkSession, groups: int) -> int:
    """Tasks for a stage of `groups` independent, CPU-heavy groups (nodes to fit, blocks to reconcile): one per
    group, up to the larger of spark.sql.shuffle.partitions and TASKS_PER_CORE x the cores Spark has. conf/ sets 8
    shuffle partitions, right for a laptop; on a cluster, capped by that alone, thousands of series would be fitted
    in 8 tasks however many executors there are. Set explicitly, since adaptive execution merges partitions by
    bytes, and a group's rows are few bytes for seconds of work."""
    cap = max(int(spark.conf.get("spark.sql.shuffle.partitions")),
              TASKS_PER_CORE * spark.sparkContext.defaultParallelism)
    return max(1, min(int(groups), cap))


def balanced_keys(spark: SparkSession, count: int, tasks: int) -> list[int]:
    """`count` distinct ints that `repartition(tasks, column)` of a bigint column spreads evenly: the i-th lands in
    task i % tasks (Spark hashes an int column differently: keep the column bigint).

    Spark places a row by the Murmur3 hash of its key, so the numbers 0..count-1 fill the tasks unevenly (a thousand
    nodes in 8 tasks: 111 to 146 each), and a stage of equal groups lasts as long as its fullest task. The
    candidates' partitions come from Spark's own hash (the one its hash partitioning applies), not a copy of it."""
    from pyspark.sql import functions as F

    if tasks < 1:
        raise ValueError(f"balanced_keys needs at least one task, got {tasks}")
    if count <= 0:
        return []
    need, span = -(-count // tasks), max(2 * count, 64)
    while True:
        slots = spark.range(span).select(F.pmod(F.hash("id"), F.lit(tasks))).collect()
        by_task = [[] for _ in range(tasks)]
        for number, (task,) in enumerate(slots):
            by_task[task].append(number)
        if min(map(len, by_task)) >= need:
            return [by_task[i % tasks][i // tasks] for i in range(count)]
        span *= 2


def is_uri(path: str | Path) -> bool:
    """s3a://, hdfs://, abfss://, ...: handed to Spark untouched (file:// too)."""
    return "://" in str(path)


def get_spark(config: PipelineConfig, warehouse: str | Path = "warehouse") -> SparkSession:
    """Build or reuse the session. Settings given to spark-submit (--master, --conf, --jars) win over conf/."""
    if not is_uri(warehouse):
        Path(warehouse).mkdir(parents=True, exist_ok=True)
    submitted = _submitted_conf()
    settings = {k: v for k, v in session_settings(config, warehouse).items() if k not in submitted}
    if "spark.jars" not in submitted and "spark.jars.packages" not in submitted:
        settings["spark.jars"] = ",".join(delta_jars())
    if not submitted:
        _launch_args(settings)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    active = SparkSession.getActiveSession()
    if active is not None:
        _check_warehouse(active, warehouse)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("CLOUDTUNE_SPARK_LOG_LEVEL", "WARN"))
    return spark


def _check_warehouse(spark: SparkSession, warehouse: str | Path) -> None:
    # getOrCreate hands back a running session as it is; its warehouse is fixed for the JVM's life.
    have = spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")
    want = str(warehouse).rstrip("/") if is_uri(warehouse) else str(Path(warehouse).resolve())
    if (have.rstrip("/") if is_uri(have) else str(Path(have).resolve())) != want:
        raise ConfigError(f"a Spark session with warehouse {have} is already running in this process; "
                          f"use that warehouse or start a new process for {warehouse}")


def _submitted_conf() -> dict[str, str]:
    """spark.* settings from spark-submit (or an active context); empty in a plain `python` process."""
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        from pyspark import SparkContext

        # Under spark-submit, SparkConf sees --master/--conf/--jars only once attached to the JVM it started.
        SparkContext._ensure_initialized()
    elif SparkSession.getActiveSession() is None:
        return {}
    return dict(SparkConf().getAll())


def _launch_args(settings: dict[str, str]) -> None:
    # The JVM is not up yet: pass the settings it only reads at start-up on its command line.
    if os.environ.get("PYSPARK_SUBMIT_ARGS"):
        return
    args = []
    if "spark.driver.memory" in settings:
        args += ["--driver-memory", settings["spark.driver.memory"]]
    if "spark.driver.extraJavaOptions" in settings:
        args += ["--driver-java-options", f'"{settings["spark.driver.extraJavaOptions"]}"']
    os.environ["PYSPARK_SUBMIT_ARGS"] = " ".join([*args, "pyspark-shell"])


def spark_sql_properties(config: PipelineConfig, warehouse: str | Path) -> str:
    """A properties file for `spark-sql --properties-file`, so SQL users see the same tables."""
    settings = session_settings(config, warehouse)
    settings["spark.jars"] = ",".join(delta_jars())
    settings.pop("spark.app.name", None)
    return "".join(f"{k} {v}\n" for k, v in settings.items())
