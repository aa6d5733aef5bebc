"""The data-center planning view: capacity by region and generation for each week of the long-range forecast.

Each service is sized on its week's busiest minute (long_range_extract.peak_minute_<q>) with its own capacity
model, exactly as in the capacity plan, then summed by region, week and generation. Instances that today's
location limits cannot hold are not dropped: they appear as status 'beyond_limits' in the newest generation the
service runs on, which is what a data-center plan has to build.
"""
from __future__ import annotations

import pandas as pd

from cloudtune.capacity.config import CapacityConfig
from cloudtune.capacity.sizing import ceil_instances, region_options, size_region
from cloudtune.errors import InputError
from schemas.planning import CAPACITY_ROLLUP

ROLLUP_COLUMNS = [c for c in CAPACITY_ROLLUP.column_names if c not in ("forecast_run_id", "run_id", "run_date")]
EXTRACT_COLUMNS = ["service", "region", "metric", "level", "week_start", "peak_minute_p50", "peak_minute_p90",
                   "peak_minute_p99"]


def regional_rollup(extract: pd.DataFrame, capacity: CapacityConfig, quantile: str | None = None):
    """Returns (rollup rows, unplanned rows): services without a model or region are reported, not skipped."""
    missing = [c for c in EXTRACT_COLUMNS if c not in extract.columns]
    if missing:
        raise InputError(f"long-range extract needs columns {', '.join(EXTRACT_COLUMNS)}; missing {', '.join(missing)}")
    q = quantile or capacity.defaults.week_quantile
    if q not in ("p50", "p90", "p99"):
        raise InputError(f"the long-range extract has peak-minute quantiles p50, p90 and p99, not {q!r}")
    col = f"peak_minute_{q}"
    series = extract[extract["level"] == "series"]
    totals = extract[(extract["level"] == "region") & (extract["service"] == "*")]
    placed, unplanned = [], []
    for (service, region), g in series.groupby(["service", "region"], sort=True):
        model = capacity.models.get(service)
        if model is None or region not in capacity.catalog.regions:
            what = "no capacity model" if model is None else f"region '{region}' is not in the catalog"
            unplanned.append((service, region, "no_capacity_model" if model is None else "unknown_region", what))
            continue
        options = region_options(model, capacity.catalog, region)
        g = g[g["metric"] == model.spec.metric]
        for week in g.itertuples(index=False):
            sizing = size_region(float(getattr(week, col)), model, options, capacity.catalog.regions[region])
            for (_, itype), n in sizing.counts.items():
                placed.append((region, week.week_start, itype, "placed", n, service))
            if sizing.shortfall > 0 and model.options:
                itype, rpm = _newest(model, capacity)
                placed.append((region, week.week_start, itype, "beyond_limits", ceil_instances(sizing.shortfall, rpm),
                               service))
    rows = pd.DataFrame(placed, columns=["region", "week_start", "instance_type", "status", "instances", "service"])
    unplanned = pd.DataFrame(unplanned, columns=["service", "region", "status", "message"])
    return _by_generation(rows, capacity, q, col, totals, series), unplanned


def _newest(model, capacity: CapacityConfig) -> tuple[str, float]:
    types = capacity.catalog.instance_types
    return max(model.options, key=lambda o: (types[o[0]].generation, -types[o[0]].relative_cost / o[1]))


def _by_generation(rows: pd.DataFrame, capacity: CapacityConfig, q: str, col: str, totals: pd.DataFrame,
                   series: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    types = capacity.catalog.instance_types
    rows = rows.assign(
        generation=rows["instance_type"].map(lambda t: types[t].generation),
        vcpu=rows["instance_type"].map(lambda t: types[t].vcpu) * rows["instances"],
        memory_gib=rows["instance_type"].map(lambda t: types[t].memory_gib) * rows["instances"],
        relative_cost=rows["instance_type"].map(lambda t: types[t].relative_cost) * rows["instances"],
    )
    out = rows.groupby(["region", "week_start", "generation", "status"], as_index=False).agg(
        instances=("instances", "sum"), vcpu=("vcpu", "sum"), memory_gib=("memory_gib", "sum"),
        relative_cost=("relative_cost", "sum"), services=("service", "nunique"))
    out["quantile"] = q
    region_load = totals.groupby(["region", "week_start"])[col].max().rename("region_total")
    summed = series.groupby(["region", "week_start"])[col].sum().rename("series_sum")
    out = out.join(region_load, on=["region", "week_start"]).join(summed, on=["region", "week_start"])
    has_total = out["region_total"].notna()
    out["region_peak_load"] = out["region_total"].where(has_total, out["series_sum"])
    # A region's busiest minute is at most the sum of its services' busiest minutes, which need not coincide.
    out["load_source"] = has_total.map({True: "region_total", False: "sum_of_series_peaks"})
    out["limit_instances"] = [_limit(capacity, r, g) for r, g in zip(out["region"], out["generation"])]
    return out[ROLLUP_COLUMNS].sort_values(["region", "week_start", "generation", "status"]).reset_index(drop=True)


def _limit(capacity: CapacityConfig, region: str, generation: int) -> float:
    """Most instances of this generation the catalog lets us hold in the region (all families and zones)."""
    total = 0.0
    for t in capacity.catalog.instance_types.values():
        loc = t.locations.get(region)
        if t.generation == generation and loc is not None:
            zones = sum(loc.zones.values())
            total += zones if loc.limit is None else min(zones, loc.limit)
    return total
