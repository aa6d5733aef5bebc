"""conf/capacity/: the instance catalog, one capacity model per service, and the planning defaults.

Loaded strictly like the rest of conf/: an unknown key names the file, the key and a suggestion; a bad value
names the file and the key. Cross-file checks (a zone that is not in its region, a service that runs on an
instance type the catalog does not have) are done here too, so the planner never meets a dangling name.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pandas as pd

from cloudtune.config.durations import parse_duration
from cloudtune.config.strict import load_file
from cloudtune.errors import ConfigError, shorten

REDUNDANCY = ("none", "n_plus_one", "zone_loss")
QUANTILES = ("mean", "p50", "p90", "p99")


@dataclass(frozen=True)
class Location:
    """Where an instance type is available in one region: the most instances we may hold per zone, and overall."""
    zones: dict[str, int]
    limit: Optional[int] = None  # region-wide cap across its zones; None means only the zone limits apply

    def __post_init__(self):
        bad = {z: n for z, n in self.zones.items() if n < 0}
        if bad or (self.limit is not None and self.limit < 0):
            raise ValueError(f"limits must be >= 0 (0 means not available), got {bad or self.limit}")


@dataclass(frozen=True)
class InstanceType:
    family: str
    generation: int
    vcpu: int
    memory_gib: float
    relative_cost: float  # cost of one instance-hour relative to the other types (any unit, used consistently)
    locations: dict[str, Location] = field(default_factory=dict)

    def __post_init__(self):
        if self.vcpu < 1 or self.memory_gib <= 0 or self.relative_cost <= 0 or self.generation < 0:
            raise ValueError("vcpu must be >= 1, memory_gib and relative_cost > 0, generation >= 0")


@dataclass(frozen=True)
class Catalog:
    regions: dict[str, list[str]]  # region -> its zones
    instance_types: dict[str, InstanceType]
    source: str = field(default="<catalog>", compare=False)


@dataclass(frozen=True)
class ServiceModelFile:
    """conf/capacity/services/<service>.yaml: how one service turns load into instances."""
    runs_on: dict[str, float]  # type name or family+generation (c7) -> requests/min one instance serves at target
    team: str = ""
    metric: str = "requests"
    target_utilization: float = 0.6  # the utilization the runs_on figures were measured at (recorded, not applied)
    min_instances: int = 2
    redundancy: str = "zone_loss"
    headroom: float = 0.15
    lead_time: str = "14d"
    event_quantile: Optional[str] = None  # overrides the planning default for this service
    week_quantile: Optional[str] = None
    note: str = ""

    def __post_init__(self):
        if not self.runs_on:
            raise ValueError("runs_on is empty: name at least one instance type and its requests per minute")
        bad = {k: v for k, v in self.runs_on.items() if not v > 0 or not math.isfinite(v)}
        if bad:
            raise ValueError(f"runs_on: requests per minute per instance must be > 0, got {bad}")
        if self.redundancy not in REDUNDANCY:
            raise ValueError(f"redundancy must be one of {', '.join(REDUNDANCY)}, got {self.redundancy!r}")
        if not 0 < self.target_utilization <= 1:
            raise ValueError(f"target_utilization must be in (0, 1], got {self.target_utilization}")
        if self.min_instances < 0:
            raise ValueError(f"min_instances must be >= 0, got {self.min_instances}")
        if not 0 <= self.headroom <= 10:
            raise ValueError(f"headroom is a share added on top of the peak (0.2 = 20%), got {self.headroom}")
        for name in ("event_quantile", "week_quantile"):
            value = getattr(self, name)
            if value is not None and value not in QUANTILES:
                raise ValueError(f"{name} must be one of {', '.join(QUANTILES)}, got {value!r}")


@dataclass(frozen=True)
class PlanningDefaults:
    """conf/capacity/planning.yaml."""
    event_quantile: str = "p99"  # sizing quantile for event windows
    week_quantile: str = "p90"  # ... and for ordinary weeks and the long-range roll-up
    current_fleet: Optional[str] = "current_fleet.csv"  # relative to conf/capacity; null means an empty fleet

    def __post_init__(self):
        for name in ("event_quantile", "week_quantile"):
            if getattr(self, name) not in QUANTILES:
                raise ValueError(f"{name} must be one of {', '.join(QUANTILES)}, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class ServiceModel:
    """A service's model resolved against the catalog: `options` are (type name, requests per minute)."""
    service: str
    spec: ServiceModelFile
    options: tuple[tuple[str, float], ...]
    lead_time: pd.Timedelta
    source: str


