"""The sample fleet simulator: its data look like a fleet, and its ground truth is what produced the data."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.events import load_calendar
from cloudtune.simulate import Fleet, simulate_fleet

ROOT = Path(__file__).resolve().parents[1]
KEY = ["service", "region", "metric"]
SMALL = dict(services=["home", "checkout"], regions=["us", "in", "uk"], metrics=["requests", "orders"],
             end="2025-12-08", days=21, seed=11)


@pytest.fixture(scope="module")
def calendar():
    return load_calendar(ROOT / "conf" / "events")


@pytest.fixture(scope="module")
def fleet(calendar):
    return simulate_fleet(**SMALL, events=calendar)


@pytest.fixture(scope="module")
def components(fleet):
    return fleet.components


def _series(df, service, region, metric):
    return df[(df.service == service) & (df.region == region) & (df.metric == metric)].set_index("ts")


def test_same_seed_same_fleet_other_seed_other_fleet(fleet, calendar):
    again = simulate_fleet(**SMALL, events=calendar)
    pd.testing.assert_frame_equal(again.actuals, fleet.actuals)
    for name, table in fleet.truth().items():
        pd.testing.assert_frame_equal(again.truth()[name], table, obj=name)
    other = simulate_fleet(**{**SMALL, "seed": 12}, events=calendar)
    assert not np.array_equal(other.actuals["value"].to_numpy()[:1000], fleet.actuals["value"].to_numpy()[:1000])


def test_actuals_contract(fleet):
    a = fleet.actuals
    assert isinstance(fleet, Fleet)
    assert list(a.columns) == ["service", "region", "metric", "ts", "value"]
    assert str(a["ts"].dtype) == "datetime64[ns, UTC]"
    assert a["value"].dtype == np.float64
    assert np.isfinite(a["value"]).all() and (a["value"] >= 0).all()
    assert a.groupby(KEY).ngroups == 2 * 3 * 2
    assert a["ts"].min() == pd.Timestamp("2025-11-17", tz="UTC")
    assert a["ts"].max() < pd.Timestamp("2025-12-08", tz="UTC")
    assert (a["ts"].dt.second == 0).all()
    assert not a.duplicated(KEY + ["ts"]).any()


def test_truth_tables_have_their_columns(fleet, components):
    assert list(components.columns) == [*KEY, "ts", "level", "trend", "daily", "weekly", "yearly", "event",
                                        "noise", "outlier", "value", "missing"]
    assert {"kind", "start", "end", "magnitude"} <= set(fleet.outliers.columns)
    assert {"ts", "slope_before", "slope_after"} <= set(fleet.breaks.columns)
    assert {"name", "start", "end", "lift", "peak_lift", "peak_offset_minutes", "shape"} <= set(fleet.events.columns)
    assert {"daily_amplitude", "weekly_amplitude", "yearly_amplitude"} <= set(fleet.seasonality.columns)
    assert len(fleet.seasonality) == len(fleet.series) == 12


def test_sizes_differ_by_service_metric_and_region(fleet):
    level = fleet.series.set_index(KEY)["level"]
    assert level["checkout", "us", "orders"] < level["checkout", "us", "requests"]
    assert level["checkout", "us", "requests"] < level["home", "us", "requests"]
    assert level["home", "uk", "requests"] < level["home", "us", "requests"]


@pytest.mark.parametrize("region, hour", [("us", 2), ("in", 14), ("uk", 19)])
def test_daily_peak_follows_the_region_evening(fleet, region, hour):
    s = _series(fleet.actuals, "home", region, "requests")["value"]
    peak = s.groupby(s.index.hour).median().idxmax()
    assert min(abs(peak - hour), 24 - abs(peak - hour)) <= 2


def test_components_multiply_to_value(components):
    c = components
    product = c.level * c.trend * c.daily * c.weekly * c.yearly * c.event * c.noise * c.outlier
    np.testing.assert_allclose(product, c["value"], rtol=1e-9, atol=1e-9)
    clean = c["outlier"] == 1.0
    assert clean.mean() > 0.95


def test_actuals_are_the_components_value_where_not_missing(fleet, components):
    kept = components[~components["missing"]].reset_index(drop=True)
    assert len(kept) == len(fleet.actuals)
    np.testing.assert_array_equal(kept["value"].to_numpy(), fleet.actuals["value"].to_numpy())
    pd.testing.assert_series_equal(kept["ts"], fleet.actuals["ts"])


def test_missing_minutes_are_absent(fleet, calendar):
    full = len(fleet.series) * 21 * 1440
    share = 1 - len(fleet.actuals) / full
    assert 0.0005 < share < 0.02
    assert (fleet.series["n_missing"] > 0).all()
    complete = simulate_fleet(**SMALL, events=calendar, missing=False)
    assert len(complete.actuals) == full


def test_events_only_in_their_regions(fleet, components):
    assert set(fleet.events["region"]) == {"us", "uk"}  # nothing of India's calendar falls in the window
    assert set(fleet.events["name"]) == {"black_friday", "cyber_monday", "black_friday_week"}
    touched = components.loc[components["event"] != 1.0, "region"].unique()
    assert set(touched) == {"us", "uk"}
    us = fleet.events[fleet.events["region"] == "us"]
    assert set(us["name"]) == {"black_friday", "cyber_monday"}


def test_events_are_visible_in_the_data(fleet):
    week = pd.Timedelta(days=7)
    for e in fleet.events[fleet.events["region"] == "us"].itertuples():
        s = _series(fleet.actuals, e.service, e.region, e.metric)["value"]
        during = s[e.start:e.end - pd.Timedelta("1min")].mean()
        before = s[e.start - week:e.end - week - pd.Timedelta("1min")].mean()
        assert during > 1.05 * before, (e.service, e.metric, e.name, during, before)


def test_event_lift_is_the_mean_multiplier_over_the_occurrence(fleet, components):
    for e in fleet.events[(fleet.events["region"] == "us") & fleet.events["complete"]].itertuples():
        c = _series(components, e.service, e.region, e.metric)["event"]
        own = c[e.start:e.end - pd.Timedelta("1min")]
        # Black Friday and Cyber Monday do not overlap in the us, so the component is this event alone.
        assert own.mean() == pytest.approx(e.lift, rel=2e-3), (e.service, e.metric, e.name)
        assert own.max() == pytest.approx(e.peak_lift, rel=2e-2)


def test_checkout_spikes_in_the_first_minutes(fleet, components):
    ev = fleet.events[(fleet.events["service"] == "checkout") & (fleet.events["duration_minutes"] == 1440)]
    assert len(ev) and (ev["peak_offset_minutes"].between(1, 15)).all()
    assert (ev["peak_lift"] > ev["lift"] * 1.5).all()
    e = ev[(ev["region"] == "us") & (ev["metric"] == "orders")].iloc[0]
    c = _series(components, "checkout", "us", "orders")["event"]
    top = c[e["start"]:e["end"]].idxmax()
    assert abs((top - e["start"]) / pd.Timedelta("1min") - e["peak_offset_minutes"]) <= 1.0
    home = fleet.events[fleet.events["service"] == "home"]
    np.testing.assert_allclose(home["peak_lift"], home["lift"])  # browsing services have a plain plateau


def test_event_effect_is_stable_and_time_warps_with_duration():
    two = pd.DataFrame(dict(
        name=["doorbuster", "doorbuster"], region=["us", "us"],
        start=pd.to_datetime(["2025-11-20T05:00Z", "2025-12-02T05:00Z"]),
        end=pd.to_datetime(["2025-11-21T05:00Z", "2025-12-04T05:00Z"]),
    ))
    f = simulate_fleet(services=["checkout"], regions=["us"], metrics=["orders"], days=28, events=two)
    first, second = f.events.sort_values("start").to_dict("records")
    assert first["lift"] == second["lift"] and first["spike_at"] == second["spike_at"]
    assert second["duration_minutes"] == 2 * first["duration_minutes"]
    assert second["peak_offset_minutes"] == pytest.approx(2 * first["peak_offset_minutes"])


def test_outliers_recorded_never_in_events_and_visible(fleet, components):
    by_key = {key: c.set_index("ts") for key, c in components.groupby(KEY, sort=False)}
    out = fleet.outliers
    assert set(out["kind"]) <= {"spike_up", "spike_down", "outage", "level_drop"}
    assert {"spike_up", "outage"} <= set(out["kind"])
    assert not ((out["metric"] == "orders") & (out["kind"] == "spike_up")).any()  # robots do not buy
    for o in out.itertuples():
        c = by_key[o.service, o.region, o.metric]
        inside = c.loc[o.start:o.end - pd.Timedelta("1min")]
        assert len(inside) == o.duration_minutes
        np.testing.assert_allclose(inside["outlier"], o.magnitude)
        assert (inside["event"] == 1.0).all()
        before = c.loc[o.start - pd.Timedelta("30min"):o.start - pd.Timedelta("1min"), "value"].median()
        if o.kind == "spike_up":
            assert inside["value"].mean() > 2 * before
        elif o.kind == "outage":
            assert inside["value"].mean() < 0.1 * before


def test_outliers_stay_out_of_event_windows(fleet):
    for o in fleet.outliers.itertuples():
        ev = fleet.events[(fleet.events["service"] == o.service) & (fleet.events["region"] == o.region)
                          & (fleet.events["metric"] == o.metric)]
        lo = ev["start"] - pd.to_timedelta(ev["ramp_minutes"], unit="min")
        hi = ev["end"] + pd.to_timedelta(ev["decay_minutes"], unit="min")
        assert not ((o.start < hi) & (o.end > lo)).any()


def test_breaks_are_at_midnight_and_change_the_trend_slope(calendar):
    f = simulate_fleet(services=["home", "search", "detail", "cart"], regions=["us", "uk"], metrics=["requests"],
                       days=42, seed=3, outliers=False, missing=False)
    assert len(f.breaks)
    assert (f.breaks["ts"] == f.breaks["ts"].dt.normalize()).all()
    b = f.breaks.iloc[0]
    trend = np.log(f.series_components(b["service"], b["region"], b["metric"]).set_index("ts")["trend"])
    per_day = trend.resample("D").first().diff()
    assert per_day[b["ts"] - pd.Timedelta(days=1)] == pytest.approx(b["slope_before"], abs=1e-9)
    assert per_day[b["ts"] + pd.Timedelta(days=2)] == pytest.approx(b["slope_after"], abs=1e-9)


def test_seasonal_amplitudes_match_the_components(fleet):
    s = fleet.seasonality.iloc[0]
    c = fleet.series_components(s["service"], s["region"], s["metric"]).set_index("ts")
    daily = np.log(c["daily"][:"2025-11-17 23:59"])
    assert (daily.max() - daily.min()) / 2 == pytest.approx(s["daily_amplitude"], rel=1e-3)
    peak = (daily.idxmax() - pd.Timestamp("2025-11-17", tz="UTC")) / pd.Timedelta("1h")
    assert peak == pytest.approx(s["daily_peak_hour_utc"], abs=1 / 30)
    weekly = np.log(c["weekly"][:"2025-11-23 23:59"])
    assert (weekly.max() - weekly.min()) / 2 == pytest.approx(s["weekly_amplitude"], rel=1e-3)
    assert np.log(c["yearly"]).max() <= s["yearly_amplitude"] + 1e-12


def test_n_services_adds_generated_services_and_keeps_the_others():
    base = dict(services=["home", "checkout"], regions=["us"], metrics=["requests"], days=7)
    small = simulate_fleet(**base)
    big = simulate_fleet(**base, n_services=5)
    assert list(big.series["service"]) == ["home", "checkout", "svc-003", "svc-004", "svc-005"]
    assert big.actuals.groupby(KEY).ngroups == 5
    same = big.actuals[big.actuals["service"].isin(["home", "checkout"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(same, small.actuals)
    assert len(simulate_fleet(**base, n_services=1).series) == 1


def test_default_demo_fleet_extends_to_svc_007():
    f = simulate_fleet(regions=["in"], metrics=["orders"], days=1, n_services=8)
    assert list(f.series["service"])[-2:] == ["svc-007", "svc-008"]


def test_coarser_grain_sums_the_minutes():
    kwargs = dict(services=["search"], regions=["in"], metrics=["requests"], days=7, outliers=False, missing=False)
    minutes = simulate_fleet(**kwargs).actuals
    hours = simulate_fleet(**kwargs, grain="1h").actuals
    assert len(hours) == 7 * 24 and (hours["ts"].dt.minute == 0).all()
    ratio = hours["value"].sum() / minutes["value"].sum()
    assert ratio == pytest.approx(1.0, rel=0.02)


def test_write_csv_and_parquet(calendar, tmp_path):
    fleet = simulate_fleet(services=["checkout"], regions=["us"], days=14, events=calendar)
    paths = fleet.write(tmp_path / "csv", fmt="csv")
    assert set(paths) == {"actuals", "components", "outliers", "breaks", "events", "seasonality", "series"}
    back = pd.read_csv(paths["actuals"])
    assert len(back) == len(fleet.actuals) and list(back.columns) == list(fleet.actuals.columns)
    assert back["ts"].iloc[0] == "2025-11-24T00:00:00Z"
    pd.testing.assert_series_equal(pd.to_datetime(back["ts"], utc=True).astype("datetime64[ns, UTC]"),
                                   fleet.actuals["ts"])
    paths = fleet.write(tmp_path / "pq", fmt="parquet", components=False)
    assert "components" not in paths
    pd.testing.assert_frame_equal(pd.read_parquet(paths["events"]), fleet.events)
    assert len(pd.read_csv(tmp_path / "csv" / "truth_components.csv")) == 2 * 14 * 1440


@pytest.mark.parametrize("kwargs, message", [
    (dict(grain="7min"), "grain must be one of"),
    (dict(end="2025-12-08T00:00:30"), "not on the 1min grain"),
    (dict(n_services=0), "n_services must be"),
    (dict(seed=-1), "seed must be"),
    (dict(services=["home", "home"]), "services must be unique"),
    (dict(days=0), "days must be"),
    (dict(start="2025-12-09"), "must be before end"),
])
def test_bad_arguments_say_what_to_fix(kwargs, message):
    with pytest.raises(InputError, match=message):
        simulate_fleet(**{"days": 1, **kwargs})


def test_simulator_does_not_import_spark():
    code = "import sys, cloudtune.simulate; assert not any(m.startswith('pyspark') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
