"""Live event tracking on Spark: cogroup the event's actuals with the as-of run's forecasts per series, map
`cloudtune.tracking.track_series` over the groups, write event_breaches and event_reports.

The as-of run is the latest succeeded run whose run_date is on or before the event's start date: the forecast
that was in force before the event began. A rerun of a tracking pass replaces the occurrence's rows.
"""
from __future__ import annotations

import logging
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError, shorten
from cloudtune.spark.tables import qualified, replace_partition
from schemas import EVENT_BREACHES, EVENT_REPORTS

log = logging.getLogger(__name__)
KEYS = ["service", "region", "metric"]
_SAFE = re.compile(r"^[A-Za-z0-9_.:*-]{1,100}$")

TRACK_SCHEMA = (
    "record string, service string, region string, metric string, ts timestamp, actual double, mean double, "
    "p90 double, p99 double, severity string, excess double, minutes_expected bigint, minutes_tracked bigint, "
    "actual_peak double, actual_peak_ts timestamp, forecast_peak double, forecast_peak_ts timestamp, "
    "actual_total double, forecast_total double, cumulative_error double, cumulative_error_pct double, "
    "minutes_above_p90 bigint, minutes_above_p99 bigint"
)
_COLUMNS = [p.strip().split(" ")[0] for p in TRACK_SCHEMA.split(",")]


def safe_name(value: str, what: str) -> str:
    """Names that reach a table predicate: letters, digits and _ . : * - only (they also come from the calendar)."""
    if not isinstance(value, str) or not _SAFE.match(value):
        raise InputError(f"{what} {value!r} may hold only letters, digits and _ . : * - (at most 100 characters)")
    return value


def daily_runs(spark: SparkSession, db: str) -> DataFrame:
    """forecast_runs of the daily forecast job (the table may also log other jobs, told apart by `job`)."""
    runs = spark.table(qualified(db, "forecast_runs"))
    if "job" in runs.columns:
        runs = runs.where(F.col("job").isNull() | (F.col("job") == F.lit("daily")))
    return runs


def recent_runs(spark: SparkSession, db: str, limit: int = 8) -> list[str]:
    rows = (daily_runs(spark, db).select("run_id", "run_date", "status")
            .orderBy(F.col("run_date").desc()).limit(limit).collect())
    return [f"{r.run_id} ({r.run_date}, {r.status})" for r in rows]


def as_of_run(spark: SparkSession, db: str, day: date) -> dict:
    """The latest succeeded run with run_date <= day; the error lists recent runs."""
    runs = daily_runs(spark, db)
    row = (runs.where((F.col("status") == F.lit("succeeded")) & (F.col("run_date") <= F.lit(day)))
           .orderBy(F.col("run_date").desc(), F.col("finished_at").desc()).select("run_id", "run_date").first())
    if row is None:
        recent = recent_runs(spark, db)
        raise InputError(f"no succeeded forecast run on or before {day} in {db}.forecast_runs; recent runs: "
                         f"{shorten(recent) or 'none'}. Run `cloudtune forecast --run-date {day}` (or earlier) first")
    return dict(run_id=row.run_id, run_date=row.run_date)


def make_tracker(start: str, end: str, now: str):
    """The cogroup function: (forecast rows, actual rows) of one series -> breach and summary rows."""

    def track_group(fc: pd.DataFrame, act: pd.DataFrame) -> pd.DataFrame:
        from cloudtune.tracking import track_series

        src = fc if len(fc) else act
        key = tuple(str(src[k].iloc[0]) for k in KEYS)
        try:
            breaches, summary = track_series(fc, act.rename(columns={"actual": "value"}), start, end, now, key)
        except Exception as exc:  # re-raised with the series key: never a bare error from an executor
            raise InputError(f"tracking {'/'.join(key)} failed: {type(exc).__name__}: {exc}") from exc
        parts = [breaches.assign(record="breach"), pd.DataFrame([{**summary, "record": "summary"}])]
        wide = pd.concat([p for p in parts if len(p)], ignore_index=True)
        for col in _COLUMNS:
            if col not in wide.columns:
                wide[col] = None
        for col in ("ts", "actual_peak_ts", "forecast_peak_ts"):
            wide[col] = pd.to_datetime(wide[col], utc=True)
        return wide[_COLUMNS]

    return track_group


