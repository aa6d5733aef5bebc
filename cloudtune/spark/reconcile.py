"""Hierarchical reconciliation on Spark: the pure `cloudtune.reconcile` mapped over (metric, grain, time block).

The driver only sees small things: the distinct node keys (one row per node), one residual summary per hierarchy
(its shrunk covariance, computed in an executor from that metric's residuals), and for top_down each series'
historical mean. From them it builds S and P once per metric (or per metric and region) and closes the group
function over those plain lists; each group then only does matrix products. Forecast rows never reach the driver.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

from cloudtune.errors import CloudTuneError, InputError, shorten
from cloudtune.reconcile.hierarchy import ALL, BOTTOM, KEY, LEVELS, NODE_COLUMNS, PARTITIONS, SUM_ORDER_SLACK, \
    build_hierarchies, check_levels, check_nodes
from cloudtune.reconcile.projection import fit_projection
from cloudtune.reconcile.quantiles import quantile_columns
from cloudtune.reconcile.residuals import RESIDUAL_COLUMNS, ResidualSummary, summarize_residuals
from cloudtune.reconcile.settings import ReconcileSettings
from cloudtune.spark.session import balanced_keys, stage_tasks

log = logging.getLogger(__name__)

BASE_COLUMNS = NODE_COLUMNS + ["grain", "ts", "mean"]
ADDED = ("base_mean", "reconciliation")
_BLOCK = "_reconcile_block"
_SLOT = "_reconcile_slot"  # a packed block's place among the tasks (block_slots)
_START = "_reconcile_start"  # a packed block's start, UTC microseconds (what block_slots joins on)


def reconcile_spark(spark: SparkSession, base_forecasts: DataFrame, residuals: DataFrame | None,
                    settings: ReconcileSettings, history: DataFrame | None = None) -> tuple[DataFrame, dict]:
    """Reconciled forecasts of every level, and per hierarchy what was done.

    base_forecasts: service, region, metric, level, grain, ts, mean and pNN columns (others pass through; existing
        base_mean / reconciliation columns are replaced), one row per node, grain and ts, for every node of every
        configured level. It is read twice (a per-node summary, then the rows): persist it if it is expensive.
        Or packed (cloudtune.reconcile.packed): mean, pNN (and any other value column) arrays, one row per node,
        grain and block starting at `ts`, the blocks the same for every node; the result is long rows either way.
    residuals: service, region, metric, level, ts, residual (actual - fitted) for the nodes of every level, at one
        common grain over a common window (e.g. hourly in-sample one-step residuals of the last 28 days); a node
        may lack some hours (the covariance is pairwise). None: no MinT (fallback) and comonotone parent quantiles.
    history: bottom-level actuals (service, region, metric, ts, value), needed only for top_down.
    Returns (DataFrame with the input columns plus base_mean and reconciliation, info keyed by metric).
    """
    _require(base_forecasts, BASE_COLUMNS, "base_forecasts")
    qcols = quantile_columns(base_forecasts.columns)
    unit_cols = PARTITIONS[settings.partition]
    packed = isinstance(base_forecasts.schema["mean"].dataType, ArrayType)
    stats = node_stats(base_forecasts, packed)
    if stats.empty:
        raise InputError("base_forecasts is empty: nothing to reconcile")
    for col in [*NODE_COLUMNS, "grain"]:
        if stats[col].isna().any():
            raise InputError(f"base_forecasts have rows with a null {col}; every row needs service, region, metric "
                             "('*' at an aggregate level), level and grain")
    _check_alignment(stats, unit_cols)
    nodes = stats[NODE_COLUMNS].drop_duplicates()
    hierarchies = build_hierarchies(nodes, settings.levels, settings.partition)
    check_nodes(nodes, hierarchies, settings.levels)
    summaries = _residual_summaries(spark, residuals, hierarchies, unit_cols, settings.min_residuals)
    means = _series_means(history) if settings.method == "top_down" and history is not None else None
    fitted = {}
    for unit, hierarchy in hierarchies.items():  # one per metric (or metric and region), never one per series
        summary = None
        if residuals is not None:  # a hierarchy with no residual rows at all gets the same reason as in pandas
            summary = summaries.get(unit) or summarize_residuals(None, hierarchy, settings.min_residuals)
        fitted[unit] = hierarchy, fit_projection(hierarchy, settings, summary, means)
    info = {h.label: {**p.info(), "nodes": len(h.nodes), "series": h.n_bottom} for h, p in fitted.values()}
    for label, item in info.items():
        log.info("reconcile %s: %s (%s)", label, item["method"], item["reason"])

    base = base_forecasts.drop(*[c for c in ADDED if c in base_forecasts.columns])
    for col in ["mean", *qcols]:
        base = base.withColumn(col, F.col(col).cast("array<double>" if packed else "double"))
    long_fields = [StructField(f.name, DoubleType()) if isinstance(f.dataType, ArrayType) else f
                   for f in base.schema.fields]
    schema = StructType([*long_fields, StructField("base_mean", DoubleType()),
                         StructField("reconciliation", StringType())])
    # S, P and the correlation grow with the square of a metric's series: broadcast once, not pickled per task.
    fitted_handle = spark.sparkContext.broadcast(fitted)
    if packed:  # each packed row already holds one block: group by where it starts
        spread = slotted(spark, base, stats, unit_cols)
        runner = make_packed_reconciler(fitted_handle, unit_cols, to_arrow_schema(schema))
        # Grouping by the slot too keeps the groups where the slots put them: no second shuffle by the keys.
        return spread.groupBy(_SLOT, *unit_cols, "grain", "ts").applyInArrow(runner, schema), info
    runner = make_block_reconciler(fitted_handle, unit_cols, schema.fieldNames())
    seconds = block_seconds(stats, settings, unit_cols)
    log.info("reconcile in blocks of %s", pd.Timedelta(seconds=seconds))
    blocked = base.withColumn(_BLOCK, F.floor(F.col("ts").cast("long") / F.lit(seconds)))
    out = blocked.groupBy(*unit_cols, "grain", _BLOCK).applyInPandas(runner, schema)
    return out, info


def aggregate_levels_spark(actuals: DataFrame, levels, include_bottom: bool = True,
                           min_share: float = 0.99, days: DataFrame | None = None,
                           cached: list | None = None) -> DataFrame:
    """Spark twin of cloudtune.reconcile.aggregate_levels: actuals of every configured level, summed per ts, each
    total kept only where its reporting series carry `min_share` of its volume that day (the same rule).

    Returns service, region, metric, level, ts, value ('*' for dropped keys); group it by node (the forecast job
    numbers them: series_runner.node_table) to fit a base model for every node in the same grouped map as the
    series. `days`: `series_days(actuals)` when the caller has it already (persisted, it saves a scan of the
    actuals). `cached`: a list to which the per-level sums (totals x timestamps rows: small) are added persisted,
    for the caller to unpersist after its action; a level that a coarser one sums again is then computed once.
    Without it, Spark scans the actuals again for the coarser level: the two uses push different filters into the
    plan, so their shuffle is not reused.
    """
    _require(actuals, KEY + ["ts", "value"], "actuals")
    columns = [*NODE_COLUMNS, "ts", "value"]
    parts = []
    ordered = check_levels(levels)
    sums: dict[str, DataFrame] = {}
    weighted = day_means = None

    def level_sums(level: str) -> DataFrame:
        """Per total and ts: value, the day means of the series present (_present) and the day; before the
        completeness rule. A level inside a finer configured total (global in region) sums that total's rows,
        not every series' again: one scan of the actuals fewer, the same sums up to rounding."""
        if level not in sums:
            by = ["metric", *LEVELS[level]]
            finer = [lv for lv in ordered if lv != BOTTOM and set(LEVELS[level]) < set(LEVELS[lv])]
            source = level_sums(finer[-1]) if finer else weighted
            # _day is a key (ts decides it), not first(_day), a nondeterministic aggregate.
            sums[level] = source.groupBy(*by, "ts", "_day").agg(
                F.sum("value").alias("value"), F.sum("_present" if finer else "_day_mean").alias("_present"))
            if cached is not None:
                cached.append(sums[level].persist())
        return sums[level]

    for level in ordered:  # a handful of levels, each one aggregation
        kept = list(LEVELS[level])
        if level == BOTTOM:
            if include_bottom:
                parts.append(actuals.withColumn("level", F.lit(BOTTOM)).select(*columns))
            continue
        if weighted is None:
            weighted, day_means = _with_day_means(actuals, days)
        by = ["metric", *kept]
        agg = level_sums(level)
        expected = day_means.groupBy(*by, "_day").agg(F.sum("_day_mean").alias("_expected"))
        agg = (agg.join(F.broadcast(expected), [*by, "_day"])  # one row per total and day: small
               .where(F.col("_present") >= F.lit(float(min_share) * SUM_ORDER_SLACK) * F.col("_expected")))
        for col in ("service", "region"):
            if col not in kept:
                agg = agg.withColumn(col, F.lit(ALL))
        parts.append(agg.withColumn("level", F.lit(level)).select(*columns))
    if not parts:
        raise InputError("aggregate_levels_spark: no level to return (only 'series' and include_bottom=False)")
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def series_days(actuals: DataFrame) -> DataFrame:
    """One row per series and UTC day with rows: its keys, _day and _day_mean, the mean absolute value (null on a
    day of missing values only). Series x days rows (30,000 for a thousand series over a month): the weights of
    the totals' completeness rule, and the series keys, from one scan of the actuals."""
    return (actuals.withColumn("_day", F.to_date(F.col("ts"))).groupBy(*KEY, "_day")
            .agg(F.avg(F.abs("value")).alias("_day_mean")))


