"""Components and residuals cross from Python to the JVM packed (a row of arrays per component) and are unpacked
in Spark into the same long rows."""
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cloudtune.errors import ModelError
from cloudtune.spark.series_runner import pack_steps, unpack_steps

pytestmark = pytest.mark.spark


def _long(component: str, hours: int, grain: str = "1h", start="2025-12-08T00:00Z") -> pd.DataFrame:
    step = pd.Timedelta(grain)
    ts = pd.date_range(start, periods=hours, freq=step)
    return pd.DataFrame({"ts": ts, "component": component, "value": np.arange(hours) * 1.5 + len(component),
                         "combine": "multiply", "grain": grain})


def test_packed_steps_unpack_to_the_same_rows_gaps_left_out(spark):
    rows = pd.concat([_long("trend", 30), _long("event:prime_day", 5, start="2025-12-09T03:00Z"),
                      _long("weekly", 3, grain="1d")], ignore_index=True)
    rows = rows.drop(index=[4, 17]).reset_index(drop=True)  # two missing steps inside trend
    rows.loc[20, "value"] = np.nan  # a step that is not a number: left out like a missing one
    packed = pack_steps(rows, "value")
    assert len(packed) == 3 and len(packed.loc[packed.component == "trend", "values"].iloc[0]) == 30

    schema = "component string, combine string, grain string, ts timestamp, values array<double>"
    back = unpack_steps(spark.createDataFrame(packed, schema), "value").toPandas()
    key = ["component", "ts"]
    back = back.assign(ts=pd.to_datetime(back.ts).dt.tz_localize("UTC")).sort_values(key).reset_index(drop=True)
    want = rows.dropna(subset=["value"]).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(back[list(want.columns)], want, check_dtype=False)


def test_sparse_hourly_residuals_of_a_weekly_node_round_trip(spark):
    """A weekly model's residuals resampled hourly: one value a week on the hourly grid, the rest missing."""
    ts = pd.date_range("2025-10-06T00:00Z", periods=5, freq="7D")
    rows = pd.DataFrame({"ts": ts, "residual": [0.5, -1.0, 2.0, 0.0, 1.25], "grain": "1h"})
    packed = pack_steps(rows, "residual")
    assert len(packed) == 1 and len(packed["values"].iloc[0]) == 4 * 168 + 1

    back = unpack_steps(spark.createDataFrame(packed, "grain string, ts timestamp, values array<double>"),
                        "residual").toPandas().sort_values("ts")
    assert (pd.to_datetime(back.ts).dt.tz_localize("UTC").to_numpy() == ts.to_numpy()).all()
    np.testing.assert_array_equal(back.residual.to_numpy(), rows.residual.to_numpy())


def test_rows_off_their_grain_are_refused_by_name():
    rows = _long("trend", 3)
    rows.loc[2, "ts"] += pd.Timedelta("1min")
    with pytest.raises(ModelError, match="value rows to pack are not on a regular 1h grid"):
        pack_steps(rows, "value")


def test_numbered_node_rows_give_run_series_output(spark):
    """The fit groups by node number: the runner names the node from the table and answers as run_series does."""
    from dataclasses import asdict

    from cloudtune.config import load_config
    from cloudtune.config.pipeline import ForecastSettings
    from cloudtune.pipeline import run_series
    from cloudtune.spark.reconcile import node_keys
    from cloudtune.spark.series_runner import (NODE, UNPLANNED, make_series_runner, node_names, node_table, to_wide,
                                               wide_arrow_schema)

    keys = node_keys(pd.DataFrame({"service": ["api", "web"], "region": ["us", "us"], "metric": "requests"}),
                     ["series", "region", "global"])
    table = node_table(keys)
    assert table[["service", "region", "level"]].values.tolist() == [
        ["*", "*", "global"], ["*", "us", "region"], ["api", "us", "series"], ["web", "us", "series"]]
    assert table[NODE].tolist() == [0, 1, 2, 3]

    cfg = load_config()
    run = {**asdict(cfg.forecast), "horizon": "1d", "peaks": False}
    ts = pd.date_range("2025-11-01", periods=21 * 24, freq="1h", tz="UTC")
    value = 100 + 30 * np.sin(np.arange(len(ts)) * 2 * np.pi / 24)
    direct = run_series(pd.DataFrame({"ts": ts, "value": value}), ("*", "us", "requests"),
                        ForecastSettings(**run), cfg.model, cfg.outliers, None)
    schema = wide_arrow_schema()
    numbered = make_series_runner(run, asdict(cfg.model), asdict(cfg.outliers), [], 86400, nodes=node_names(table),
                                  schema=schema)
    got = numbered.frame(pd.DataFrame({NODE: 1, "ts": ts, "value": value}))
    assert got.loc[got.record == "report", "status"].tolist() == ["ok"]
    assert (got[["service", "region", "level"]] == ["*", "us", "region"]).all().all()
    expected = to_wide(("*", "us", "requests"), "region", direct, 86400)
    pd.testing.assert_frame_equal(got, expected)
    # What Spark hands the runner: Arrow rows with microsecond timestamps; it answers with WIDE_SCHEMA's Arrow rows.
    rows = pa.table({NODE: pa.array([1] * len(ts), pa.int64()), "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
                     "value": value})
    arrow = numbered(rows)
    assert arrow.schema == schema
    assert arrow.equals(pa.Table.from_pandas(expected, schema=schema, preserve_index=False))
    with pytest.raises(ModelError, match="node number 9"):
        numbered.frame(pd.DataFrame({NODE: 9, "ts": ts, "value": value}))
    with pytest.raises(ModelError, match="new/us/requests/series"):
        numbered.frame(pd.DataFrame({NODE: None, "ts": ts, "value": value, UNPLANNED: "new/us/requests/series"}))
