"""The two-year regional roll-up by generation, from constructed long-range extract rows."""
import pandas as pd
import pytest

from cloudtune.capacity.rollup import ROLLUP_COLUMNS, regional_rollup
from cloudtune.errors import InputError
from tests.capacity.helpers import capacity, model

TYPES = {"c7.large": ("c", 7, 1.0, {"r": {"a": 2, "b": 2, "c": 2}}, None),
         "c6.large": ("c", 6, 0.5, {"r": {"a": 100, "b": 100, "c": 100}}, None)}


def _extract(rows):
    cols = ["service", "region", "metric", "level", "week_start", "peak_minute_p90"]
    df = pd.DataFrame(rows, columns=cols)
    df["peak_minute_p50"], df["peak_minute_p99"] = df["peak_minute_p90"] / 2, df["peak_minute_p90"] * 2
    return df


def test_weeks_are_sized_per_service_and_summed_by_generation(tmp_path):
    cap = capacity(tmp_path, {"a1": model(runs_on={"c7": 100, "c6": 100}), "b1": model(runs_on={"c6": 200})},
                   types=TYPES)
    extract = _extract([
        ("a1", "r", "requests", "series", "2026-01-05", 500),   # 5 c7
        ("b1", "r", "requests", "series", "2026-01-05", 1000),  # 5 c6
        ("a1", "r", "requests", "series", "2026-01-12", 900),   # 6 c7 (the limit) + 3 c6
        ("b1", "r", "requests", "series", "2026-01-12", 1000),  # 5 c6
        ("*", "r", "requests", "region", "2026-01-12", 1700),   # region total busiest minute
        ("a1", "r", "orders", "series", "2026-01-12", 1e9),     # another metric: not what a1 is sized on
    ])
    out, unplanned = regional_rollup(extract, cap)
    assert list(out.columns) == ROLLUP_COLUMNS and unplanned.empty
    got = out.set_index(["week_start", "generation"])["instances"].to_dict()
    assert got == {("2026-01-05", 6): 5, ("2026-01-05", 7): 5, ("2026-01-12", 6): 8, ("2026-01-12", 7): 6}
    w2 = out[out.week_start == "2026-01-12"].iloc[0]
    assert w2["region_peak_load"] == 1700 and w2["load_source"] == "region_total"
    w1 = out[out.week_start == "2026-01-05"].iloc[0]
    assert w1["region_peak_load"] == 1500 and w1["load_source"] == "sum_of_series_peaks"
    assert set(out[out.generation == 7]["limit_instances"]) == {6}


def test_load_beyond_limits_is_kept_in_the_newest_generation(tmp_path):
    cap = capacity(tmp_path, {"a1": model(runs_on={"c7": 100})}, types=TYPES)
    out, _ = regional_rollup(_extract([("a1", "r", "requests", "series", "2026-01-05", 1000)]), cap)
    assert out.set_index("status")["instances"].to_dict() == {"placed": 6, "beyond_limits": 4}
    assert set(out["generation"]) == {7}


def test_services_without_a_model_are_reported(tmp_path):
    cap = capacity(tmp_path, {"a1": model()})
    out, unplanned = regional_rollup(_extract([("zz", "r", "requests", "series", "2026-01-05", 10)]), cap)
    assert out.empty and unplanned.iloc[0]["service"] == "zz"


def test_only_extract_quantiles_are_accepted(tmp_path):
    cap = capacity(tmp_path, {"a1": model()})
    with pytest.raises(InputError, match="p50, p90 and p99, not 'mean'"):
        regional_rollup(_extract([]), cap, quantile="mean")
