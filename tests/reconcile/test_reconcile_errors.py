"""Clear errors at the boundary: settings, levels, methods and base forecasts that do not fit the hierarchy."""
import pandas as pd
import pytest

from cloudtune.config.strict import from_dict
from cloudtune.errors import ConfigError, InputError
from cloudtune.reconcile import ReconcileSettings, projection_matrix, reconcile
from tests.reconcile.reconcile_synth import fleet


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="mint"), "reconcile.method must be one of bottom_up, top_down, ols, wls_struct, mint_shrink, "
                          "got 'mint'"),
    (dict(fallback="mint_shrink"), "reconcile.fallback must be one of bottom_up, ols, wls_struct"),
    (dict(levels=["series", "country"]), "unknown level 'country'; allowed levels are series, region, service, global"),
    (dict(levels=["region", "global"]), "must include 'series'"),
    (dict(levels=["series", "region", "region"]), "'region' is listed twice"),
    (dict(levels=["series", "global"], partition="region"), "global sums across regions"),
    (dict(partition="service"), "reconcile.partition must be one of metric, region"),
    (dict(block="30"), "give a unit"),
    (dict(block="soon"), "cannot read 'soon'"),
    (dict(min_residuals=2), "min_residuals must be a whole number >= 3, got 2"),
    (dict(total_min_share=99), "reconcile.total_min_share must be a number in [0, 1], got 99"),
])
def test_bad_settings_name_the_key_and_the_allowed_values(kwargs, message):
    with pytest.raises(ValueError) as err:
        ReconcileSettings(**kwargs)
    assert message in str(err.value)


def test_yaml_section_is_strict():
    assert from_dict(ReconcileSettings, {"method": "ols", "levels": ["series", "service"]}).levels == \
        ["series", "service"]
    with pytest.raises(ConfigError, match="unknown key 'reconcile.metod'. Did you mean 'method'"):
        from_dict(ReconcileSettings, {"metod": "ols"}, where="reconcile")


def test_unknown_method_passed_directly_is_rejected():
    with pytest.raises(ConfigError, match="got 'magic'"):
        projection_matrix(pd.DataFrame([[1.0]]).to_numpy(), "magic")


def test_a_level_that_is_not_configured_is_named():
    base, _, _ = fleet(levels=("series", "region", "service", "global"))
    with pytest.raises(InputError, match="level 'service', which is not in reconcile.levels"):
        reconcile(base, ReconcileSettings())


def test_a_missing_parent_node_is_named():
    base, _, _ = fleet()
    base = base[~((base.level == "region") & (base.region == "us"))]
    with pytest.raises(InputError, match=r"missing node\(s\) region:\*/us/requests"):
        reconcile(base, ReconcileSettings())


def test_a_missing_timestamp_is_named():
    base, _, _ = fleet()
    drop = base.index[(base.level == "global")][2]
    with pytest.raises(InputError, match=r"no base mean for global:\*/\*/requests at 2025-12-08 02:00"):
        reconcile(base.drop(index=drop), ReconcileSettings())


def test_duplicate_rows_are_named():
    base, _, _ = fleet()
    with pytest.raises(InputError, match=r"more than one base row for series:a/eu/requests"):
        reconcile(pd.concat([base, base[base.service == "a"].head(1)]), ReconcileSettings())


def test_top_down_without_history_says_what_to_pass():
    base, _, _ = fleet()
    with pytest.raises(ConfigError, match="top_down needs the bottom series' history"):
        reconcile(base, ReconcileSettings(method="top_down"))


def test_top_down_without_a_single_top_level_asks_for_global():
    base, _, history = fleet(levels=("series", "region", "service"))
    with pytest.raises(ConfigError, match="add 'global' to reconcile.levels"):
        reconcile(base, ReconcileSettings(method="top_down", levels=["series", "region", "service"]),
                  history=history)


def test_missing_bottom_quantile_is_named():
    base, _, _ = fleet()
    base.loc[base.index[base.level == "series"][0], "p90"] = None
    with pytest.raises(InputError, match="p90 is missing for series"):
        reconcile(base, ReconcileSettings(method="ols"))
