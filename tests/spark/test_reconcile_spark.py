"""Reconciliation on Spark gives the pandas numbers, block by block, and checks its input on the driver."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.reconcile import ReconcileSettings, aggregate_levels, reconcile
from cloudtune.reconcile.hierarchy import NODE_COLUMNS, PARTITIONS
from cloudtune.reconcile.packed import pack
from cloudtune.spark.reconcile import aggregate_levels_spark, block_seconds, node_keys, planned_block_seconds, \
    reconcile_spark, series_days
from tests.reconcile.reconcile_synth import assert_coherent, assert_quantiles_sane, fleet

pytestmark = pytest.mark.spark
NODE_TS = ["metric", "level", "service", "region", "ts"]


@pytest.fixture(scope="module")
def data():
    return fleet(metrics=("requests", "orders"), hours=6)


def utc(df: pd.DataFrame) -> pd.DataFrame:
    ts = pd.to_datetime(df["ts"])
    return df.assign(ts=ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC"))


def in_order(df: pd.DataFrame) -> pd.DataFrame:
    return utc(df).sort_values(NODE_TS, ignore_index=True)


def assert_same(spark_out: pd.DataFrame, local: pd.DataFrame):
    a, b = in_order(spark_out), in_order(local)
    assert len(a) == len(b)
    pd.testing.assert_frame_equal(a[NODE_TS + ["grain", "model", "reconciliation"]],
                                  b[NODE_TS + ["grain", "model", "reconciliation"]])
    for col in ("mean", "base_mean", "p50", "p90", "p99"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-9, err_msg=col)


@pytest.mark.parametrize("method, block, partition", [
    ("mint_shrink", "2h", "metric"),  # three blocks per metric: the projection must not depend on the block
    ("top_down", "1d", "metric"),
    ("wls_struct", "1d", "region"),
])
def test_spark_equals_pandas(spark, data, method, block, partition):
    base, residuals, history = data
    levels = ["series", "region"] if partition == "region" else ["series", "region", "global"]
    base = base[base.level.isin(levels)]
    residuals = residuals[residuals.level.isin(levels)]
    settings = ReconcileSettings(method=method, block=block, partition=partition, levels=levels, min_residuals=24)
    out, info = reconcile_spark(spark, spark.createDataFrame(base), spark.createDataFrame(residuals), settings,
                                history=spark.createDataFrame(history))
    got = out.toPandas()
    local, local_info = reconcile(base, settings, residuals=residuals, history=history)
    assert_same(got, local)
    assert info == local_info and {v["method"] for v in info.values()} == {method}
    assert list(got.columns) == list(base.columns) + ["base_mean", "reconciliation"]
    assert_coherent(utc(got), levels)
    assert_quantiles_sane(got)


def test_many_nodes_cut_blocks_shorter_and_give_the_same_numbers(spark, data):
    base, residuals, _ = data
    nodes = base[["service", "region", "metric", "level"]].drop_duplicates().groupby("metric").size().max()
    settings = ReconcileSettings(block="1d", max_block_rows=int(nodes) * 2, min_residuals=24)  # two hours a block
    stats = base.groupby(["service", "region", "metric", "level", "grain"]).size().rename("rows").reset_index()
    assert block_seconds(stats, settings, ["metric"]) == 2 * 3600
    out, _ = reconcile_spark(spark, spark.createDataFrame(base), spark.createDataFrame(residuals), settings)
    local, _ = reconcile(base, settings, residuals=residuals)
    assert_same(out.toPandas(), local)


@pytest.mark.parametrize("partition", ["metric", "region"])
def test_packed_blocks_planned_from_the_keys_give_the_long_numbers(spark, data, partition):
    base, residuals, _ = data
    levels = ["series", "region"] if partition == "region" else ["series", "region", "global"]
    base, residuals = base[base.level.isin(levels)], residuals[residuals.level.isin(levels)]
    nodes = base[NODE_COLUMNS].drop_duplicates().groupby(PARTITIONS[partition]).size().max()
    settings = ReconcileSettings(max_block_rows=int(nodes) * 2, partition=partition, levels=levels, min_residuals=24)
    series_keys = base.loc[base.level == "series", ["service", "region", "metric"]].drop_duplicates()
    planned = node_keys(series_keys, levels)
    stats = base.groupby([*NODE_COLUMNS, "grain"]).size().rename("rows").reset_index()
    assert len(planned) == len(stats)  # every node, counted from the series keys alone
    seconds = planned_block_seconds(planned, settings, "1h")
    assert seconds == block_seconds(stats, settings, PARTITIONS[partition]) == 2 * 3600
    packed = pd.concat([pack(rows, seconds, ["mean", "p50", "p90", "p99"]) for _, rows in base.groupby(NODE_COLUMNS)])
    assert len(packed) == len(stats) * 3  # six hours in three blocks
    for col in ("mean", "p50", "p90", "p99"):
        packed[col] = packed[col].map(list)
    out, info = reconcile_spark(spark, spark.createDataFrame(packed), spark.createDataFrame(residuals), settings)
    local, local_info = reconcile(base, settings, residuals=residuals)
    assert_same(out.toPandas(), local)
    assert info == local_info


def test_fallback_reason_is_the_same_as_in_pandas(spark, data):
    base, residuals, _ = data
    few = residuals[residuals.ts >= residuals.ts.max() - pd.Timedelta("5h")]
    only_requests = few[few.metric == "requests"]  # orders gets no residual at all
    settings = ReconcileSettings()
    out, info = reconcile_spark(spark, spark.createDataFrame(base), spark.createDataFrame(only_requests), settings)
    _, local_info = reconcile(base, settings, residuals=only_requests)
    assert info == local_info
    assert "min_residuals is 48" in info["requests"]["reason"]
    assert "(no residuals for orders)" in info["orders"]["reason"]
    assert set(out.select("reconciliation").distinct().toPandas().reconciliation) == {"wls_struct"}


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("given_days", [False, True])
def test_aggregate_levels_spark_equals_pandas(spark, data, gaps, given_days):
    _, _, history = data
    if gaps:  # missing minutes and a series gone for the last hours: the completeness rule must match too
        history = history.drop(index=history.index[::7])
        last = history.ts.max()
        history = history[~((history.service == history.service.iloc[0]) & (history.ts >= last - pd.Timedelta("2h")))]
    levels = ["series", "service", "region", "global"]
    actuals = spark.createDataFrame(history)
    days = series_days(actuals) if given_days else None  # the daily job passes the days it read the keys from
    cached = [] if given_days else None  # ... and the level sums it persists for the fit, then unpersists
    got = aggregate_levels_spark(actuals, levels, days=days, cached=cached).toPandas()
    if cached is not None:
        assert len(cached) == 3 and all(frame.storageLevel.useMemory for frame in cached)  # service, region, global
        for frame in cached:
            frame.unpersist()
    local = aggregate_levels(history, levels)
    assert list(got.columns) == list(local.columns)
    a, b = in_order(got), in_order(local)
    pd.testing.assert_frame_equal(a.drop(columns="value"), b.drop(columns="value"))
    np.testing.assert_allclose(a.value, b.value, rtol=1e-12)


def test_a_missing_node_is_named_on_the_driver(spark, data):
    base, _, _ = data
    no_us = base[~((base.level == "region") & (base.region == "us"))]
    with pytest.raises(InputError, match=r"missing node\(s\) region:\*/us/orders, region:\*/us/requests"):
        reconcile_spark(spark, spark.createDataFrame(no_us), None, ReconcileSettings())


def test_a_node_short_of_timestamps_is_named_on_the_driver(spark, data):
    base, _, _ = data
    short = base.drop(index=base.index[(base.level == "series") & (base.service == "b") & (base.metric == "orders")][-1])
    with pytest.raises(InputError, match=r"base forecasts of orders at grain 1h do not cover the same timestamps for "
                                         r"every node: series:b/us/orders \(5 rows .*\) against 6 rows"):
        reconcile_spark(spark, spark.createDataFrame(short), None, ReconcileSettings())


def test_a_duplicate_timestamp_is_named_on_the_driver(spark, data):
    base, _, _ = data
    one = base[(base.level == "series") & (base.service == "b") & (base.metric == "orders")].iloc[[0]]
    doubled = pd.concat([base, one], ignore_index=True)
    with pytest.raises(InputError, match=r"do not cover the same timestamps for every node: "
                                         r"series:b/\w+/orders \(7 rows .*\) against 6 rows"):
        reconcile_spark(spark, spark.createDataFrame(doubled), None, ReconcileSettings())


def test_missing_columns_are_named(spark, data):
    base, _, _ = data
    with pytest.raises(InputError, match="base_forecasts is missing column\\(s\\) grain"):
        reconcile_spark(spark, spark.createDataFrame(base.drop(columns="grain")), None, ReconcileSettings())


def test_packed_blocks_become_the_same_rows_as_arrow_as_in_pandas():
    """The Spark adapter builds a reconciled block's rows as Arrow columns; they equal reconcile_packed's frame."""
    import pyarrow as pa
    from cloudtune.reconcile import fit_projections
    from cloudtune.reconcile.packed import reconcile_block
    from cloudtune.spark.reconcile import long_block_to_arrow
    from tests.reconcile.reconcile_synth import fleet

    base, residuals, _ = fleet(hours=30)
    base = base.assign(model=np.where(base.level == "series", "cloudtune", None))  # a null key string passes too
    hierarchy, projection = fit_projections(base[NODE_COLUMNS].drop_duplicates(), ReconcileSettings(),
                                            residuals)[("requests",)]
    packed = pd.concat([pack(rows, 12 * 3600, ["mean", "p50", "p90", "p99"])
                        for _, rows in base[base.metric == "requests"].groupby(NODE_COLUMNS)], ignore_index=True)
    rows = packed[packed.ts == packed.ts.iloc[0]].drop(columns="extra", errors="ignore")
    block = reconcile_block(rows, hierarchy, projection)
    want = block.to_pandas()
    schema = pa.schema([pa.field(c, pa.timestamp("us", tz="UTC") if c == "ts" else
                                 pa.float64() if c in block.values else pa.string()) for c in want.columns])
    got = long_block_to_arrow(block, schema)
    assert got.schema == schema and got.num_rows == len(want) == len(rows) * 12
    got = got.to_pandas()
    assert got["model"].isna().sum() == want["model"].isna().sum() > 0
    pd.testing.assert_frame_equal(got, want.astype({"ts": got["ts"].dtype}), check_exact=True)


def test_packed_blocks_get_a_slot_each_and_equal_shares_of_the_tasks(spark):
    """Through the job's own statistics, in a session whose time zone is not UTC: every block finds its slot."""
    from pyspark.sql import functions as F

    from cloudtune.spark.reconcile import _SLOT, node_stats, slotted

    days = pd.date_range("2025-12-01", periods=30, freq="1D", tz="UTC")
    rows = [("requests", region, level, "1min", day, [1.0] * 3)
            for region, level in (("us", "series"), ("*", "region")) for day in days]
    rows += [("orders", "*", "region", "1min", day, [1.0] * 3) for day in days[:6]]
    packed = spark.createDataFrame(pd.DataFrame(rows, columns=["metric", "region", "level", "grain", "ts", "mean"])
                                   .assign(service="*"))
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        stats = node_stats(packed, packed=True)
        spread = slotted(spark, packed, stats, ["metric"])
        slots = spread.select("metric", "ts", _SLOT).distinct().toPandas()
        placed = spread.groupBy(F.spark_partition_id()).count().collect()
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    assert len(slots) == 36 and slots[_SLOT].is_unique and (slots[_SLOT] >= 0).all()
    assert slots.groupby("metric").size().to_dict() == {"orders": 6, "requests": 30}
    # 66 rows (two nodes of 30 blocks, one of 6) in the 6 tasks local[2] allows: 6 blocks each, whole
    assert sorted(r["count"] for r in placed) == [11] * 6