def track_event(spark: SparkSession, config: PipelineConfig, event: str, region: str | None = None,
                start: str | None = None, now=None, out_dir: str | Path = "reports") -> dict:
    """One tracking pass. Returns event (occurrence dict), run, summary (pandas), breaches count, status,
    report_path (final passes) and the printable text."""
    from cloudtune.events import load_calendar
    from cloudtune.tracking import find_occurrence, format_summary, post_event_markdown

    db = config.database
    safe_name(event, "--event")
    if region is not None:
        safe_name(region, "--region")
    now_ts = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    occ = find_occurrence(load_calendar(config.resolve(config.events_dir)), event, region, start, now_ts)
    regions = [safe_name(r, "region") for r in occ["regions"]]
    run = as_of_run(spark, db, occ["start"].date())
    begin, end = occ["start"], occ["end"]
    upto = min(now_ts, end)
    fc = (spark.table(qualified(db, "forecasts"))
          .where((F.col("run_date") == F.lit(run["run_date"])) & (F.col("run_id") == F.lit(run["run_id"]))
                 & (F.col("level") == F.lit("series")) & F.col("region").isin([F.lit(r) for r in regions])
                 & (F.col("ts") >= F.lit(begin.to_pydatetime())) & (F.col("ts") < F.lit(end.to_pydatetime())))
          .select(*KEYS, "ts", "mean", "p90", "p99", "grain"))
    if fc.limit(1).count() == 0:
        reach = (spark.table(qualified(db, "forecasts")).where(F.col("run_id") == F.lit(run["run_id"]))
                 .agg(F.min("ts"), F.max("ts")).first())
        raise InputError(f"forecast run {run['run_id']} ({run['run_date']}) has no series forecasts for "
                         f"{event} {begin:%Y-%m-%dT%H:%MZ} in {', '.join(regions)}: its forecasts cover "
                         f"{reach[0]} .. {reach[1]}. Lengthen forecast.horizon or run a forecast closer to the event")
    act = (spark.table(qualified(db, "actuals"))
           .where(F.col("region").isin([F.lit(r) for r in regions])
                  & (F.col("date") >= F.lit(begin.date())) & (F.col("date") <= F.lit(end.date()))
                  & (F.col("ts") >= F.lit(begin.to_pydatetime())) & (F.col("ts") < F.lit(upto.to_pydatetime())))
           .select(*KEYS, "ts", F.col("value").alias("actual")))
    grain = fc.select("grain").first()["grain"] if "grain" in fc.columns else None
    tracker = make_tracker(str(begin), str(end), str(upto))
    wide = fc.groupBy(*KEYS).cogroup(act.groupBy(*KEYS)).applyInPandas(tracker, TRACK_SCHEMA).persist()
    try:
        return _write(spark, db, wide, occ, run, now_ts, Path(out_dir), post_event_markdown, format_summary, region,
                      _step(grain))
    finally:
        wide.unpersist()


def _step(grain: str | None) -> str:
    from cloudtune.models.grain import grain_name, parse_grain

    try:
        return grain_name(parse_grain(grain)) if grain else "1min"
    except Exception:  # noqa: BLE001 - an unknown grain label only changes how breach windows are joined
        return "1min"


def _write(spark, db, wide: DataFrame, occ, run, now_ts, out_dir: Path, markdown, fmt, region, step) -> dict:
    tracked_at = datetime.now(timezone.utc)
    tags = dict(event=occ["name"], event_start=occ["start"].to_pydatetime(), forecast_run_id=run["run_id"],
                forecast_run_date=run["run_date"])
    where = {"event": occ["name"], "event_start": f"{occ['start']:%Y-%m-%dT%H:%M:%S}"}
    if region is not None:
        where["region"] = region
    breaches = wide.where(F.col("record") == F.lit("breach"))
    for k, v in {**tags, "tracked_at": tracked_at}.items():
        breaches = breaches.withColumn(k, F.lit(v))
    replace_partition(spark, breaches, db, EVENT_BREACHES, where)
    summary = wide.where(F.col("record") == F.lit("summary")).drop("record").toPandas()
    status = "final" if now_ts >= occ["end"] else "live"
    peaks = _peaks(spark, db, occ, run)
    report_path = None
    if status == "final":
        local = breaches.select(*KEYS, "ts", "actual", "mean", "p90", "p99", "severity", "excess").toPandas()
        text = markdown(occ, run["run_id"], run["run_date"], summary, local, peaks, step=step)
        out_dir.mkdir(parents=True, exist_ok=True)
        suffix = f"-{region}" if region else ""
        report_path = out_dir / f"event-{occ['name']}-{occ['start']:%Y%m%d}{suffix}.md"
        report_path.write_text(text)
    rows = summary.assign(**tags, event_end=occ["end"].to_pydatetime(), status=status,
                          report_path=str(report_path) if report_path else None, tracked_at=tracked_at)
    if peaks is not None and len(peaks):
        rows = rows.merge(peaks[[*KEYS, "peak_p90"]].rename(columns={"peak_p90": "forecast_peak_p90"}),
                          on=KEYS, how="left")
    else:
        rows["forecast_peak_p90"] = None
    from cloudtune.spark.tables import struct_type
    schema = struct_type(EVENT_REPORTS)
    records = [{f.name: _py(r.get(f.name)) for f in schema.fields} for r in rows.to_dict("records")]
    replace_partition(spark, spark.createDataFrame(records, schema), db, EVENT_REPORTS, where)
    n_breaches = int(summary["minutes_above_p90"].sum()) if len(summary) else 0
    return dict(event=occ, run=run, summary=summary, breaches=n_breaches, status=status,
                report_path=report_path, text=fmt(summary, occ, run["run_id"], now_ts))


def _peaks(spark, db, occ, run) -> pd.DataFrame:
    peaks = (spark.table(qualified(db, "event_peaks"))
             .where((F.col("run_date") == F.lit(run["run_date"])) & (F.col("run_id") == F.lit(run["run_id"]))
                    & (F.col("event") == F.lit(occ["name"])) & F.col("day").isNull()
                    & (F.col("event_start") == F.lit(occ["start"].to_pydatetime())))
             .select(*KEYS, "peak_p50", "peak_p90", "peak_p99"))
    return peaks.toPandas()


def _py(v):
    if v is None or (not isinstance(v, (str, bytes, list, dict, tuple)) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime()
    if hasattr(v, "item"):
        return v.item()
    return v