def _with_day_means(actuals: DataFrame, days: DataFrame | None = None) -> tuple[DataFrame, DataFrame]:
    """(the rows with a value, each with its series' mean absolute value that day; the `series_days`). The day
    means go back onto the rows by a broadcast join rather than a shuffle of every row."""
    rows = actuals.select(*KEY, "ts", "value").where(F.col("value").isNotNull()) \
        .withColumn("_day", F.to_date(F.col("ts")))
    day_means = series_days(actuals) if days is None else days
    return rows.join(F.broadcast(day_means), [*KEY, "_day"]), day_means


def block_seconds(stats: pd.DataFrame, settings: ReconcileSettings, unit_cols: list[str]) -> int:
    """The configured block, cut shorter when the largest hierarchy would put more than max_block_rows rows in one
    block: a whole fleet's day of minutes in one pandas frame grows a worker's memory with every series added."""
    from cloudtune.models.grain import parse_grain

    nodes = int(stats.groupby([*unit_cols, "grain"]).size().max())
    return _block_for(nodes, min(parse_grain(g) for g in stats["grain"].unique()), settings)


def block_tasks(spark: SparkSession, stats: pd.DataFrame, unit_cols: list[str]) -> int:
    """Tasks for the packed blocks: one per block, as `session.stage_tasks` allows."""
    return stage_tasks(spark, int(stats.groupby([*unit_cols, "grain"])["blocks"].max().sum()))


