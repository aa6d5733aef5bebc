"""Recovery bars on the sample fleet with known truth (the issue's bars; the full report is
tests/benchmarks/recovery.py -> results/recovery.md): break dates within one day, seasonal amplitudes (half-range of
the log multiplier, the simulator's definition) within 10%."""
import sys
from pathlib import Path

import pytest

from cloudtune.simulate import simulate_fleet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from recovery import recover, score  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minute():
    fleet = simulate_fleet(days=150, seed=7, services=["cart", "detail", "payments"])
    return score(recover(fleet))


@pytest.fixture(scope="module")
def hourly():
    fleet = simulate_fleet(days=760, seed=7, grain="1h", services=["home", "search"], regions=["us", "in"],
                           metrics=["requests"])
    return score(recover(fleet))


def test_break_dates_found_within_a_day(minute):
    assert minute["true_breaks"] >= 8, minute
    assert minute["recall"] >= 0.7, minute
    assert minute["false_breaks"] <= 0.1 * minute["series"], minute


@pytest.mark.parametrize("component", ["daily", "weekly"])
def test_intraday_and_weekly_amplitudes_within_10_percent(minute, component):
    assert minute[component]["n"] == minute["series"]
    assert minute[component]["max"] <= 0.10, minute[component]


@pytest.mark.parametrize("component", ["daily", "weekly", "yearly"])
def test_amplitudes_on_two_years_of_hours(hourly, component):
    assert hourly[component]["n"] == hourly["series"]
    assert hourly[component]["max"] <= 0.10, hourly[component]