@dataclass(frozen=True)
class CapacityConfig:
    catalog: Catalog
    models: dict[str, ServiceModel]
    defaults: PlanningDefaults
    folder: Path

    def fleet_path(self) -> Optional[Path]:
        if self.defaults.current_fleet is None:
            return None
        p = Path(self.defaults.current_fleet)
        return p if p.is_absolute() else self.folder / p


def load_capacity(folder: str | Path) -> CapacityConfig:
    """Load conf/capacity (catalog.yaml, planning.yaml, services/*.yaml) and check the names across files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"capacity config folder not found: {folder}; pass --capacity-dir or create it "
                          f"(see conf/capacity/README.md)")
    catalog = load_catalog(folder / "catalog.yaml")
    planning = folder / "planning.yaml"
    defaults = load_file(PlanningDefaults, planning) if planning.is_file() else PlanningDefaults()
    models = {}
    for path in sorted((folder / "services").glob("*.yaml")):
        models[path.stem] = resolve_model(path.stem, load_file(ServiceModelFile, path), catalog, str(path))
    return CapacityConfig(catalog, models, defaults, folder)


def load_catalog(path: str | Path) -> Catalog:
    catalog = load_file(Catalog, path)
    object.__setattr__(catalog, "source", str(path))
    for name, itype in catalog.instance_types.items():
        for region, loc in itype.locations.items():
            where = f"instance_types.{name}.locations.{region}"
            if region not in catalog.regions:
                raise ConfigError(f"{path}: unknown region '{region}' in {where}.{_suggest(region, catalog.regions)}"
                                  f" Regions are declared under 'regions': {shorten(sorted(catalog.regions))}")
            for zone in loc.zones:
                if zone not in catalog.regions[region]:
                    raise ConfigError(f"{path}: zone '{zone}' in {where}.zones is not a zone of region '{region}'."
                                      f"{_suggest(zone, catalog.regions[region])} Zones of {region}: "
                                      f"{shorten(catalog.regions[region])}")
    for region, zones in catalog.regions.items():
        if len(set(zones)) != len(zones) or not zones:
            raise ConfigError(f"{path}: regions.{region} must list its zones once each, got {zones}")
    return catalog


def resolve_model(service: str, spec: ServiceModelFile, catalog: Catalog, source: str) -> ServiceModel:
    """Each runs_on key is a catalog type name (c7.2xlarge) or a family+generation (c7) that names one type."""
    options = []
    for key, rpm in spec.runs_on.items():
        options.append((_type_for(key, catalog, source), float(rpm)))
    names = [o[0] for o in options]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: runs_on names {dupes[0]} twice (by its name and by family+generation); "
                          f"keep one")
    lead = parse_duration(spec.lead_time, f"{source}: lead_time")
    return ServiceModel(service, spec, tuple(options), lead, source)


def _type_for(key: str, catalog: Catalog, source: str) -> str:
    if key in catalog.instance_types:
        return key
    matches = [n for n, t in catalog.instance_types.items() if f"{t.family}{t.generation}" == key]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ConfigError(f"{source}: runs_on.{key} matches several instance types ({', '.join(sorted(matches))}); "
                          f"name the type instead, e.g. runs_on: {{{matches[0]}: ...}}")
    known = sorted([*catalog.instance_types, *{f"{t.family}{t.generation}" for t in catalog.instance_types.values()}])
    raise ConfigError(f"{source}: runs_on.{key} is not an instance type or family+generation in {catalog.source}."
                      f"{_suggest(key, known)} Known: {shorten(known, 12)}")


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" Did you mean '{close[0]}'?" if close else ""