def node_stats(base_forecasts: DataFrame, packed: bool) -> pd.DataFrame:
    """One small row per node and grain: the keys to build S from, and what a full time alignment needs. Packed, also
    the node's block starts (`starts`) in UTC microseconds. Not as timestamps: arrays of those reach pandas one
    value at a time, as wall times of the session's time zone."""
    steps = F.sum(F.size("mean")) if packed else F.count(F.lit(1))
    starts = [F.sort_array(F.collect_set(F.unix_micros("ts"))).alias("starts")] if packed else []
    return (base_forecasts.groupBy(*NODE_COLUMNS, "grain")
            .agg(steps.alias("rows"), F.count(F.lit(1)).alias("blocks"), F.min("ts").alias("first"),
                 F.max("ts").alias("last"), *starts).toPandas())


def slotted(spark: SparkSession, packed: DataFrame, stats: pd.DataFrame, unit_cols: list[str]) -> DataFrame:
    """The packed rows repartitioned by their block's slot (`block_slots`, column _SLOT): equal shares of the blocks
    for the tasks. Left join: a row of a block without a slot (none should lack one) still reaches its group, with
    slot -1 in that slot's task."""
    tasks = block_tasks(spark, stats, unit_cols)
    slots = spark.createDataFrame(block_slots(spark, stats, unit_cols, tasks))
    return (packed.withColumn(_START, F.unix_micros("ts"))
            .join(F.broadcast(slots), [*unit_cols, "grain", _START], "left").drop(_START)
            .withColumn(_SLOT, F.coalesce(_SLOT, F.lit(-1)).cast("bigint")).repartition(tasks, _SLOT))


