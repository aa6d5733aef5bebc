"""Ingest: read a file of actuals, validate every row, MERGE good rows, quarantine the rest, record counts.

Every row is read as text first, so a bad row is kept verbatim with its line number and reason.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

import cloudtune
from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError
from cloudtune.ingest.rules import REASONS, REQUIRED_COLUMNS, check_columns, check_source, detect_format, grain_seconds
from cloudtune.spark.tables import conform, qualified
from schemas import ACTUALS, INGEST_RUNS, QUARANTINE

log = logging.getLogger(__name__)

_RAW = StructType([
    StructField("line_number", LongType(), False),
    StructField("raw", StringType(), True),
    *[StructField(c, StringType(), True) for c in ("service", "region", "metric", "ts_text", "value_text")],
    StructField("malformed", StringType(), True),
])
_MONDAY_OFFSET = 4 * 86400  # the epoch is a Thursday; weekly grains start on Monday


@dataclass
class IngestReport:
    ingest_run_id: str
    source_file: str
    format: str
    rows_read: int
    accepted: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    identical_duplicates: int
    quarantine_reasons: dict

    def adds_up(self) -> bool:
        return self.rows_read == self.accepted + self.quarantined + self.identical_duplicates

    def text(self) -> str:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.quarantine_reasons.items())) or "none"
        return (f"ingest {self.source_file}: read {self.rows_read} = accepted {self.accepted} "
                f"(inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}) "
                f"+ quarantined {self.quarantined} ({reasons}) + identical duplicates {self.identical_duplicates}")


def ingest_file(spark: SparkSession, config: PipelineConfig, source: str | Path, fmt: str | None = None) -> IngestReport:
    path, fmt, checked = read_checked(spark, source, fmt, config.ingest.grain)
    run_id = f"ingest-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    checked = checked.persist()
    try:
        report = _load(spark, config.database, checked, str(path), fmt, run_id)
    finally:
        checked.unpersist()
    _record(spark, config.database, report)
    log.info(report.text())
    return report


def read_checked(spark: SparkSession, source: str | Path, fmt: str | None, grain: str) -> tuple:
    """(path, format, rows): every row of the file with `reason` (null when valid), `detail`, typed ts and value,
    and `identical_duplicate`. File mode uses it too, so a file is validated the same way with or without tables."""
    path = check_source(source)
    fmt = detect_format(path, fmt)
    try:
        raw = _read_raw(spark, path, fmt)
    except AnalysisException as exc:  # a remote path Spark cannot find or read
        raise InputError(f"{path}: cannot read it ({str(exc).splitlines()[0]})") from None
    return path, fmt, _validate(raw, fmt, grain)


def _read_raw(spark: SparkSession, path: Path, fmt: str) -> DataFrame:
    if fmt == "parquet":
        return _read_parquet(spark, path)
    lines = spark.read.text(str(path)).rdd.zipWithIndex().map(lambda r: (r[1] + 1, r[0][0]))
    lines_df = spark.createDataFrame(lines, "line_number long, raw string").where(F.trim("raw") != "")
    if fmt == "csv":
        return _parse_csv(path, lines_df)
    return _parse_json(path, lines_df)


def _parse_csv(path: Path, lines: DataFrame) -> DataFrame:
    first = lines.orderBy("line_number").first()
    if first is None:
        raise InputError(f"{path}: file has no header; expected {', '.join(REQUIRED_COLUMNS)}")
    header = [h.strip().strip('"').lower() for h in first["raw"].split(",")]
    check_columns(path, header)
    schema = ", ".join(f"`c{i}` string" for i in range(len(header)))
    parsed = lines.where(F.col("line_number") > first["line_number"]).withColumn(
        "p", F.from_csv("raw", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"})
    )
    idx = {name: header.index(name) for name in REQUIRED_COLUMNS}
    fields = len(header)
    return parsed.select(
        "line_number", "raw",
        *[F.col(f"p.c{idx[c]}").alias(c) for c in ("service", "region", "metric")],
        F.col(f"p.c{idx['ts']}").alias("ts_text"), F.col(f"p.c{idx['value']}").alias("value_text"),
        # A line with too few or too many fields is malformed rather than guessed at.
        F.when(F.size(F.split("raw", ",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")) != fields, F.lit("csv")).alias("malformed"),
    )


def _parse_json(path: Path, lines: DataFrame) -> DataFrame:
    schema = "service string, region string, metric string, ts string, value string"
    parsed = lines.withColumn("p", F.from_json("raw", schema, {"mode": "PERMISSIVE"}))
    sample = parsed.where(F.col("p").isNotNull()).limit(200).select("raw").collect()
    if not sample:
        raise InputError(f"{path}: no line parses as a JSON object; expected one object per line with "
                         f"{', '.join(REQUIRED_COLUMNS)}")
    import json

    seen: set[str] = set()
    for row in sample:
        try:
            seen |= set(json.loads(row["raw"]))
        except ValueError:
            continue
    check_columns(path, sorted(seen))
    return parsed.select(
        "line_number", "raw", "p.service", "p.region", "p.metric",
        F.col("p.ts").alias("ts_text"), F.col("p.value").alias("value_text"),
        F.when(F.col("p").isNull() | F.col("p.ts").isNull() & F.col("p.value").isNull(), F.lit("json"))
        .alias("malformed"),
    )


def _read_parquet(spark: SparkSession, path: Path) -> DataFrame:
    df = spark.read.parquet(str(path))
    check_columns(path, [c.lower() for c in df.columns])
    df = df.toDF(*[c.lower() for c in df.columns])
    if dict(df.dtypes)["ts"] == "bigint":  # nanosecond timestamps (pandas' default), read as long
        df = df.withColumn("ts", F.timestamp_micros(F.floor(F.col("ts") / 1000)))
    as_text = df.select(
        F.to_json(F.struct(*df.columns)).alias("raw"),
        *[F.col(c).cast("string").alias(c if c not in ("ts", "value") else f"{c}_text") for c in REQUIRED_COLUMNS],
    )
    rows = as_text.rdd.zipWithIndex().map(lambda r: (r[1] + 1, *r[0]))
    cols = ["line_number", "raw", "service", "region", "metric", "ts_text", "value_text"]
    return spark.createDataFrame(rows, StructType(_RAW.fields[:7])).toDF(*cols).withColumn(
        "malformed", F.lit(None).cast("string"))


def _validate(raw: DataFrame, fmt: str, grain: str) -> DataFrame:
    """Add `reason` (null when valid) and `detail`, plus typed ts and value for valid rows."""
    step = grain_seconds(grain)
    offset = _MONDAY_OFFSET if step == 7 * 86400 else 0
    trimmed = {c: F.trim(F.col(c)) for c in ("service", "region", "metric", "ts_text", "value_text")}
    df = raw.select(
        "line_number", "raw", "malformed",
        *[trimmed[c].alias(c) for c in trimmed],
    )
    ts = F.expr("try_cast(regexp_replace(ts_text, 'Z$', '+00:00') as timestamp)")
    num = F.expr("try_cast(value_text as double)")
    df = df.withColumn("ts", ts).withColumn("value", num)
    lowered = F.lower(F.col("value_text"))
    blank = lambda c: F.col(c).isNull() | (F.col(c) == "")  # noqa: E731
    empty_keys = F.concat_ws(", ", *[F.when(blank(c), F.lit(c)) for c in ("service", "region", "metric")])
    rules = [
        ("malformed_row", F.col("malformed").isNotNull(), F.lit(REASONS["malformed_row"].format(fmt=fmt))),
        ("missing_key", blank("service") | blank("region") | blank("metric"),
         F.concat(F.lit("empty "), empty_keys, F.lit(f"; {REASONS['missing_key']}"))),
        ("unparsable_timestamp", F.col("ts").isNull(),
         F.concat(F.lit("ts="), F.coalesce(F.col("ts_text"), F.lit("<empty>")),
                  F.lit(f"; {REASONS['unparsable_timestamp']}"))),
        ("off_grain_timestamp", ((F.unix_micros("ts") - offset * 10**6) % (step * 10**6)) != 0,
         F.concat(F.lit("ts="), F.col("ts_text"), F.lit(f"; {REASONS['off_grain_timestamp'].format(grain=grain)}"))),
        ("missing_value", blank("value_text"), F.lit(f"value=<empty>; {REASONS['missing_value']}")),
        ("nan_value", lowered.isin("nan", "-nan", "+nan") | F.isnan("value"), F.lit(f"value=NaN; {REASONS['nan_value']}")),
        ("infinite_value", lowered.rlike("^[+-]?inf(inity)?$") | (F.abs("value") == float("inf")),
         F.concat(F.lit("value="), F.col("value_text"), F.lit(f"; {REASONS['infinite_value']}"))),
        ("non_numeric_value", F.col("value").isNull(),
         F.concat(F.lit("value="), F.col("value_text"), F.lit(f"; {REASONS['non_numeric_value']}"))),
        ("negative_value", F.col("value") < 0,
         F.concat(F.lit("value="), F.col("value_text"), F.lit(f"; {REASONS['negative_value']}"))),
    ]
    reason, detail = F.lit(None).cast("string"), F.lit(None).cast("string")
    for name, cond, text in reversed(rules):
        reason = F.when(cond, F.lit(name)).otherwise(reason)
        detail = F.when(cond, text).otherwise(detail)
    df = df.withColumn("reason", reason).withColumn("detail", detail)
    # Duplicate keys among valid rows: conflicting values quarantine every copy; identical copies keep one.
    key = Window.partitionBy("service", "region", "metric", "ts")
    valid = F.col("reason").isNull()
    df = df.withColumn("_distinct", F.size(F.collect_set(F.when(valid, F.col("value"))).over(key)))
    df = df.withColumn("_rank", F.row_number().over(key.orderBy(F.col("reason").isNotNull(), "line_number")))
    conflict = valid & (F.col("_distinct") > 1)
    return (df.withColumn("detail", F.when(conflict, F.lit(REASONS["conflicting_duplicate"])).otherwise(F.col("detail")))
            .withColumn("reason", F.when(conflict, F.lit("conflicting_duplicate")).otherwise(F.col("reason")))
            .withColumn("identical_duplicate", F.col("reason").isNull() & (F.col("_rank") > 1))
            .drop("_distinct", "_rank"))


def _load(spark: SparkSession, database: str, checked: DataFrame, source: str, fmt: str, run_id: str) -> IngestReport:
    now = F.current_timestamp()
    good = (checked.where(F.col("reason").isNull() & ~F.col("identical_duplicate"))
            .withColumn("date", F.to_date("ts")).withColumn("source_file", F.lit(source))
            .withColumn("ingest_run_id", F.lit(run_id)).withColumn("ingested_at", now))
    bad = (checked.where(F.col("reason").isNotNull())
           .withColumn("source_file", F.lit(source)).withColumn("ingest_run_id", F.lit(run_id))
           .withColumn("quarantined_at", now))
    counts = checked.agg(
        F.count("*").alias("read"),
        F.sum(F.col("identical_duplicate").cast("long")).alias("dupes"),
        F.sum(F.col("reason").isNotNull().cast("long")).alias("bad"),
        F.sum((F.col("reason").isNull() & ~F.col("identical_duplicate")).cast("long")).alias("good"),
    ).first()
    reasons = {r["reason"]: r["count"] for r in bad.groupBy("reason").count().collect()}
    inserted = updated = 0
    if counts["good"]:
        metrics = (
            DeltaTable.forName(spark, qualified(database, ACTUALS)).alias("t")
            .merge(conform(good, ACTUALS).alias("s"),
                   "t.date = s.date AND t.service = s.service AND t.region = s.region "
                   "AND t.metric = s.metric AND t.ts = s.ts")
            .whenMatchedUpdate(condition="t.value <> s.value", set={
                c: f"s.{c}" for c in ("value", "source_file", "ingest_run_id", "ingested_at")})
            .whenNotMatchedInsertAll()
            .execute()
        ).first()
        inserted, updated = int(metrics["num_inserted_rows"]), int(metrics["num_updated_rows"])
    if counts["bad"]:
        (DeltaTable.forName(spark, qualified(database, QUARANTINE)).alias("t")
         .merge(conform(bad, QUARANTINE).alias("s"),
                # raw is part of the key: a daily drop reusing one path keeps each day's bad rows
                "t.source_file = s.source_file AND t.line_number = s.line_number AND t.reason = s.reason "
                "AND t.raw = s.raw")
         .whenNotMatchedInsertAll()
         .execute())
    # Counted from the tables after the writes, not derived from each other, so `adds_up` can fail.
    accepted = _landed(spark.table(qualified(database, ACTUALS)), good, ["date", "service", "region", "metric", "ts",
                                                                        "value"])
    quarantined = _landed(spark.table(qualified(database, QUARANTINE)), bad, ["source_file", "line_number", "reason",
                                                                              "raw"])
    return IngestReport(
        ingest_run_id=run_id, source_file=source, format=fmt, rows_read=int(counts["read"]), accepted=accepted,
        inserted=inserted, updated=updated, unchanged=accepted - inserted - updated,
        quarantined=quarantined, identical_duplicates=int(counts["dupes"] or 0), quarantine_reasons=reasons,
    )


def _landed(table: DataFrame, rows: DataFrame, key: list[str]) -> int:
    """How many of `rows` are now in `table` (matched on `key`)."""
    return table.select(*key).join(rows.select(*key).distinct(), on=key, how="inner").count()


def _record(spark: SparkSession, database: str, report: IngestReport) -> None:
    row = {k: v for k, v in asdict(report).items() if k != "quarantine_reasons"}
    status = "succeeded" if report.adds_up() else "counts_mismatch"
    if status != "succeeded":
        log.error("%s: counts do not add up: %s", report.source_file, report.text())
    row.update(started_at=datetime.now(timezone.utc), status=status, code_version=cloudtune.__version__)
    df = spark.createDataFrame([row])
    conform(df, INGEST_RUNS).write.format("delta").mode("append").saveAsTable(qualified(database, INGEST_RUNS))
