"""Test helper: write real forecast runs into a test database without the Spark forecast job.

Each run goes through the pure engine (`cloudtune.pipeline.run_series`) on the actuals before its run date, and
its outputs are written to forecast_runs, forecasts, forecast_components, outlier_flags and event_peaks with
`replace_partition`. Columns a table has and the engine does not give are left null, so the tests keep working
while the forecast job and its tables grow.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
from pyspark.sql import functions as F

from cloudtune.events import events_for_region, load_calendar
from cloudtune.pipeline import run_series
from cloudtune.spark.tables import replace_partition, struct_type
from schemas import ALL_TABLES

KEYS = ["service", "region", "metric"]


def write_run(spark, config, actuals: pd.DataFrame, run_date: date, run_id: str, repo) -> dict:
    calendar = load_calendar(repo / "conf" / "events")
    cut = pd.Timestamp(run_date, tz="UTC")
    hist = actuals[(actuals.ts < cut) & (actuals.ts >= cut - pd.Timedelta(days=config.forecast.history_days))]
    out = {name: [] for name in ("forecasts", "forecast_components", "outlier_flags", "event_peaks")}
    for key, rows in hist.groupby(KEYS):
        res = run_series(rows, key, config.forecast, config.model, config.outliers, events_for_region(calendar, key[1]))
        tag = dict(zip(KEYS, key))
        out["forecasts"].append(res.forecast.assign(**tag, level="series", model=res.report.get("model"),
                                                    base_mean=res.forecast["mean"]))
        if len(res.components):
            out["forecast_components"].append(res.components.assign(**tag))
        if len(res.flags):
            out["outlier_flags"].append(res.flags.assign(**tag))
        if len(res.peaks):
            out["event_peaks"].append(res.peaks.assign(**tag))
    for name, parts in out.items():
        if parts:
            _write(spark, config.database, name, pd.concat(parts, ignore_index=True), run_id, run_date)
    now = datetime.now(timezone.utc)
    record = dict(run_id=run_id, run_date=run_date, job="daily", started_at=now, finished_at=now, status="succeeded",
                  series=int(hist.groupby(KEYS).ngroups))
    _write(spark, config.database, "forecast_runs", pd.DataFrame([record]), run_id, run_date)
    return record


def _write(spark, db, name, frame: pd.DataFrame, run_id, run_date):
    table = ALL_TABLES[name]
    frame = frame.assign(run_id=run_id, run_date=run_date)
    for col in table.column_names:
        if col not in frame.columns:
            frame[col] = None
    records = [{k: _py(v) for k, v in r.items()} for r in frame[table.column_names].to_dict("records")]
    df = spark.createDataFrame(records, struct_type(table))
    replace_partition(spark, df.withColumn("run_date", F.lit(run_date)), db, table, {"run_date": run_date})


def _py(v):
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, pd.Timedelta):
        return str(v)
    if v is None or (not isinstance(v, (str, bytes, list, dict, tuple, date)) and pd.isna(v)):
        return None
    return v.item() if hasattr(v, "item") else v
