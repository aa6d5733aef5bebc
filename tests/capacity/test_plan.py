"""Plans per window, the change from the current fleet, orders with lead time, and unplanned services."""
from datetime import date

import pandas as pd
import pytest

from cloudtune.capacity import check_fleet, plan_capacity
from cloudtune.errors import InputError
from tests.capacity.helpers import capacity, model, peak_rows

WINDOWS = {
    "week": ("week", "2026-01-05", 900, 1500),          # sized on p90 = 900 -> 3 instances
    "prime_day": ("event", "2026-01-20", 1200, 2100),   # sized on p99 = 2100 -> 7 instances
}


def _plan(tmp_path, fleet_rows=(), services=None, peaks=None, **kw):
    cap = capacity(tmp_path, services or {"svc": model()})
    fleet = check_fleet(pd.DataFrame(list(fleet_rows), columns=["service", "region", "zone", "instance_type",
                                                                "instances"]), cap.catalog)
    peaks = peak_rows("svc", "r", WINDOWS) if peaks is None else peaks
    return plan_capacity(peaks, cap, fleet, **kw)


def test_events_are_sized_on_p99_and_weeks_on_p90(tmp_path):
    plan = _plan(tmp_path)
    by = plan.plans.groupby("window").agg(q=("quantile", "first"), n=("instances", "sum"),
                                          load=("peak_load", "first"), cost=("relative_cost", "sum"))
    assert by.loc["week"].tolist() == ["p90", 3, 900, 3.0]
    assert by.loc["prime_day"].tolist() == ["p99", 7, 2100, 7.0]
    assert set(plan.plans["status"]) == {"ok"}


def test_quantile_can_be_chosen_per_run(tmp_path):
    plan = _plan(tmp_path, event_quantile="p90")
    assert plan.plans.loc[plan.plans.window == "prime_day", "instances"].sum() == 4  # 1200 / 300


def test_change_from_current_fleet_and_orders_by_lead_time(tmp_path):
    fleet = [("svc", "r", "a", "c7.large", 1), ("svc", "r", "b", "c7.large", 1), ("svc", "r", "c", "c7.large", 1)]
    plan = _plan(tmp_path, fleet, as_of=date(2026, 1, 12))
    week = plan.plans[plan.plans.window == "week"]
    assert week["change"].sum() == 0  # 3 held, 3 needed
    event = plan.plans[plan.plans.window == "prime_day"].set_index("zone")
    assert event["instances"].tolist() == [3, 2, 2] and event["change"].tolist() == [2, 1, 1]
    orders = plan.orders.set_index("zone")
    assert orders["instances"].tolist() == [2, 1, 1]
    assert set(orders["order_by"]) == {date(2026, 1, 10)}  # 10 days of lead time before Jan 20
    assert set(orders["need_by"]) == {date(2026, 1, 20)}
    assert orders["late"].all()  # planned on Jan 12, two days after the order-by date


def test_orders_top_up_window_by_window_and_release_only_what_no_window_needs(tmp_path):
    windows = {"w1": ("week", "2026-01-05", 600, 0), "w2": ("week", "2026-01-12", 1500, 0),
               "w3": ("week", "2026-01-19", 900, 0)}
    fleet = [("svc", "r", "a", "c7.large", 4)]
    plan = _plan(tmp_path, fleet, peaks=peak_rows("svc", "r", windows), as_of=date(2026, 1, 1))
    got = plan.orders.sort_values(["zone", "need_by"])[["zone", "action", "instances", "need_by", "late"]]
    # w1..w3 need 2 (1, 1, 0), 5 (2, 2, 1) and 3 (1, 1, 1) instances in zones a, b, c.
    # a holds 4 and never needs more than 2: release 2. b: 1 by w1, one more by w2. c: 1 by w2.
    # Ten days of lead time: w1's order was due Dec 26, before the Jan 1 planning date.
    assert got.values.tolist() == [
        ["a", "release", 2, None, False],
        ["b", "add", 1, date(2026, 1, 5), True],
        ["b", "add", 1, date(2026, 1, 12), False],
        ["c", "add", 1, date(2026, 1, 12), False],
    ]


def test_a_service_without_a_capacity_model_is_reported_not_skipped(tmp_path):
    peaks = pd.concat([peak_rows("svc", "r", WINDOWS), peak_rows("orphan", "r", WINDOWS)])
    plan = _plan(tmp_path, peaks=peaks)
    assert set(plan.plans["service"]) == {"svc"}
    missing = plan.unplanned.set_index("service")
    assert missing.loc["orphan", "status"] == "no_capacity_model"
    assert "services/orphan.yaml" in missing.loc["orphan", "message"]
    assert "NOT PLANNED orphan/r" in plan.summary()
    rows = plan.table_rows()
    assert rows[rows.service == "orphan"]["status"].tolist() == ["no_capacity_model"]
    assert len(rows) == len(plan.plans) + 1


def test_a_region_missing_from_the_catalog_is_reported(tmp_path):
    plan = _plan(tmp_path, peaks=peak_rows("svc", "mars", WINDOWS))
    assert plan.unplanned.iloc[0]["status"] == "unknown_region"
    assert "'mars'" in plan.unplanned.iloc[0]["message"]


def test_a_shortfall_marks_the_window_short(tmp_path):
    services = {"svc": model(runs_on={"c7.large": 0.5})}  # 4200 instances needed, 3 x 1000 allowed carry 1500
    plan = _plan(tmp_path, services=services)
    event = plan.plans[plan.plans.window == "prime_day"]
    assert set(event["status"]) == {"short"} and "600 requests/min of 2,100 uncovered" in event["message"].iloc[0]
    assert event["instances"].tolist() == [1000, 1000, 1000]
    assert set(plan.plans[plan.plans.window == "week"]["status"]) == {"ok"}


def test_fleet_rows_are_checked_with_their_line(tmp_path):
    cap = capacity(tmp_path, {"svc": model()})
    bad = pd.DataFrame([["svc", "r", "a", "c7.large", "2"], ["svc", "r", "q", "c7.large", "1"]],
                       columns=["service", "region", "zone", "instance_type", "instances"])
    with pytest.raises(InputError, match="fleet.csv: line 3: zone 'q' is not a zone of region 'r'"):
        check_fleet(bad, cap.catalog, "fleet.csv", first_line=2)


def test_a_release_waits_for_the_first_added_instances_of_its_service_and_region(tmp_path):
    # zone a holds 4 and never needs more than 2; b and c get their first instances for w1 on Jan 5
    windows = {"w1": ("week", "2026-01-05", 600, 0), "w2": ("week", "2026-01-12", 1500, 0)}
    plan = _plan(tmp_path, [("svc", "r", "a", "c7.large", 4)], peaks=peak_rows("svc", "r", windows),
                 as_of=date(2026, 1, 1))
    release = plan.orders[plan.orders.action == "release"].iloc[0]
    assert release["order_by"] == date(2026, 1, 5) and "once the instances added" in release["reason"]
