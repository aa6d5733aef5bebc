"""Small capacity configs written to a temporary conf/capacity folder, so tests load them like users do."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from cloudtune.capacity import load_capacity

ZONES = {"r": ["a", "b", "c"], "two": ["x", "y"]}


def write_capacity(root: Path, services: dict, types: dict | None = None, regions: dict | None = None,
                   planning: dict | None = None) -> Path:
    """types: name -> (family, generation, relative_cost, {region: {zone: limit}}, region limit or None)."""
    types = types or {"c7.large": ("c", 7, 1.0, {"r": {"a": 1000, "b": 1000, "c": 1000},
                                                 "two": {"x": 1000, "y": 1000}}, None)}
    folder = root / "capacity"
    (folder / "services").mkdir(parents=True, exist_ok=True)
    catalog = {"regions": regions or ZONES, "instance_types": {}}
    for name, (family, gen, cost, locs, limit) in types.items():
        catalog["instance_types"][name] = dict(
            family=family, generation=gen, vcpu=2, memory_gib=4, relative_cost=cost,
            locations={r: {"zones": z, **({"limit": limit} if limit is not None else {})} for r, z in locs.items()})
    (folder / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    (folder / "planning.yaml").write_text(yaml.safe_dump(planning or {"current_fleet": None}))
    for service, spec in services.items():
        (folder / "services" / f"{service}.yaml").write_text(yaml.safe_dump(spec))
    return folder


def model(runs_on=None, **kw) -> dict:
    spec = dict(runs_on=runs_on or {"c7.large": 300}, redundancy="none", headroom=0.0, min_instances=0,
                lead_time="10d")
    spec.update(kw)
    return spec


def capacity(tmp_path, services, **kw):
    return load_capacity(write_capacity(tmp_path, services, **kw))


def peak_rows(service, region, loads: dict, windows=None) -> pd.DataFrame:
    """Peak rows for one series: window name -> (kind, start, p90, p99)."""
    rows = []
    for name, (kind, start, p90, p99) in loads.items():
        start = pd.Timestamp(start, tz="UTC")
        rows.append(dict(service=service, region=region, metric="requests", window_kind=kind, window=name,
                         event_start=start if kind == "event" else pd.NaT, window_start=start,
                         window_end=start + pd.Timedelta(days=1), peak_mean=p90 / 2, peak_p50=p90 / 1.5,
                         peak_p90=p90, peak_p99=p99, peak_ts_mean=start, peak_ts_p50=start, peak_ts_p90=start,
                         peak_ts_p99=start + pd.Timedelta(hours=1)))
    return pd.DataFrame(rows)
