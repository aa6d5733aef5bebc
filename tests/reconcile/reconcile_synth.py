"""Small incoherent base forecasts, residuals and history for reconciliation tests (pure pandas, seeded),
and the invariants every reconciled frame must meet."""
import functools

import numpy as np
import pandas as pd

from cloudtune.reconcile import aggregate_levels


def fleet(regions=("eu", "us"), services=("a", "b", "c"), metrics=("requests",), hours=6,
          levels=("series", "region", "global"), residual_hours=120, seed=0):
    """Base forecasts of every node (sum of the truth plus node noise, so parents disagree with their children),
    hourly residuals of every node with correlated bottom errors, and the bottom history. Fresh copies each call."""
    frames = _fleet(tuple(regions), tuple(services), tuple(metrics), hours, tuple(levels), residual_hours, seed)
    return tuple(f.copy() for f in frames)


@functools.lru_cache(maxsize=16)
def _fleet(regions, services, metrics, hours, levels, residual_hours, seed):
    rng = np.random.default_rng(seed)
    keys = pd.DataFrame([(s, r, m) for m in metrics for r in regions for s in services],
                        columns=["service", "region", "metric"])
    level_ = 50.0 + 25.0 * np.arange(len(keys))
    ts = pd.date_range("2025-12-08", periods=hours, freq="h", tz="UTC")
    truth = pd.concat([keys.assign(ts=t, value=level_ * (1 + 0.1 * np.sin(i))) for i, t in enumerate(ts)])
    nodes = aggregate_levels(truth, list(levels))
    sd = 0.05 * nodes["value"].to_numpy()
    mean = nodes["value"].to_numpy() + rng.normal(0, 1, len(nodes)) * sd
    base = nodes.drop(columns="value").assign(
        mean=mean, p50=mean - 0.1 * sd, p90=mean + 1.28 * sd, p99=mean + 2.33 * sd,
        grain="1h", model="synthetic")

    past = pd.date_range(ts[0] - pd.Timedelta(hours=residual_hours), periods=residual_hours, freq="h", tz="UTC")
    common = rng.normal(0, 1, (residual_hours, 1))
    bottom_err = (0.7 * common + 0.7 * rng.normal(0, 1, (residual_hours, len(keys)))) * 0.05 * level_
    history = pd.concat([keys.assign(ts=t, value=level_ + bottom_err[i]) for i, t in enumerate(past)])
    errs = pd.concat([keys.assign(ts=t, value=bottom_err[i]) for i, t in enumerate(past)])
    residuals = aggregate_levels(errs, list(levels)).rename(columns={"value": "residual"})
    # Upper-level base models make errors of their own, not just the sum of their children's.
    residuals["residual"] += np.where(residuals.level == "series", 0.0,
                                      rng.normal(0, 2.0, len(residuals)))
    return base.reset_index(drop=True), residuals.reset_index(drop=True), history.reset_index(drop=True)


def assert_coherent(out: pd.DataFrame, levels, rtol=1e-6):
    """Every aggregate row's mean equals the sum of the reconciled series under it, at every ts."""
    bottom = out[out.level == "series"].rename(columns={"mean": "value"})
    expected = aggregate_levels(bottom, list(levels), include_bottom=False)
    got = expected.merge(out, on=["service", "region", "metric", "level", "ts"], how="left")
    assert len(got) == (out.level != "series").sum() and got["mean"].notna().all()
    np.testing.assert_allclose(got["mean"], got["value"], rtol=rtol)


def assert_quantiles_sane(out: pd.DataFrame):
    q = out[["p50", "p90", "p99"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all(), "quantiles out of order"
    assert (q >= 0).all() and (out["mean"] >= 0).all(), "negative reconciled values"
