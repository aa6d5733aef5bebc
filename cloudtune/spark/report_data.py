"""Read what the run report and `cloudtune explain` need from the Delta tables, small and on the driver.

Everything is filtered with DataFrame predicates on validated values (never SQL text from the user), aggregated
to hourly means in Spark, and only then collected.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError, shorten
from cloudtune.spark.tables import qualified
from cloudtune.spark.tracking import daily_runs, recent_runs, safe_name

log = logging.getLogger(__name__)
KEYS = ["service", "region", "metric"]


def parse_series(text: str) -> tuple[str, str, str]:
    parts = text.split("/") if isinstance(text, str) else []
    if len(parts) != 3 or not all(parts):
        raise InputError(f"--series must be service/region/metric, e.g. checkout/us/requests; got {text!r}")
    return tuple(safe_name(p, "--series part") for p in parts)


def get_run(spark: SparkSession, db: str, run_id: str) -> dict:
    """The forecast_runs row of run_id; the error lists recent runs."""
    safe_name(run_id, "run id")
    row = daily_runs(spark, db).where(F.col("run_id") == F.lit(run_id)).first()
    if row is None:
        raise InputError(f"unknown run id {run_id!r} in {db}.forecast_runs; recent runs: "
                         f"{shorten(recent_runs(spark, db)) or 'none (run cloudtune forecast first)'}")
    return row.asDict()


def previous_run(spark: SparkSession, db: str, run: dict) -> dict | None:
    """The latest succeeded run dated before `run`."""
    row = (daily_runs(spark, db).where((F.col("status") == F.lit("succeeded"))
                                       & (F.col("run_date") < F.lit(run["run_date"])))
           .orderBy(F.col("run_date").desc()).first())
    return row.asDict() if row is not None else None


def _run_rows(spark, db, table: str, run: dict) -> DataFrame:
    return spark.table(qualified(db, table)).where(
        (F.col("run_date") == F.lit(run["run_date"])) & (F.col("run_id") == F.lit(run["run_id"])))


def _key_filter(keys: list[tuple]):
    cond = F.lit(False)
    for s, r, m in keys:
        cond = cond | ((F.col("service") == F.lit(s)) & (F.col("region") == F.lit(r)) & (F.col("metric") == F.lit(m)))
    return cond


def known_series(spark, db, run: dict, limit: int = 8) -> list[str]:
    rows = (_run_rows(spark, db, "forecasts", run).where(F.col("level") == F.lit("series")).select(*KEYS)
            .distinct().orderBy(*KEYS).limit(limit + 1).collect())
    return ["/".join(r) for r in rows]


def check_series(spark, db, run: dict, keys: list[tuple]) -> None:
    if not keys:
        return
    have = {tuple(r) for r in _run_rows(spark, db, "forecasts", run).where(_key_filter(keys))
            .select(*KEYS).distinct().collect()}
    missing = ["/".join(k) for k in keys if k not in have]
    if missing:
        raise InputError(f"run {run['run_id']} has no forecasts for {', '.join(missing)}; series in it include "
                         f"{shorten(known_series(spark, db, run))}")


def check_regions(spark, db, run: dict, regions: list[str]) -> None:
    if not regions:
        return
    for r in regions:
        safe_name(r, "--region")
    have = {r[0] for r in _run_rows(spark, db, "forecasts", run).select("region").distinct().collect()}
    missing = [r for r in regions if r not in have]
    if missing:
        raise InputError(f"run {run['run_id']} has no forecasts in region(s) {', '.join(missing)}; its regions: "
                         f"{', '.join(sorted(have))}")


def _hourly(df: DataFrame, value_cols: list[str]) -> DataFrame:
    return (df.withColumn("ts", F.date_trunc("hour", F.col("ts"))).groupBy("ts")
            .agg(*[F.avg(c).alias(c) for c in value_cols]).orderBy("ts"))


def plot_data(spark, config: PipelineConfig, run: dict, keys: list[tuple], regions: list[str],
              days_before: int = 7, days_after: int = 7) -> list:
    from cloudtune.report import PlotData

    db = config.database
    start = datetime.combine(run["run_date"], datetime.min.time(), tzinfo=timezone.utc)
    lo, hi = pd.Timestamp(start) - pd.Timedelta(days=days_before), pd.Timestamp(start) + pd.Timedelta(days=days_after)
    window = (F.col("ts") >= F.lit(lo.to_pydatetime())) & (F.col("ts") < F.lit(hi.to_pydatetime()))
    dates = (F.col("date") >= F.lit(lo.date())) & (F.col("date") <= F.lit(hi.date()))
    acts = spark.table(qualified(db, "actuals")).where(dates & window)
    fc = _run_rows(spark, db, "forecasts", run).where(window)
    comps = _run_rows(spark, db, "forecast_components", run)
    qcols = [c for c in ("mean", "p50", "p90", "p99") if c in fc.columns]
    plots = []
    for k in keys:
        one = (F.col("service") == F.lit(k[0])) & (F.col("region") == F.lit(k[1])) & (F.col("metric") == F.lit(k[2]))
        a = _hourly(acts.where(one), ["value"]).toPandas()
        f = _hourly(fc.where(one & (F.col("level") == F.lit("series"))), qcols).toPandas()
        c = (comps.where(one).groupBy("ts", "component").agg(F.avg("value").alias("value"))
             .orderBy("component", "ts").toPandas())
        plots.append(PlotData("/".join(k), a, f, c))
    for region in regions:
        inr = F.col("region") == F.lit(region)
        metrics = [r[0] for r in fc.where(inr).select("metric").distinct().orderBy("metric").collect()]
        for metric in metrics:
            sel = inr & (F.col("metric") == F.lit(metric))
            a = (acts.where(sel).groupBy("ts").agg(F.sum("value").alias("value")))
            a = _hourly(a, ["value"]).toPandas()
            own = fc.where(sel & (F.col("level") == F.lit("region")))
            note = ""
            if own.limit(1).count():
                f = _hourly(own, qcols).toPandas()
            else:
                summed = fc.where(sel & (F.col("level") == F.lit("series"))).groupBy("ts").agg(F.sum("mean").alias("mean"))
                f = _hourly(summed, ["mean"]).toPandas()
                note = ("No region-level forecast in this run: the line is the sum of the series' means; the sum of "
                        "their quantiles is not the region's quantile, so no interval is drawn.")
            plots.append(PlotData(f"{region} / {metric} (region total)", a, f, pd.DataFrame(), note))
    return plots


def reconciliation_check(spark, db, run: dict) -> tuple[pd.DataFrame, list[str]]:
    """Per aggregate forecast (level region: service '*'; level global: service and region '*'): the largest gap
    per timestamp between its mean and the sum of its children's means (series for a region; regions, or the
    series when the run has no region level, for global)."""
    fc = _run_rows(spark, db, "forecasts", run)
    levels = [r[0] for r in fc.select("level").distinct().collect()]
    out = []
    children_of = {"region": ("series", ["region", "metric"])}
    children_of["global"] = ("region" if "region" in levels else "series", ["metric"])
    for level, (child, by) in children_of.items():
        if level not in levels:
            continue
        kids = fc.where(F.col("level") == F.lit(child)).groupBy(*by, "ts").agg(
            F.sum("mean").alias("children"), F.count(F.lit(1)).alias("n_children"))
        parent = fc.where(F.col("level") == F.lit(level)).select(*KEYS, "ts", "mean")
        joined = parent.join(kids, on=[*by, "ts"], how="inner").withColumn("gap", F.abs(F.col("mean") - F.col("children")))
        agg = joined.groupBy(*KEYS).agg(
            F.count(F.lit(1)).alias("timestamps"), F.max("n_children").alias("children"),
            F.max("gap").alias("max_abs_diff"),
            F.max(F.col("gap") / F.greatest(F.abs(F.col("mean")), F.lit(1e-12))).alias("max_rel_diff"))
        out.append(agg.withColumn("level", F.lit(level)).toPandas())
    frame = pd.concat(out, ignore_index=True) if out else pd.DataFrame()
    if len(frame):
        frame = frame[["level", *KEYS, "timestamps", "children", "max_abs_diff", "max_rel_diff"]]
    return frame, sorted(levels)


def accuracy_rows(spark, db, run: dict) -> tuple[pd.DataFrame, str]:
    """The accuracy rows of this run; else of the latest run dated on or before it that has some (said so)."""
    acc = spark.table(qualified(db, "accuracy"))
    mine = acc.where((F.col("run_date") == F.lit(run["run_date"])) & (F.col("run_id") == F.lit(run["run_id"])))
    if mine.limit(1).count():
        return mine.toPandas(), ""
    latest = acc.where(F.col("run_date") <= F.lit(run["run_date"])).agg(F.max("run_date")).first()[0]
    if latest is None:
        return pd.DataFrame(), ""
    rows = acc.where(F.col("run_date") == F.lit(latest))
    ids = sorted({r[0] for r in rows.select("run_id").distinct().collect()})
    return rows.toPandas(), (f"No accuracy rows carry this run's id; showing the latest on or before it: "
                             f"{', '.join(ids)} ({latest}).")


def explain_inputs(spark, config: PipelineConfig, run_a: dict, run_b: dict, keys: list[tuple]) -> list:
    """SeriesInput per key: the actuals each run saw (before its run date, its history window) and its flags."""
    from cloudtune.explain import SeriesInput

    db = config.database
    days = config.forecast.history_days
    out = {}
    frames = {}
    for tag, run in (("a", run_a), ("b", run_b)):
        acts = spark.table(qualified(db, "actuals")).where(_key_filter(keys) & (F.col("date") < F.lit(run["run_date"])))
        latest = acts.agg(F.max("date")).first()[0]
        if latest is None:
            raise InputError(f"no actuals before {run['run_date']} (run {run['run_id']}) for "
                             f"{shorten('/'.join(k) for k in keys)}")
        since = pd.Timestamp(latest) - pd.Timedelta(days=days - 1)
        hist = acts.where(F.col("date") >= F.lit(since.date())).select(*KEYS, "ts", "value").toPandas()
        flags = _run_rows(spark, db, "outlier_flags", run).where(_key_filter(keys)).select(
            *KEYS, "start", "end", "reason").toPandas()
        frames[tag] = (hist, flags)
    for k in keys:
        def pick(frame):
            sel = (frame["service"] == k[0]) & (frame["region"] == k[1]) & (frame["metric"] == k[2])
            return frame[sel].drop(columns=KEYS).reset_index(drop=True)
        ha, fa = (pick(x) for x in frames["a"])
        hb, fb = (pick(x) for x in frames["b"])
        if len(ha) == 0 or len(hb) == 0:
            raise InputError(f"{'/'.join(k)}: no actuals as of run {run_a['run_id'] if len(ha) == 0 else run_b['run_id']}")
        out[k] = SeriesInput(k, ha.sort_values("ts"), hb.sort_values("ts"), fa, fb)
    return [out[k] for k in keys]


def published_quantity(spark, db, run: dict, keys: list[tuple], start, end, quantity: str) -> dict | None:
    """The quantity as the forecasts table holds it for `run` (series level, summed over keys): `mean` from the
    published means, `base` from base_mean (the models' own, before reconciliation; None when absent). None when
    the run's forecasts do not cover the window."""
    fc = _run_rows(spark, db, "forecasts", run).where(
        _key_filter(keys) & (F.col("level") == F.lit("series"))
        & (F.col("ts") >= F.lit(pd.Timestamp(start).to_pydatetime()))
        & (F.col("ts") < F.lit(pd.Timestamp(end).to_pydatetime())))
    base = F.col("base_mean") if "base_mean" in fc.columns else F.lit(None).cast("double")
    per_ts = fc.groupBy("ts").agg(F.sum("mean").alias("mean"), F.sum(base).alias("base"),
                                  F.count(base).alias("n_base"), F.count(F.lit(1)).alias("n"))
    stats = per_ts.agg(F.count(F.lit(1)).alias("steps"), F.min("n").alias("n"), F.min("n_base").alias("n_base"),
                       F.sum("mean").alias("total"), F.max("mean").alias("peak"), F.sum("base").alias("base_total"),
                       F.max("base").alias("base_peak"), F.max("ts").alias("last")).first()
    if not stats["steps"] or stats["n"] < len(keys):
        return None
    step = (pd.Timestamp(end) - pd.Timestamp(start)) / stats["steps"]
    if pd.Timestamp(stats["last"]).tz_localize("UTC") + step < pd.Timestamp(end) - pd.Timedelta("1h"):
        return None  # the run's horizon ends inside the window
    total = quantity == "total_4w"
    has_base = stats["n_base"] is not None and stats["n_base"] >= len(keys)
    return dict(mean=float(stats["total"] if total else stats["peak"]),
                base=float(stats["base_total"] if total else stats["base_peak"]) if has_base else None)


def explain_runs(spark, config: PipelineConfig, run_a: dict, run_b: dict, keys: list[tuple], label: str,
                 quantity: str = "total_4w", event: str | None = None):
    """The change explanation of `quantity` from run_b to run_a over keys (one series, or a region's series),
    accounted to the published forecasts when both runs cover the window."""
    from cloudtune.events import events_for_region, load_calendar
    from cloudtune.explain import add_published, explain_change

    regions = sorted({k[1] for k in keys})
    calendar = load_calendar(config.resolve(config.events_dir))
    events = events_for_region(calendar, regions[0]) if len(regions) == 1 else None
    inputs = explain_inputs(spark, config, run_a, run_b, keys)
    anchor = pd.Timestamp(run_a["run_date"], tz="UTC")
    exp = explain_change(inputs, config.model, events, anchor, quantity, event, label,
                         run_a=run_a["run_id"], run_b=run_b["run_id"])
    pub = [published_quantity(spark, config.database, r, keys, *exp.window, quantity) for r in (run_a, run_b)]
    if all(p is not None for p in pub):
        # The refits are deterministic: account for the published numbers without fitting again.
        bases = (pub[0]["base"], pub[1]["base"])
        exp.value_a, exp.value_b = add_published(exp.parts, exp.total, (pub[0]["mean"], pub[1]["mean"]),
                                                 bases if None not in bases else None, exp.notes)
        exp.check()
    else:
        exp.notes.append("the published forecasts do not cover the whole window in both runs: the numbers are "
                         "the refits'")
    return exp


def series_in_region(spark, db, run: dict, region: str, metric: str | None = None) -> list[tuple]:
    fc = _run_rows(spark, db, "forecasts", run).where((F.col("level") == F.lit("series"))
                                                     & (F.col("region") == F.lit(safe_name(region, "--region"))))
    if metric is not None:
        fc = fc.where(F.col("metric") == F.lit(safe_name(metric, "--metric")))
    return [tuple(r) for r in fc.select(*KEYS).distinct().orderBy(*KEYS).collect()]


def default_series(spark, db, run: dict, n: int = 2) -> list[tuple]:
    """The run's busiest series (largest mean forecast), for a report asked for without --series."""
    rows = (_run_rows(spark, db, "forecasts", run).where(F.col("level") == F.lit("series"))
            .groupBy(*KEYS).agg(F.avg("mean").alias("m")).orderBy(F.col("m").desc()).limit(n).collect())
    return [tuple(r[k] for k in KEYS) for r in rows]


def load_report_data(spark, config: PipelineConfig, run_id: str, keys: list[tuple] | None = None,
                     regions: list[str] | None = None, days_before: int = 7, days_after: int = 7,
                     explain: bool = True, quantity: str = "total_4w"):
    """Everything the report shows for run_id, as a ReportData."""
    from cloudtune.report import ReportData

    db = config.database
    run = get_run(spark, db, run_id)
    keys = list(keys or []) or default_series(spark, db, run)
    regions = list(regions or [])
    check_series(spark, db, run, keys)
    check_regions(spark, db, run, regions)
    prev = previous_run(spark, db, run)
    peaks = _run_rows(spark, db, "event_peaks", run).where(F.col("day").isNull()).drop("run_id", "run_date").toPandas()
    flags = _run_rows(spark, db, "outlier_flags", run).drop("run_id", "run_date").toPandas()
    accuracy, acc_note = accuracy_rows(spark, db, run)
    recon, levels = reconciliation_check(spark, db, run)
    explanations = []
    if explain and prev is not None:
        targets = [(k, "/".join(k)) for k in keys] + [(None, r) for r in regions]
        for key, label in targets:
            ks = [key] if key is not None else series_in_region(spark, db, run, label)
            try:
                explanations.append(explain_runs(spark, config, run, prev, ks, label, quantity))
            except InputError as exc:
                explanations.append(f"{label}: no explanation: {exc}")
    return ReportData(run=run, previous_run=prev, plots=plot_data(spark, config, run, keys, regions, days_before,
                                                                 days_after),
                      peaks=peaks, accuracy=accuracy, accuracy_note=acc_note, flags=flags, reconciliation=recon,
                      levels=levels, explanations=explanations,
                      generated_at=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")


__all__ = ["accuracy_rows", "explain_runs", "get_run", "load_report_data", "parse_series", "previous_run",
           "reconciliation_check", "series_in_region"]