def block_slots(spark: SparkSession, stats: pd.DataFrame, unit_cols: list[str], tasks: int) -> pd.DataFrame:
    """One row per packed block (unit, grain and its start in UTC microseconds, `_START`) with a `_SLOT` number that
    `session.balanced_keys` chose: repartitioned by it, the `tasks` tasks get equal shares of the blocks (hashed by
    their keys, a month's 30 day blocks fell 2 to 9 into one of 8 tasks). The starts are one node's per unit and
    grain: every node of a hierarchy has the same blocks (`_check_alignment`)."""
    first = stats.drop_duplicates([*unit_cols, "grain"])[[*unit_cols, "grain", "starts"]]
    blocks = (first.explode("starts").rename(columns={"starts": _START}).dropna(subset=[_START])
              .astype({_START: "int64"}).reset_index(drop=True))
    return blocks.assign(**{_SLOT: balanced_keys(spark, len(blocks), tasks)})


def node_keys(series_keys: pd.DataFrame, levels) -> pd.DataFrame:
    """One row per node of the hierarchy over these series keys (service, region, metric, level; NaN where a level
    drops the key)."""
    return pd.concat([series_keys[[*LEVELS[level], "metric"]].drop_duplicates().assign(level=level)
                      for level in check_levels(levels)], ignore_index=True)


def planned_block_seconds(nodes: pd.DataFrame, settings: ReconcileSettings, grain: str) -> int:
    """block_seconds before anything is fitted, from the node keys (`node_keys`) and the run's grain: the blocks
    the fit packs its forecasts in (a node forecast at a coarser grain has fewer rows per block)."""
    from cloudtune.models.grain import parse_grain

    largest = int(nodes.groupby(PARTITIONS[settings.partition]).size().max())
    return _block_for(largest, parse_grain(grain), settings)


