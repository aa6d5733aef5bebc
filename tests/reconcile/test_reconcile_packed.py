"""Packed blocks (a row per node with arrays) reconcile to the same numbers as the long rows they pack."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError, ModelError
from cloudtune.reconcile import ReconcileSettings, fit_projections, reconcile_frame
from cloudtune.reconcile.packed import pack, reconcile_packed
from tests.reconcile.reconcile_synth import fleet

VALUES = ["mean", "p50", "p90", "p99"]
NODE_TS = ["metric", "level", "service", "region", "ts"]


def packed_nodes(base: pd.DataFrame, block_seconds: int) -> pd.DataFrame:
    return pd.concat([pack(rows.drop(columns="extra", errors="ignore"), block_seconds, VALUES)
                      for _, rows in base.groupby(["service", "region", "metric", "level"])], ignore_index=True)


@pytest.fixture
def case():
    base, residuals, _ = fleet(hours=30)  # hourly, 30 steps: three blocks of 12 h (the last a partial one)
    hierarchy, projection = fit_projections(base[["service", "region", "metric", "level"]].drop_duplicates(),
                                            ReconcileSettings(), residuals)[("requests",)]
    return base, hierarchy, projection


def test_pack_cuts_on_block_boundaries_and_keeps_every_value(case):
    base, _, _ = case
    one = base[(base.level == "series") & (base.service == "a") & (base.region == "eu")]
    packed = pack(one, 12 * 3600, VALUES)
    assert [len(v) for v in packed["mean"]] == [12, 12, 6]
    assert list(packed["ts"]) == list(one["ts"].iloc[[0, 12, 24]])
    np.testing.assert_array_equal(np.concatenate(packed["p99"].to_numpy()), one["p99"].to_numpy())
    assert set(packed["grain"]) == {"1h"} and set(packed["model"]) == {"synthetic"}


def test_pack_refuses_a_grid_with_a_hole(case):
    base, _, _ = case
    one = base[(base.level == "series") & (base.service == "a") & (base.region == "eu")]
    with pytest.raises(ModelError, match="not a regular 1h grid"):
        pack(one.drop(one.index[3]), 86400, VALUES)


def test_packed_blocks_equal_the_long_reconciliation(case):
    base, hierarchy, projection = case
    base = base.assign(peak_to_mean=np.linspace(1.0, 2.0, len(base)))
    packed = pd.concat([pack(rows, 12 * 3600, [*VALUES, "peak_to_mean"])
                        for _, rows in base.groupby(["service", "region", "metric", "level"])], ignore_index=True)
    got = pd.concat([reconcile_packed(rows, hierarchy, projection) for _, rows in packed.groupby("ts")])
    want = reconcile_frame(base, hierarchy, projection)
    got, want = (f.sort_values(NODE_TS, ignore_index=True) for f in (got, want))
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got[NODE_TS + ["grain", "model", "reconciliation"]],
                                  want[NODE_TS + ["grain", "model", "reconciliation"]])
    for col in [*VALUES, "base_mean", "peak_to_mean"]:
        np.testing.assert_allclose(got[col], want[col], rtol=1e-12, err_msg=col)


def test_a_missing_node_or_a_short_array_is_named(case):
    base, hierarchy, projection = case
    block = packed_nodes(base, 12 * 3600).groupby("ts").get_group(base["ts"].min())
    without = block[~((block.service == "b") & (block.region == "us") & (block.level == "series"))]
    with pytest.raises(InputError, match="no base mean for series:b/us/requests"):
        reconcile_packed(without, hierarchy, projection)
    short = block.copy()
    short.at[short.index[2], "mean"] = short.at[short.index[2], "mean"][:5]
    with pytest.raises(InputError, match="with 5 steps"):
        reconcile_packed(short, hierarchy, projection)
    nan = block.copy()
    nan.at[nan.index[0], "mean"] = np.full(12, np.nan)
    with pytest.raises(InputError, match="no base mean for"):
        reconcile_packed(nan, hierarchy, projection)
