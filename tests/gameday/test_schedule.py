"""Game-day schedules add up to the forecast they came from, split by service and by journey step."""
import json

import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.events import normalize_events
from cloudtune.gameday import JourneyConfig, Occurrence, build_schedule, find_occurrence, split_integers

T0 = pd.Timestamp("2026-01-10T12:00Z")
OCC = Occurrence("flash_sale", "us", T0 + pd.Timedelta("20min"), T0 + pd.Timedelta("50min"), T0,
                 T0 + pd.Timedelta("60min"))
SERVICES = {"home": 5000.0, "search": 3000.0, "checkout": 400.0, "payments": 300.0, "ads": 700.0}
JOURNEY = JourneyConfig(services={"home": "browse", "search": "search", "checkout": "checkout",
                                  "payments": "checkout"},
                        configured={"search": 0.3, "browse": 0.3, "detail": 0.2, "cart": 0.1, "checkout": 0.1},
                        ramp_up="10min", ramp_from=0.2)


def forecast_minutes(region_total=None, seed=0):
    rng = np.random.default_rng(seed)
    ts = pd.date_range(T0 - pd.Timedelta("1h"), T0 + pd.Timedelta("2h"), freq="1min", inclusive="left")
    rows = []
    for service, level in SERVICES.items():
        mean = level * (1 + 0.3 * rng.random(len(ts)))
        rows.append(pd.DataFrame(dict(service=service, region="us", level="series", ts=ts, mean=mean, p50=mean,
                                      p90=mean * 1.2, p99=mean * 1.5 + rng.random(len(ts)))))
    out = pd.concat(rows, ignore_index=True)
    if region_total is not None:
        total = out.groupby("ts")[["mean", "p50", "p90", "p99"]].sum() * region_total
        out = pd.concat([out, total.reset_index().assign(service="*", region="us", level="region")])
    return out


def event_minutes(schedule):
    return schedule.frame[schedule.frame["phase"] != "ramp_up"].set_index("ts")


def test_without_a_region_total_each_service_is_driven_at_its_own_forecast():
    minutes = forecast_minutes()
    sched = build_schedule(minutes, OCC, "p99", JOURNEY)
    got = event_minutes(sched)
    want = minutes.pivot(index="ts", columns="service", values="p99").loc[got.index]
    assert len(got) == 60 and sched.meta["basis"] == "sum_of_series"
    assert np.abs(got["total"] - want.sum(axis=1)).max() <= 0.5
    for service in SERVICES:
        assert np.abs(got[f"service.{service}"] - want[service]).max() < 1.0 + 1e-9
    assert (got[[f"service.{s}" for s in SERVICES]].sum(axis=1) == got["total"]).all()
    assert (got[[f"step.{s}" for s in JOURNEY.steps]].sum(axis=1) == got["total"]).all()


def test_a_region_total_is_the_total_and_services_share_it():
    minutes = forecast_minutes(region_total=0.9)  # a reconciled region P99 below the sum of service P99s
    sched = build_schedule(minutes, OCC, "p99", JOURNEY)
    got = event_minutes(sched)
    region = minutes[minutes.level == "region"].set_index("ts")["p99"].loc[got.index]
    assert sched.meta["basis"] == "region_total"
    assert np.abs(got["total"] - region).max() <= 0.5
    services = got[[f"service.{s}" for s in SERVICES]]
    assert (services.sum(axis=1) == got["total"]).all()
    series = minutes[minutes.level == "series"].pivot(index="ts", columns="service", values="p99").loc[got.index]
    assert np.abs(services["service.home"] - 0.9 * series["home"]).max() < 2


def test_learned_steps_follow_the_mapped_services():
    sched = build_schedule(forecast_minutes(), OCC, "p90", JOURNEY)
    got = event_minutes(sched)
    mapped = got[["service.home", "service.search", "service.checkout", "service.payments"]].sum(axis=1)
    # ads is not mapped: its load is spread over the steps in proportion, so checkout's step share is
    # (checkout + payments) / (the mapped services), applied to the whole total
    want = (got["service.checkout"] + got["service.payments"]) / mapped * got["total"]
    assert np.abs(got["step.checkout"] - want).max() < 2
    assert (got["step.detail"] == 0).all() and (got["step.cart"] == 0).all()
    assert any("ads" in n for n in sched.meta["notes"])


def test_configured_shares_split_the_total():
    sched = build_schedule(forecast_minutes(), OCC, "mean", JOURNEY, shares="configured")
    got = event_minutes(sched)
    assert np.abs(got["step.detail"] - 0.2 * got["total"]).max() <= 1
    assert (got[[f"step.{s}" for s in JOURNEY.steps]].sum(axis=1) == got["total"]).all()


