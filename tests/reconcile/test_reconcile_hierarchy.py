"""Hierarchies built from keys: nodes, S for grouped levels, per-region partitions, aggregated actuals."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.reconcile import aggregate_levels, build_hierarchies

KEYS = pd.DataFrame(dict(service=["b", "a", "a", "b"], region=["us", "eu", "us", "eu"], metric="requests"))


def test_grouped_levels_add_a_service_level_across_regions():
    h = build_hierarchies(KEYS, ["series", "service", "region", "global"])[("requests",)]
    assert list(zip(h.nodes.service, h.nodes.region, h.nodes.level)) == [
        ("*", "*", "global"), ("*", "eu", "region"), ("*", "us", "region"), ("a", "*", "service"),
        ("b", "*", "service"), ("a", "eu", "series"), ("b", "eu", "series"), ("a", "us", "series"),
        ("b", "us", "series")]
    np.testing.assert_array_equal(h.S[:5], [[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(h.S[5:], np.eye(4))


def test_region_partition_gives_one_hierarchy_per_metric_and_region():
    keys = pd.concat([KEYS, KEYS.assign(metric="orders")])
    hs = build_hierarchies(keys, ["series", "region"], partition="region")
    assert sorted(hs) == [("orders", "eu"), ("orders", "us"), ("requests", "eu"), ("requests", "us")]
    h = hs[("requests", "us")]
    assert h.nodes.level.tolist() == ["region", "series", "series"]
    np.testing.assert_array_equal(h.S, [[1, 1], [1, 0], [0, 1]])


def test_metrics_never_share_a_hierarchy():
    keys = pd.concat([KEYS, KEYS.assign(metric="orders").iloc[:2]])
    hs = build_hierarchies(keys, ["series", "global"])
    assert hs[("orders",)].S.shape == (3, 2) and hs[("requests",)].S.shape == (5, 4)


def test_aggregate_levels_sums_values_per_ts():
    ts = pd.Timestamp("2025-12-08", tz="UTC")
    actuals = KEYS.assign(ts=ts, value=[1.0, 2.0, 4.0, 8.0])  # b/us 1, a/eu 2, a/us 4, b/eu 8
    out = aggregate_levels(actuals, ["series", "region", "service", "global"]).set_index(["service", "region"])
    assert out.loc[("*", "*"), "value"] == 15.0 and out.loc[("*", "*"), "level"] == "global"
    assert out.loc[("*", "eu"), "value"] == 10.0 and out.loc[("*", "us"), "value"] == 5.0
    assert out.loc[("a", "*"), "value"] == 6.0 and out.loc[("b", "*"), "level"] == "service"
    assert (out.level == "series").sum() == 4
    only_parents = aggregate_levels(actuals, ["series", "region"], include_bottom=False)
    assert set(only_parents.level) == {"region"} and list(only_parents.columns) == [
        "service", "region", "metric", "level", "ts", "value"]


def _two_series(values_b: float, minutes: int = 4) -> pd.DataFrame:
    ts = pd.date_range("2025-12-08", periods=minutes, freq="1min", tz="UTC")
    return pd.concat([pd.DataFrame(dict(service=s, region="us", metric="requests", ts=ts, value=v))
                      for s, v in (("a", 10.0), ("b", values_b))], ignore_index=True)


def test_a_missing_minute_of_a_big_series_leaves_a_gap_in_the_totals_not_a_dip():
    gappy = _two_series(10.0).drop(index=[1])  # a's second minute is missing: half the volume
    out = aggregate_levels(gappy, ["series", "region"], include_bottom=False)
    assert out.ts.tolist() == [gappy.ts[0], gappy.ts[2], gappy.ts[3]] and (out.value == 20.0).all()


def test_a_quiet_series_missing_minutes_does_not_hold_the_totals_back():
    sparse = _two_series(0.01).drop(index=[5, 6])  # b (0.1% of the volume) has no row in two minutes
    out = aggregate_levels(sparse, ["series", "region"], include_bottom=False)
    assert len(out) == 4 and out.value.round(2).tolist() == [10.01, 10.0, 10.0, 10.01]
    strict = aggregate_levels(sparse, ["series", "region"], include_bottom=False, min_share=1.0)
    assert len(strict) == 2


def test_a_series_retired_on_an_earlier_day_does_not_hold_the_totals_back():
    day1 = pd.date_range("2025-12-08", periods=3, freq="1min", tz="UTC")
    day2 = day1 + pd.Timedelta("1D")
    rows = [pd.DataFrame(dict(service="a", region="us", metric="requests", ts=day1.append(day2), value=5.0)),
            pd.DataFrame(dict(service="b", region="us", metric="requests", ts=day1, value=1.0))]  # retired after day 1
    out = aggregate_levels(pd.concat(rows, ignore_index=True), ["series", "region"], include_bottom=False)
    assert out.value.tolist() == [6.0, 6.0, 6.0, 5.0, 5.0, 5.0]


def test_bottom_keys_with_a_star_are_rejected_with_a_hint():
    keys = KEYS.assign(service=["*", "a", "a", "b"])
    with pytest.raises(InputError, match=r"level 'series' rows must name a service and a region.*\*/us/requests"):
        build_hierarchies(keys, ["series", "region"])


def test_importing_the_reconcile_package_does_not_import_pyspark():
    import subprocess
    import sys

    code = "import sys, cloudtune.reconcile; print('pyspark' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