def _block_for(nodes: int, step: pd.Timedelta, settings: ReconcileSettings) -> int:
    step = int(step.total_seconds())
    fits = max(1, settings.max_block_rows // max(nodes, 1)) * step
    return int(min(settings.block_seconds, max(step, fits)))


def make_block_reconciler(fitted, unit_cols: list[str], columns: list[str]):
    """The applyInPandas function over long rows. It closes over column names and a broadcast handle of
    {unit: (Hierarchy, Projection)}; each block only looks its hierarchy up and multiplies."""

    def run_block(rows: pd.DataFrame) -> pd.DataFrame:
        from cloudtune.reconcile.frame import reconcile_frame

        hierarchy, projection = fitted.value[tuple(str(rows[c].iloc[0]) for c in unit_cols)]
        with _named_block(hierarchy, rows):
            return reconcile_frame(rows.drop(columns=[_BLOCK]), hierarchy, projection)[columns]

    return run_block


def make_packed_reconciler(fitted, unit_cols: list[str], schema: pa.Schema):
    """The applyInArrow function over packed rows (one per node and block): the same maths as reconcile_packed, and
    the long rows built as Arrow columns, not as a pandas frame that Spark then converts (a key string per row and
    column was most of the Python side's cost of a forecast row)."""

    def run_block(table: pa.Table) -> pa.Table:
        from cloudtune.reconcile.packed import reconcile_block

        rows = table.to_pandas()  # one row per node: a block's values are arrays
        hierarchy, projection = fitted.value[tuple(str(rows[c].iloc[0]) for c in unit_cols)]
        with _named_block(hierarchy, rows):
            return long_block_to_arrow(reconcile_block(rows, hierarchy, projection), schema)

    return run_block


def long_block_to_arrow(block, schema: pa.Schema) -> pa.Table:
    """A reconciled LongBlock as an Arrow table of `schema`: keys repeated by Arrow's take, values as they are."""
    steps, nodes = len(block.grid), len(block.scalars)
    repeat = pa.array(np.repeat(np.arange(nodes), steps))
    columns = []
    for field in schema:
        if field.name in block.values:
            columns.append(pa.array(block.values[field.name], type=field.type))
        elif field.name == "ts":
            grid = np.tile(block.grid, nodes)
            columns.append(pa.array(grid, type=pa.timestamp("ns", tz="UTC")).cast(field.type))
        else:
            columns.append(pa.array(block.scalars[field.name].tolist(), type=field.type).take(repeat))
    return pa.Table.from_arrays(columns, schema=schema)


@contextmanager
def _named_block(hierarchy, rows: pd.DataFrame):
    """A block's input error names its hierarchy, grain and first timestamp (the driver only sees the message)."""
    try:
        yield
    except CloudTuneError as exc:
        raise InputError(f"reconciling {hierarchy.label}, grain {rows['grain'].iloc[0]}, block from "
                         f"{rows['ts'].min()}: {exc}") from None


def make_residual_summarizer(hierarchies, unit_cols: list[str], min_rows: int):
    """The applyInPandas function that turns one hierarchy's residuals into its small summary (a JSON row).
    It closes over a broadcast handle of {unit: Hierarchy}, a number and column names."""

    def summarize(rows: pd.DataFrame) -> pd.DataFrame:
        from cloudtune.errors import CloudTuneError
        from cloudtune.reconcile.residuals import summarize_residuals

        unit = tuple(str(rows[c].iloc[0]) for c in unit_cols)
        if unit not in hierarchies.value:  # residuals of a metric that has no forecasts to reconcile
            return pd.DataFrame(columns=[*unit_cols, "summary"])
        hierarchy = hierarchies.value[unit]
        try:
            summary = summarize_residuals(rows, hierarchy, min_rows)
        except CloudTuneError as exc:
            raise InputError(f"residuals of {hierarchy.label}: {exc}") from None
        return pd.DataFrame([{**dict(zip(unit_cols, unit)), "summary": json.dumps(summary.to_dict())}])

    return summarize


def _residual_summaries(spark: SparkSession, residuals: DataFrame | None, hierarchies: dict, unit_cols: list[str],
                        min_rows: int) -> dict[tuple, ResidualSummary]:
    if residuals is None:
        return {}
    _require(residuals, RESIDUAL_COLUMNS, "residuals")
    summarizer = make_residual_summarizer(spark.sparkContext.broadcast(hierarchies), unit_cols, min_rows)
    schema = ", ".join(f"{c} string" for c in unit_cols) + ", summary string"
    rows = (residuals.select(*RESIDUAL_COLUMNS).withColumn("residual", F.col("residual").cast("double"))
            .groupBy(*unit_cols).applyInPandas(summarizer, schema).collect())  # one row per hierarchy
    return {tuple(r[c] for c in unit_cols): ResidualSummary.from_dict(json.loads(r["summary"])) for r in rows}


def _series_means(history: DataFrame) -> pd.DataFrame:
    """Each bottom series' mean value (the same numbers as cloudtune.reconcile.series_means); one row per series."""
    _require(history, KEY + ["value"], "history")
    if "level" in history.columns:
        history = history.where(F.col("level") == BOTTOM)
    return history.groupBy(*KEY).agg(F.avg("value").alias("value")).toPandas()


def _check_alignment(stats: pd.DataFrame, unit_cols: list[str]) -> None:
    """Every node of a hierarchy has as many rows over the same span at each grain: a missing or a duplicate ts
    shows as a count unlike the others'. (A distinct count would shuffle every forecast row once more; a duplicate
    shared by every node is still named by the block that holds it.)"""
    label = stats.level + ":" + stats.service + "/" + stats.region + "/" + stats.metric
    shape = stats.rows.astype(str) + " rows " + stats["first"].astype(str) + ".." + stats["last"].astype(str)
    usual = shape.groupby([stats[c] for c in [*unit_cols, "grain"]]).transform(lambda s: s.mode().iloc[0])
    odd = stats[shape != usual]
    if len(odd):
        i = odd.index[0]
        raise InputError(f"base forecasts of {'/'.join(odd.loc[i, unit_cols])} at grain {odd.grain[i]} do not cover "
                         f"the same timestamps for every node: {shorten(label[odd.index], 4)} "
                         f"({shape[i]}) against {usual[i]} for the others; every node needs exactly one forecast at "
                         "every ts (a missing one e.g. from its fallback model)")


def _require(df: DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what} is missing column(s) {', '.join(missing)}; it has {shorten(df.columns)}")
