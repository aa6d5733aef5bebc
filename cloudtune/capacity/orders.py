"""Capacity orders: what to add (and by when, given the lead time) so each window's plan is in place at its
start, and what can be released because no window in the plan needs it.

Windows are walked in time order per (service, region, zone, type): an order tops the held count up to the
window's need, to be placed `lead_time` before the window starts. Releases are only proposed for instances
that no window in the horizon needs, so a release never has to be undone by a later order, and not before
the service's first added instances in that region are due (a swap to a newer generation keeps the old fleet
serving until the new one is in place).
"""
from __future__ import annotations

from datetime import date

import pandas as pd

ORDER_COLUMNS = ["service", "region", "zone", "instance_type", "action", "instances", "order_by", "need_by",
                 "window", "late", "relative_cost", "reason"]


def capacity_orders(plans: pd.DataFrame, capacity, fleet: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
    sized = plans[plans["instance_type"].notna() & plans["status"].isin(["ok", "short"])]
    rows = []
    keys = ["service", "region", "zone", "instance_type"]
    for key, g in sized.sort_values("period_start").groupby(keys, sort=True):
        service, region, zone, itype = key
        model = capacity.models[service]
        cost = capacity.catalog.instance_types[itype].relative_cost
        held = int(g["current_instances"].iloc[0])
        for w in g.itertuples(index=False):
            if w.instances > held:
                order_by = (pd.Timestamp(w.period_start) - model.lead_time).date()
                rows.append(dict(service=service, region=region, zone=zone, instance_type=itype, action="add",
                                 instances=int(w.instances - held), order_by=order_by,
                                 need_by=pd.Timestamp(w.period_start).date(), window=w.window,
                                 late=as_of is not None and order_by < as_of, relative_cost=(w.instances - held) * cost,
                                 reason=f"{w.window} peak {w.quantile} {w.peak_load:,.0f} req/min"))
                held = int(w.instances)
        spare = int(g["current_instances"].iloc[0]) - int(g["instances"].max())
        if spare > 0:
            rows.append(dict(service=service, region=region, zone=zone, instance_type=itype, action="release",
                             instances=spare, order_by=as_of, need_by=None, window=None, late=False,
                             relative_cost=-spare * cost, reason="no window in the plan needs these instances"))
    out = pd.DataFrame(rows, columns=ORDER_COLUMNS)
    return _release_after_replacements(out, as_of)


def _release_after_replacements(orders: pd.DataFrame, as_of: date | None) -> pd.DataFrame:
    adds = orders[orders["action"] == "add"].groupby(["service", "region"])["need_by"].min()
    for i in orders.index[orders["action"] == "release"]:
        first_add = adds.get((orders.at[i, "service"], orders.at[i, "region"]))
        if first_add is not None and (as_of is None or first_add > as_of):
            orders.at[i, "order_by"] = first_add
            orders.at[i, "reason"] += f"; release once the instances added for {first_add} serve"
    return orders
