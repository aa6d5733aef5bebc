"""Capacity arithmetic worked out by hand on small cases (3 zones a, b, c unless said otherwise)."""
import pytest

from cloudtune.capacity import region_options, size_region
from tests.capacity.helpers import capacity, model


def sized(tmp_path, load, region="r", types=None, **spec):
    cap = capacity(tmp_path, {"svc": model(**spec)}, types=types)
    m = cap.models["svc"]
    return size_region(load, m, region_options(m, cap.catalog, region), cap.catalog.regions[region])


def test_no_redundancy_rounds_up_and_spreads_over_zones(tmp_path):
    # 1000 / 300 = 3.33 -> 4 instances, placed 2, 1, 1
    s = sized(tmp_path, 1000)
    assert s.instances == 4
    assert [s.in_zone(z) for z in "abc"] == [2, 1, 1]
    assert s.shortfall == 0


def test_n_plus_one_adds_a_spare_in_every_zone(tmp_path):
    # the 4 above plus one per zone = 7
    s = sized(tmp_path, 1000, redundancy="n_plus_one")
    assert s.instances == 7
    assert [s.in_zone(z) for z in "abc"] == [3, 2, 2]


def test_zone_loss_lets_two_zones_carry_the_whole_peak(tmp_path):
    # each of 3 zones carries 1000 / 2 = 500 -> ceil(500 / 300) = 2 per zone = 6; losing any zone leaves 1200
    s = sized(tmp_path, 1000, redundancy="zone_loss")
    assert [s.in_zone(z) for z in "abc"] == [2, 2, 2]
    # five would not do: 2 + 2 + 1 loses a 2-zone and keeps 900 < 1000
    assert min(s.instances - s.in_zone(z) for z in "abc") * 300 >= 1000


def test_zone_loss_with_two_zones_doubles_the_fleet(tmp_path):
    s = sized(tmp_path, 500, region="two", redundancy="zone_loss")
    assert [s.in_zone(z) for z in "xy"] == [2, 2]


def test_headroom_is_added_before_rounding(tmp_path):
    # 1000 * 1.25 = 1250 -> 1250 / 300 = 4.17 -> 5 (without headroom it would be 4)
    assert sized(tmp_path, 1000, headroom=0.25).instances == 5
    assert sized(tmp_path, 1000, headroom=0.25).required_load == pytest.approx(1250)


def test_an_exact_multiple_is_not_rounded_up_by_float_noise(tmp_path):
    # 900 * 1.1 is 990.0000000000001 in floating point; 990 / 330 is exactly 3 instances, not 4
    s = sized(tmp_path, 900, headroom=0.1, runs_on={"c7.large": 330})
    assert s.instances == 3


def test_minimum_fleet_is_a_floor_spread_over_zones(tmp_path):
    s = sized(tmp_path, 10, min_instances=5)
    assert s.instances == 5
    assert [s.in_zone(z) for z in "abc"] == [2, 2, 1]
    # and a minimum below what the load needs changes nothing
    assert sized(tmp_path, 1000, min_instances=2).instances == 4


TWO_GENERATIONS = {
    # the older generation is cheaper per request: newest generation still wins while it has room
    "c7.large": ("c", 7, 1.0, {"r": {"a": 1, "b": 1, "c": 1}}, None),
    "c6.large": ("c", 6, 0.5, {"r": {"a": 100, "b": 100, "c": 100}}, None),
}


def test_newest_generation_first_then_the_next_within_zone_limits(tmp_path):
    # 2000 / 400 = 5 instances: c7 is capped at 1 per zone (3), the other 800 req/min take 2 c6
    s = sized(tmp_path, 2000, types=TWO_GENERATIONS, runs_on={"c7": 400, "c6": 400})
    assert s.of_type("c7.large") == 3 and s.of_type("c6.large") == 2
    for zone in "abc":
        assert s.counts.get((zone, "c7.large"), 0) <= 1


def test_region_limit_caps_a_type_across_its_zones(tmp_path):
    types = {"c7.large": ("c", 7, 1.0, {"r": {"a": 10, "b": 10, "c": 10}}, 2),
             "c6.large": ("c", 6, 0.5, {"r": {"a": 100, "b": 100, "c": 100}}, None)}
    s = sized(tmp_path, 2000, types=types, runs_on={"c7": 400, "c6": 400})
    assert s.of_type("c7.large") == 2
    assert s.of_type("c6.large") == 3  # the remaining 1200 / 400


def test_a_type_unavailable_in_a_zone_is_never_placed_there(tmp_path):
    types = {"c7.large": ("c", 7, 1.0, {"r": {"a": 50, "b": 50, "c": 0}}, None)}
    s = sized(tmp_path, 3000, types=types, runs_on={"c7": 300})
    assert s.in_zone("c") == 0
    assert s.instances == 10 and s.shortfall == 0


def test_load_beyond_every_limit_is_reported_as_shortfall(tmp_path):
    s = sized(tmp_path, 2000, types=TWO_GENERATIONS, runs_on={"c7": 400})
    assert s.of_type("c7.large") == 3
    assert s.shortfall == pytest.approx(2000 - 3 * 400)
    assert "uncovered" in s.notes[0]


def test_zone_loss_short_in_one_zone_names_the_zone(tmp_path):
    types = {"c7.large": ("c", 7, 1.0, {"r": {"a": 1, "b": 10, "c": 10}}, None)}
    s = sized(tmp_path, 1000, types=types, redundancy="zone_loss")
    assert s.counts[("a", "c7.large")] == 1
    assert s.shortfall == pytest.approx(500 - 300)
    assert any(n.startswith("zone a:") for n in s.notes)


def test_a_zone_at_its_limit_leaves_the_round_robin_to_the_others(tmp_path):
    # 2000 / 200 = 10: one round over a, b, c (a is then full), then b, c, b, c, b, c, b
    types = {"c7.large": ("c", 7, 1.0, {"r": {"a": 1, "b": 10, "c": 10}}, None)}
    s = sized(tmp_path, 2000, types=types, runs_on={"c7": 200})
    assert [s.in_zone(z) for z in "abc"] == [1, 5, 4]


def test_large_fleets_are_placed_in_whole_rounds(tmp_path):
    # 1,000,000 / 100 = 10,000, plus one spare per zone
    s = sized(tmp_path, 1e6, runs_on={"c7.large": 100}, redundancy="n_plus_one",
              types={"c7.large": ("c", 7, 1.0, {"r": {"a": 10**6, "b": 10**6, "c": 10**6}}, None)})
    assert [s.in_zone(z) for z in "abc"] == [3335, 3334, 3334]
