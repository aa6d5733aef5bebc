"""Rolling-origin backtests on Spark: a thin adapter over `cloudtune.backtest`.

1. Hierarchy nodes: the series, plus totals per (region, metric) and per metric, summed per ts in Spark where every
   child has a value (the rule of `cloudtune.backtest.hierarchy`).
2. groupBy(node).applyInPandas runs `backtest_node` (every origin x model x horizon bucket) and returns fold rows
   holding additive sums.
3. Spark sums those per node and per level; `cloudtune.backtest.summary.finish` turns the sums into metrics, so the
   numbers equal the pandas path's (`backtest_fleet`).
4. The accuracy rows replace the run date's partition; the champion decision per team is made on the driver from
   the series-level node rows (one row per series and model) and replaces its run date too.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from datetime import date, datetime, timezone

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloudtune.backtest.champion import champion_challenger
from cloudtune.backtest.folds import FOLD_COLUMNS, KEYS
from cloudtune.backtest.metrics import METRIC_COLUMNS
from cloudtune.backtest.settings import BacktestSettings
from cloudtune.backtest.summary import ADDITIVE, LEVEL_BY, NODE_BY
from cloudtune.config import PipelineConfig
from cloudtune.errors import InputError
from cloudtune.spark.series_runner import events_records
from cloudtune.spark.tables import qualified, replace_partition, struct_type
from schemas import ACCURACY, CHAMPION_DECISIONS

log = logging.getLogger(__name__)

_TYPES = {"origin": "timestamp"}
_STRINGS = {*KEYS, "level", "model", "answered_by", "status", "reason", "horizon_bucket", "scope"}


def _type(col: str) -> str:
    if col in _TYPES:
        return _TYPES[col]
    if col in _STRINGS:
        return "string"
    if col in METRIC_COLUMNS or col.endswith("_sum"):
        return "double"
    return "bigint"  # counts: points, windows, peak_days, ...


ROW_COLUMNS = [*FOLD_COLUMNS, "nodes", "scope", *METRIC_COLUMNS]
FOLD_SCHEMA = ", ".join(f"`{c}` {_type(c)}" for c in [*FOLD_COLUMNS, *METRIC_COLUMNS])
ROW_SCHEMA = ", ".join(f"`{c}` {_type(c)}" for c in ROW_COLUMNS)


def _typed(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = df.reindex(columns=columns)
    for c in columns:
        t = _type(c)
        if t == "bigint":
            out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
        elif t == "double":
            out[c] = pd.to_numeric(out[c]).astype(float)
        elif t == "timestamp":
            out[c] = pd.to_datetime(out[c], utc=True)
        else:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def make_backtest_runner(settings: dict, model: dict, events: list[dict]):
    """The applyInPandas function; it closes over plain dicts and lists only."""

    def run_group(rows: pd.DataFrame) -> pd.DataFrame:
        from cloudtune.backtest.folds import backtest_node
        from cloudtune.backtest.run import node_events
        from cloudtune.config.strict import from_dict
        from cloudtune.events import normalize_events
        from cloudtune.models.settings import ModelSettings

        key = tuple(str(rows[k].iloc[0]) for k in KEYS)
        level = str(rows["level"].iloc[0])
        calendar = normalize_events(pd.DataFrame(events)) if events else None
        folds = backtest_node(rows[["ts", "value"]], key, level, from_dict(BacktestSettings, settings),
                              from_dict(ModelSettings, model), node_events(calendar, key[1]))
        return _typed(folds, [*FOLD_COLUMNS, *METRIC_COLUMNS])

    return run_group


def _finisher(scope: str):
    def finish_batches(batches):
        from cloudtune.backtest.summary import finish

        for sums in batches:
            yield _typed(finish(sums, scope), ROW_COLUMNS)

    return finish_batches


def hierarchy_nodes(actuals: DataFrame, levels) -> DataFrame:
    """Series rows plus region and global totals, with a level column (see cloudtune.backtest.hierarchy)."""
    parts = [actuals.select(*KEYS, F.lit("series").alias("level"), "ts", "value")]
    if "region" in levels:
        parts.append(_total(actuals, ["region", "metric"], "region"))
    if "global" in levels:
        multi = actuals.groupBy("metric").agg(F.countDistinct("region").alias("regions")).where("regions > 1")
        parts.append(_total(actuals.join(multi.select("metric"), "metric", "left_semi"), ["metric"], "global"))
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out


def _total(actuals: DataFrame, by: list[str], level: str) -> DataFrame:
    children = actuals.select(*KEYS).distinct().groupBy(*by).agg(F.count(F.lit(1)).alias("children"))
    sums = actuals.groupBy(*by, "ts").agg(F.sum("value").alias("value"), F.count("value").alias("present"))
    out = sums.join(children, by).where((F.col("children") > 1) & (F.col("present") == F.col("children")))
    for k in KEYS:
        if k not in by:
            out = out.withColumn(k, F.lit("*"))
    return out.select(*KEYS, F.lit(level).alias("level"), "ts", "value")


def _history_since(settings: BacktestSettings, latest: date) -> date:
    """The oldest actuals date any fold can read: first origin - history_days."""
    if settings.cutoff_dates:
        first = min(pd.Timestamp(d) for d in settings.cutoff_dates).tz_localize(None)
    else:
        first = pd.Timestamp(latest) + pd.Timedelta("1d") - pd.Timedelta(settings.horizon) \
            - settings.cutoffs * pd.Timedelta(settings.step)
    return (first - pd.Timedelta(days=settings.history_days + 1)).date()


def teams_of(config: PipelineConfig) -> dict[str, list[str]]:
    return {name: list(team.services) for name, team in config.outliers.teams.items()}


def run_backtest(spark: SparkSession, config: PipelineConfig, settings: BacktestSettings,
                 run_date: date | None = None, events: list[dict] | None = None) -> dict:
    """Backtest every series of `config.database`.actuals before `run_date` (and its totals); write the accuracy
    and champion_decisions rows of the run date. `events`: calendar records (default: the config's events_dir).
    Returns run_id, run_date, the level-scope rows and the decisions as pandas DataFrames."""
    run_date = run_date or datetime.now(timezone.utc).date()
    run_id = f"backtest-{run_date:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    db = config.database
    actuals = spark.table(qualified(db, "actuals")).where(F.col("date") < F.lit(run_date))
    latest = actuals.agg(F.max("date")).first()[0]
    if latest is None:
        raise InputError(f"{db}.actuals has no rows before {run_date}: ingest actuals first "
                         f"(cloudtune ingest --source FILE) or pass a later --run-date")
    history = actuals.where(F.col("date") >= F.lit(_history_since(settings, latest)))
    history = history.select(*KEYS, "ts", "value")
    nodes = hierarchy_nodes(history, settings.levels)
    runner = make_backtest_runner(asdict(settings), asdict(config.model),
                                  events if events is not None else events_records(config))
    folds = nodes.groupBy(*KEYS, "level").applyInPandas(runner, FOLD_SCHEMA).persist()
    try:
        rows, node_rows, level_rows = _scopes(folds)
        stamped = (rows.withColumn("horizon", F.lit(settings.horizon)).withColumn("run_id", F.lit(run_id))
                   .withColumn("run_date", F.lit(run_date)))
        replace_partition(spark, stamped, db, ACCURACY, {"run_date": run_date})
        series_nodes = node_rows.where((F.col("level") == "series") & (F.col("horizon_bucket") == "all")).toPandas()
        decisions = champion_challenger(series_nodes, settings, config.model, teams_of(config) or None)
        _write_decisions(spark, db, decisions, run_id, run_date)
        levels = level_rows.toPandas()
    finally:
        folds.unpersist()
    return dict(run_id=run_id, run_date=run_date, levels=levels, champions=decisions,
                series=int(series_nodes[KEYS].drop_duplicates().shape[0]))


def _scopes(folds: DataFrame) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(all rows, node rows, level rows): Spark sums the additive columns; `finish` computes the metrics."""
    sums = [F.sum(c).alias(c) for c in ADDITIVE if c != "nodes"]
    node_sums = folds.groupBy(*NODE_BY).agg(*sums).withColumn("nodes", F.lit(1).cast("bigint"))
    node_rows = node_sums.mapInPandas(_finisher("node"), ROW_SCHEMA)
    level_sums = node_sums.groupBy(*LEVEL_BY).agg(*[F.sum(c).alias(c) for c in ADDITIVE])
    level_rows = level_sums.mapInPandas(_finisher("level"), ROW_SCHEMA)
    fold_rows = folds.withColumn("nodes", F.lit(1).cast("bigint")).withColumn("scope", F.lit("fold"))
    all_rows = fold_rows.select(*ROW_COLUMNS).unionByName(node_rows).unionByName(level_rows)
    return all_rows, node_rows, level_rows


def _write_decisions(spark: SparkSession, db: str, decisions: pd.DataFrame, run_id: str, run_date: date) -> None:
    schema = struct_type(CHAMPION_DECISIONS)
    frame = decisions.assign(run_id=run_id, run_date=run_date)
    records = [{f.name: _plain(r.get(f.name)) for f in schema.fields} for r in frame.to_dict("records")]
    replace_partition(spark, spark.createDataFrame(records, schema), db, CHAMPION_DECISIONS, {"run_date": run_date})


def _plain(v):
    """numpy scalars and NaN -> Python values Spark's createDataFrame accepts."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v.item() if hasattr(v, "item") else v