def test_the_ramp_up_rises_from_a_share_of_the_first_minute():
    sched = build_schedule(forecast_minutes(), OCC, "p99", JOURNEY)
    f = sched.frame
    ramp = f[f["phase"] == "ramp_up"]
    first_event = f[f["phase"] != "ramp_up"].iloc[0]
    assert len(ramp) == 10 and ramp["minute"].tolist() == list(range(-10, 0))
    assert ramp["ts"].iloc[0] == OCC.window_start - pd.Timedelta("10min")
    assert abs(ramp["total"].iloc[0] - 0.2 * first_event["total"]) <= 1
    assert ramp["total"].is_monotonic_increasing and ramp["total"].iloc[-1] < first_event["total"]
    assert (ramp[[f"service.{s}" for s in SERVICES]].sum(axis=1) == ramp["total"]).all()
    assert f.set_index("ts").loc[OCC.start, "phase"] == "event"
    assert f.set_index("ts").loc[OCC.start - pd.Timedelta("1min"), "phase"] == "build_up"
    assert f.set_index("ts").loc[OCC.end, "phase"] == "decay"


def test_a_window_outside_the_forecast_names_the_service_and_the_gap():
    minutes = forecast_minutes()
    minutes = minutes[~((minutes.service == "search") & (minutes.ts >= T0 + pd.Timedelta("30min")))]
    with pytest.raises(InputError, match=r"search/us: the forecast has no p99 for 30 minutes of the flash_sale"):
        build_schedule(minutes, OCC, "p99", JOURNEY)


def test_written_csv_and_json_carry_the_same_minutes(tmp_path):
    sched = build_schedule(forecast_minutes(), OCC, "p99", JOURNEY)
    paths = sched.write(tmp_path)
    csv = pd.read_csv(paths["csv"])
    doc = json.loads(paths["json"].read_text())
    assert csv["total"].tolist() == [m["total"] for m in doc["schedule"]] == sched.frame["total"].tolist()
    assert doc["schedule"][15]["services"]["home"] == sched.frame["service.home"].iloc[15]
    assert doc["quantile"] == "p99" and doc["unit"] == "requests per minute" and csv["ts"][0].endswith("Z")


def test_split_integers_keeps_row_totals():
    rng = np.random.default_rng(3)
    parts = rng.random((200, 5)) * 100
    totals = np.rint(parts.sum(axis=1)).astype(np.int64)
    got = split_integers(parts, totals)
    assert (got.sum(axis=1) == totals).all() and (np.abs(got - parts) < 1.0 + 1e-9).all()


def test_journey_config_rejects_shares_that_do_not_add_up():
    with pytest.raises(ValueError, match="sum to 1"):
        JourneyConfig(configured={"search": 0.5, "browse": 0.4})
    with pytest.raises(ValueError, match="not in steps"):
        JourneyConfig(services={"home": "landing"})


CALENDAR = normalize_events(pd.DataFrame([
    dict(name="sale", region="us", start="2026-01-05T00:00Z", end="2026-01-06T00:00Z"),  # before the horizon
    dict(name="sale", region="us", start="2026-02-02T00:00Z", end="2026-02-03T00:00Z"),
    dict(name="launch", region="us", start="2026-01-20T00:00Z", end="2026-01-20T02:00Z",
         ramp_before="1h", decay_after="30min"),
    dict(name="late", region="us", start="2026-03-30T00:00Z", end="2026-04-02T00:00Z"),  # runs past the horizon
]))
HORIZON = pd.DataFrame(dict(region=["us"], first_ts=[pd.Timestamp("2026-01-10T00:00Z")],
                            last_ts=[pd.Timestamp("2026-03-31T23:59Z")]))


def test_the_next_covered_occurrence_is_chosen():
    nxt = find_occurrence(CALENDAR, HORIZON)
    assert (nxt.event, nxt.window_start) == ("launch", pd.Timestamp("2026-01-19T23:00Z"))
    assert find_occurrence(CALENDAR, HORIZON, event="sale").start == pd.Timestamp("2026-02-02T00:00Z")


def test_an_uncovered_or_unknown_event_says_what_the_forecast_covers():
    with pytest.raises(InputError, match=r"no occurrence of late in us .*horizon: us 2026-01-10 to 2026-03-31"):
        find_occurrence(CALENDAR, HORIZON, event="late", region="us")
    with pytest.raises(InputError, match="Did you mean 'sale'"):
        find_occurrence(CALENDAR, HORIZON, event="sael")


def test_the_bundled_journey_maps_every_sample_service(repo):
    from cloudtune.gameday import load_journey

    journey = load_journey(repo / "conf" / "capacity" / "gameday.yaml")
    assert set(journey.services) == {"home", "search", "detail", "cart", "checkout", "payments"}
    assert journey.steps == ["search", "browse", "detail", "cart", "checkout"]


def test_a_misspelled_journey_key_is_rejected_with_a_suggestion(tmp_path):
    from cloudtune.errors import ConfigError
    from cloudtune.gameday import load_journey

    path = tmp_path / "gameday.yaml"
    path.write_text("ramp_upp: 10min\n")
    with pytest.raises(ConfigError, match=r"gameday.yaml: unknown key 'ramp_upp'. Did you mean 'ramp_up'\?"):
        load_journey(path)
