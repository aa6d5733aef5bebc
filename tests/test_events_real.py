"""Slow checks of the event bars (issue 4), built on the benchmark functions so the numbers agree.

Sample fleet with known truth (cloudtune.simulate), UCI Bike Sharing (Fanaee-T & Gama 2013,
doi:10.1007/s13748-013-0040-3) and City of Melbourne pedestrian counts (via tsibble, GPL-3; all four sensors in
/work/shared/data/melbourne-pedestrian). Figures and the Prophet comparison: tests/benchmarks/events_*.py.
"""
import pytest

from tests.benchmarks import events_fleet, events_real

pytestmark = pytest.mark.slow


def test_lifts_and_peak_minutes_recovered_on_the_fleet():
    rec = events_fleet.recovery(services=["checkout", "search"])
    assert (rec["lift_err"].abs() <= 0.10).all(), rec.loc[rec["lift_err"].abs() > 0.10]
    day = rec[rec["spiky"] & (rec["duration_h"] <= 48)]
    assert len(day) and (day["peak_err_min"].abs() <= 15).all()


def test_24h_history_forecasts_48h_total_lift():
    w = events_fleet.warp(services=["checkout", "search"])
    assert (w["lift_err"].abs() <= 0.15).all() and (w["volume_err"].abs() <= 0.15).all()


def test_bike_holidays_as_events_lower_event_day_error():
    r = events_real.run(events_real.realdata.bike(), events_real.bike_events(), 2012, events_real.pd.Timedelta(0),
                        False, "bike")
    assert len(r) >= 8
    assert r["mae_with"].mean() <= 0.7 * r["mae_without"].mean()


def test_melbourne_holidays_and_festivals_as_events_lower_event_day_error():
    ped = events_real.realdata.pedestrian()
    r = events_real.run(ped, events_real.melbourne_events(), 2016, events_real.pd.Timedelta("11h"), False,
                        "pedestrian")
    assert r["series"].nunique() == ped["service"].nunique() == 4  # every sensor, none dropped
    assert len(r) >= 40
    assert r["mae_with"].mean() <= 0.7 * r["mae_without"].mean()
