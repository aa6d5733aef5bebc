"""Invariants on a synthetic fleet: coherent means after every method, ordered non-negative quantiles, fallbacks."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.reconcile import ReconcileSettings, reconcile
from cloudtune.reconcile.methods import METHODS
from tests.reconcile.reconcile_synth import assert_coherent, assert_quantiles_sane, fleet

LAYOUTS = {
    "tree": dict(levels=("series", "region", "global"), partition="metric"),
    "grouped": dict(levels=("series", "region", "service", "global"), partition="metric"),
    "per_region": dict(levels=("series", "region"), partition="region"),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_coherent_means_and_sane_quantiles(method, layout):
    spec = LAYOUTS[layout]
    base, residuals, history = fleet(levels=spec["levels"], metrics=("requests", "orders"))
    settings = ReconcileSettings(method=method, levels=list(spec["levels"]), partition=spec["partition"],
                                 min_residuals=24)
    out, info = reconcile(base, settings, residuals=residuals, history=history)
    assert len(out) == len(base) and (out["reconciliation"] == method).all()
    assert_coherent(out, spec["levels"])
    assert_quantiles_sane(out)
    np.testing.assert_array_equal(out["base_mean"], base["mean"])
    assert {v["method"] for v in info.values()} == {method}


def test_reconciliation_moves_incoherent_base_means_and_keeps_coherent_ones():
    base, residuals, _ = fleet()
    out, _ = reconcile(base, ReconcileSettings(), residuals=residuals)
    assert not np.allclose(out["mean"], base["mean"], rtol=1e-3)  # the fixture is incoherent
    again, _ = reconcile(out.drop(columns=["base_mean", "reconciliation"]), ReconcileSettings(), residuals=residuals)
    np.testing.assert_allclose(again["mean"], out["mean"], rtol=1e-9)  # a projection leaves coherent means alone


def test_bottom_series_keep_their_base_spreads():
    base, residuals, _ = fleet()
    out, _ = reconcile(base, ReconcileSettings(), residuals=residuals)
    bottom_in, bottom_out = base[base.level == "series"], out[out.level == "series"]
    np.testing.assert_allclose(bottom_out.p90 - bottom_out["mean"], bottom_in.p90 - bottom_in["mean"], rtol=1e-9)
    np.testing.assert_allclose(bottom_out.p50 - bottom_out["mean"], bottom_in.p50 - bottom_in["mean"], rtol=1e-9)


def test_parent_spreads_lie_between_independent_and_comonotone_children():
    base, residuals, _ = fleet()
    out, _ = reconcile(base, ReconcileSettings(), residuals=residuals)
    bottom = out[out.level == "series"].assign(d90=lambda d: d.p90 - d["mean"])
    regional = bottom.groupby(["region", "ts"]).d90.agg(comonotone="sum", independent=lambda d: np.sqrt((d ** 2).sum()))
    parents = out[out.level == "region"].set_index(["region", "ts"])
    spread = (parents.p90 - parents["mean"]).loc[regional.index]
    assert (spread <= regional.comonotone * (1 + 1e-9)).all()
    assert (spread >= regional.independent * (1 - 1e-9)).all()
    assert (spread < regional.comonotone * 0.999).any()  # correlated, not comonotone, residuals diversify


def test_without_residuals_parent_spreads_are_comonotone_sums():
    base, _, _ = fleet()
    out, info = reconcile(base, ReconcileSettings(method="wls_struct"))
    assert info["requests"]["quantile_dependence"] == "comonotone"
    bottom = out[out.level == "series"]
    total = (bottom.p99 - bottom["mean"]).groupby(bottom.ts).sum()
    top = out[out.level == "global"].set_index("ts")
    np.testing.assert_allclose((top.p99 - top["mean"]).loc[total.index], total, rtol=1e-9)


def test_negative_and_unordered_base_values_come_out_non_negative_ordered_and_coherent():
    base, residuals, _ = fleet()
    first = base.index[base.level == "series"][:3]
    base.loc[first, "mean"] = -40.0  # a model that undershoots below zero
    base.loc[first, ["p50", "p90", "p99"]] = [[-45.0, -50.0, -20.0]] * 3  # and crossed quantiles
    for method in ("bottom_up", "mint_shrink"):
        out, _ = reconcile(base, ReconcileSettings(method=method), residuals=residuals)
        assert_quantiles_sane(out)
        assert_coherent(out, ("series", "region", "global"))
        assert (out.loc[first, "mean"] >= 0).all()


def test_mint_falls_back_to_wls_and_says_why():
    base, residuals, _ = fleet()
    cases = {
        "no residuals were passed": None,
        "min_residuals is 48": residuals[residuals.ts >= residuals.ts.max() - pd.Timedelta("10h")],
        "no residuals for node(s) region:*/eu/requests": residuals[~((residuals.level == "region")
                                                                     & (residuals.region == "eu"))],
        "all zero for series:a/us/requests": residuals.assign(residual=residuals.residual.where(
            ~((residuals.level == "series") & (residuals.service == "a") & (residuals.region == "us")), 0.0)),
    }
    for why, res in cases.items():
        out, info = reconcile(base, ReconcileSettings(method="mint_shrink"), residuals=res)
        assert info["requests"]["method"] == "wls_struct" and (out.reconciliation == "wls_struct").all()
        assert why in info["requests"]["reason"], info["requests"]["reason"]
        assert "mint_shrink not possible" in info["requests"]["reason"]


def test_mint_uses_residuals_with_scattered_gaps_that_leave_no_complete_hour():
    base, residuals, _ = fleet()
    rng = np.random.default_rng(7)
    gappy = residuals[rng.uniform(size=len(residuals)) > 0.25]  # each node misses about a quarter of the hours
    complete_hours = gappy.groupby("ts").size().eq(9).sum()
    assert complete_hours < 48  # a complete-rows rule would fall back
    out, info = reconcile(base, ReconcileSettings(), residuals=gappy)
    assert info["requests"]["method"] == "mint_shrink", info["requests"]["reason"]
    assert 48 <= info["requests"]["residual_rows"] < 120
    assert_coherent(out, ("series", "region", "global"))


def test_too_few_shared_timestamps_name_the_pair():
    base, residuals, _ = fleet()
    late = residuals.ts >= residuals.ts.max() - pd.Timedelta("20h")
    a_eu = (residuals.service == "a") & (residuals.region == "eu")
    _, info = reconcile(base, ReconcileSettings(), residuals=residuals[~a_eu | late])
    assert "only 21 timestamps have residuals for" in info["requests"]["reason"]
    assert "series:a/eu/requests" in info["requests"]["reason"]


def test_mint_is_used_when_residuals_allow_it_and_differs_from_wls():
    base, residuals, _ = fleet()
    mint, info = reconcile(base, ReconcileSettings(), residuals=residuals)
    wls, _ = reconcile(base, ReconcileSettings(method="wls_struct"), residuals=residuals)
    assert info["requests"]["method"] == "mint_shrink" and info["requests"]["residual_rows"] == 120
    assert 0 <= info["requests"]["lambda"] <= 1
    assert not np.allclose(mint["mean"], wls["mean"], rtol=1e-6)


def test_other_columns_pass_through_and_row_order_is_kept():
    base, residuals, _ = fleet(metrics=("requests", "orders"))
    base = base.sample(frac=1.0, random_state=1)
    out, _ = reconcile(base, ReconcileSettings(), residuals=residuals)
    assert list(out.index) == list(base.index)
    assert list(out.columns) == list(base.columns) + ["base_mean", "reconciliation"]
    assert (out.model == "synthetic").all() and (out.grain == "1h").all()
