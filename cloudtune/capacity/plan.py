"""Capacity plans: per service x region x planning window, the instances by zone and type, their cost, the change
from the current fleet; and the capacity orders that change implies.

    from cloudtune.capacity import load_capacity, plan_capacity
    plan = plan_capacity(peaks, load_capacity("conf/capacity"), fleet, as_of=date(2025, 12, 8))
    plan.plans, plan.orders, plan.unplanned, print(plan.summary())

`peaks` has one row per series and window (cloudtune.capacity.windows.PEAK_COLUMNS). Rows follow the Delta table
capacity_plans (schemas/planning.py) without the run columns.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import pandas as pd

from cloudtune.capacity.config import CapacityConfig, ServiceModel
from cloudtune.capacity.fleet import empty_fleet
from cloudtune.capacity.orders import ORDER_COLUMNS, capacity_orders
from cloudtune.capacity.sizing import region_options, size_region
from cloudtune.errors import InputError
from schemas.planning import CAPACITY_PLANS

log = logging.getLogger(__name__)

RUN_COLUMNS = ("forecast_run_id", "run_id", "run_date")  # added by the Spark adapter
PLAN_COLUMNS = [c for c in CAPACITY_PLANS.column_names if c not in RUN_COLUMNS]
UNPLANNED_COLUMNS = ["service", "region", "metric", "status", "message"]


@dataclass
class CapacityPlan:
    plans: pd.DataFrame
    orders: pd.DataFrame
    unplanned: pd.DataFrame  # series with no capacity model (or no region in the catalog): reported, not skipped

    def table_rows(self) -> pd.DataFrame:
        """The plan rows plus one row per unplanned series, so the table records what is not planned too."""
        records = self.plans.to_dict("records") + self.unplanned.to_dict("records")
        return pd.DataFrame(records, columns=PLAN_COLUMNS)

    def summary(self) -> str:
        p = self.plans[self.plans["status"].isin(["ok", "short"])]
        lines = [f"capacity plan: {p.groupby(['service', 'region']).ngroups} service x region, "
                 f"{p.groupby(['region', 'window_kind', 'window', 'period_start']).ngroups} windows, "
                 f"{len(self.orders)} orders"]
        if len(p):
            worst = (p.groupby(["service", "region", "window", "period_start"], as_index=False)
                     .agg(instances=("instances", "sum"), cost=("relative_cost", "sum"))
                     .sort_values("instances", ascending=False).head(3))
            for r in worst.itertuples(index=False):
                lines.append(f"  largest: {r.service}/{r.region} {r.window} {r.period_start:%Y-%m-%d}: "
                             f"{r.instances} instances, relative cost {r.cost:,.1f}/h")
        short = p[p["status"] == "short"].drop_duplicates(["service", "region", "window", "period_start"])
        if len(short):
            lines.append(f"  short of limits in {len(short)} service x window(s), e.g. {short.iloc[0]['service']}/"
                         f"{short.iloc[0]['region']} {short.iloc[0]['window']}: {short.iloc[0]['message']}")
        late = self.orders[self.orders["late"]] if len(self.orders) else self.orders
        if len(late):
            lines.append(f"  {len(late)} orders are already past their order-by date (lead time)")
        for r in self.unplanned.itertuples(index=False):
            lines.append(f"  NOT PLANNED {r.service}/{r.region}: {r.message}")
        return "\n".join(lines)


def plan_capacity(peaks: pd.DataFrame, capacity: CapacityConfig, fleet: pd.DataFrame | None = None,
                  as_of: date | None = None, event_quantile: str | None = None,
                  week_quantile: str | None = None) -> CapacityPlan:
    """Size every series in `peaks` whose service has a capacity model; report every other one."""
    fleet = empty_fleet() if fleet is None else fleet
    rows, unplanned = [], []
    for (service, region), group in peaks.groupby(["service", "region"], sort=True):
        model = capacity.models.get(service)
        metric = model.spec.metric if model else "requests"
        if model is None:
            unplanned.append((service, region, metric, "no_capacity_model",
                              f"no capacity model: add {capacity.folder / 'services' / (service + '.yaml')} "
                              f"(see conf/capacity/README.md)"))
            continue
        if region not in capacity.catalog.regions:
            unplanned.append((service, region, metric, "unknown_region",
                              f"region '{region}' is not in {capacity.catalog.source} (add it under 'regions')"))
            continue
        series = group[group["metric"] == metric]
        if series.empty:
            unplanned.append((service, region, metric, "no_forecast",
                              f"no forecast of metric '{metric}' (the metric in {model.source})"))
            continue
        current = fleet[(fleet["service"] == service) & (fleet["region"] == region)]
        for window in series.sort_values("window_start").itertuples(index=False):
            q = _quantile(window.window_kind, model, capacity, event_quantile, week_quantile)
            rows.extend(_window_rows(window._asdict(), q, model, capacity, current))
    plans = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    orders = capacity_orders(plans, capacity, fleet, as_of) if len(plans) else pd.DataFrame(columns=ORDER_COLUMNS)
    return CapacityPlan(plans, orders, pd.DataFrame(unplanned, columns=UNPLANNED_COLUMNS))


def _quantile(kind: str, model: ServiceModel, capacity: CapacityConfig, event_q, week_q) -> str:
    if kind == "event":
        return event_q or model.spec.event_quantile or capacity.defaults.event_quantile
    return week_q or model.spec.week_quantile or capacity.defaults.week_quantile


def _window_rows(window: dict, q: str, model: ServiceModel, capacity: CapacityConfig,
                 current: pd.DataFrame) -> list[dict]:
    load = window.get(f"peak_{q}")
    if load is None or pd.isna(load):
        raise InputError(f"{window['service']}/{window['region']} {window['window']}: no {q} forecast to size on")
    catalog = capacity.catalog
    zones = catalog.regions[window["region"]]
    sizing = size_region(float(load), model, region_options(model, catalog, window["region"]), zones)
    have = {(r.zone, r.instance_type): int(r.instances) for r in current.itertuples(index=False)}
    cells = sorted(set(sizing.counts) | set(have), key=lambda c: (zones.index(c[0]) if c[0] in zones else 99, c[1]))
    base = dict(
        service=window["service"], region=window["region"], metric=window["metric"],
        window_kind=window["window_kind"], window=window["window"], period_start=window["window_start"],
        period_end=window["window_end"], quantile=q, peak_load=float(load), peak_ts=window.get(f"peak_ts_{q}"),
        peak_source=window.get(f"source_{q}", "forecasts"), required_load=sizing.required_load,
        headroom=model.spec.headroom, redundancy=model.spec.redundancy, min_instances=model.spec.min_instances,
        status="short" if sizing.shortfall > 0 else "ok", message="; ".join(sizing.notes) or None,
    )
    order_by = (pd.Timestamp(window["window_start"]) - model.lead_time).date()
    rpm = dict(model.options)
    rows = []
    for zone, itype in cells:
        spec = catalog.instance_types[itype]
        need, held = sizing.counts.get((zone, itype), 0), have.get((zone, itype), 0)
        rows.append(dict(base, zone=zone, instance_type=itype, family=spec.family, generation=spec.generation,
                         load_per_instance=rpm.get(itype), instances=need, current_instances=held,
                         change=need - held, relative_cost=need * spec.relative_cost,
                         order_by=order_by if need > held else None))
    if not rows:  # nothing needed and nothing held: the window is still on record
        rows.append(dict(base, zone=None, instance_type=None, family=None, generation=None, load_per_instance=None,
                         instances=0, current_instances=0, change=0, relative_cost=0.0, order_by=None))
    return rows
