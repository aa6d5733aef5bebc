"""conf/capacity is validated like the rest of conf/: file, key, suggestion; bad values named."""
import shutil

import pytest

from cloudtune.capacity import load_capacity
from cloudtune.errors import ConfigError
from tests.capacity.helpers import model, write_capacity


def test_the_bundled_capacity_config_loads(repo):
    cap = load_capacity(repo / "conf" / "capacity")
    assert {"home", "search", "detail", "cart", "checkout", "payments"} <= set(cap.models)
    assert cap.models["home"].options[0] == ("c7.2xlarge", 3000.0)
    assert cap.fleet_path().is_file()


def test_a_misspelled_key_names_the_file_the_key_and_a_suggestion(tmp_path):
    folder = write_capacity(tmp_path, {"svc": model(headrom=0.2)})
    with pytest.raises(ConfigError) as err:
        load_capacity(folder)
    text = str(err.value)
    assert "services/svc.yaml" in text and "'headrom'" in text and "Did you mean 'headroom'?" in text


@pytest.mark.parametrize("spec, words", [
    (dict(redundancy="n+1"), ["redundancy must be one of none, n_plus_one, zone_loss", "'n+1'"]),
    (dict(headroom=-0.1), ["headroom"]),
    (dict(runs_on={"c7.large": 0}), ["runs_on", "must be > 0"]),
    (dict(min_instances=2.5), ["'min_instances' must be a whole number", "2.5"]),
    (dict(lead_time="two weeks"), ["lead_time", "cannot read duration"]),
    (dict(event_quantile="p95"), ["event_quantile must be one of mean, p50, p90, p99"]),
])
def test_bad_values_are_named(tmp_path, spec, words):
    folder = write_capacity(tmp_path, {"svc": model(**spec)})
    with pytest.raises(ConfigError) as err:
        load_capacity(folder)
    assert "svc.yaml" in str(err.value)
    for w in words:
        assert w in str(err.value)


def test_runs_on_an_unknown_type_suggests_the_catalog_name(tmp_path):
    folder = write_capacity(tmp_path, {"svc": model(runs_on={"c7.larg": 300})})
    with pytest.raises(ConfigError, match=r"runs_on.c7.larg is not an instance type .* Did you mean 'c7.large'\?"):
        load_capacity(folder)


def test_family_generation_matching_two_sizes_asks_for_the_type(tmp_path):
    types = {"c7.large": ("c", 7, 1.0, {"r": {"a": 1}}, None), "c7.xlarge": ("c", 7, 2.0, {"r": {"a": 1}}, None)}
    folder = write_capacity(tmp_path, {"svc": model(runs_on={"c7": 300})}, types=types)
    with pytest.raises(ConfigError, match="c7 matches several instance types"):
        load_capacity(folder)


def test_a_zone_outside_its_region_is_rejected_with_the_zones_it_has(tmp_path):
    types = {"c7.large": ("c", 7, 1.0, {"r": {"a": 1, "d": 1}}, None)}
    folder = write_capacity(tmp_path, {"svc": model()}, types=types)
    with pytest.raises(ConfigError, match=r"zone 'd' .* not a zone of region 'r'.*Zones of r: a, b, c"):
        load_capacity(folder)


def test_an_unknown_region_in_locations_is_rejected(tmp_path):
    types = {"c7.large": ("c", 7, 1.0, {"rr": {"a": 1}}, None)}
    folder = write_capacity(tmp_path, {"svc": model()}, types=types)
    with pytest.raises(ConfigError, match=r"unknown region 'rr'.*Did you mean 'r'\?"):
        load_capacity(folder)


def test_a_missing_folder_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError, match="--capacity-dir"):
        load_capacity(tmp_path / "nowhere")


def test_a_typo_in_the_bundled_catalog_is_caught(repo, tmp_path):
    folder = tmp_path / "capacity"
    shutil.copytree(repo / "conf" / "capacity", folder)
    text = (folder / "catalog.yaml").read_text().replace("relative_cost: 1.00", "relative_cots: 1.00", 1)
    (folder / "catalog.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"catalog.yaml: unknown key 'instance_types.c7.2xlarge.relative_cots'"):
        load_capacity(folder)
