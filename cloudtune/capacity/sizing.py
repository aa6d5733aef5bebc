"""Instances needed to carry a peak: headroom, redundancy, minimum fleet, generation preference, location limits.

The arithmetic, for a peak of L requests per minute and a type serving r per instance:
  required = L * (1 + headroom)
  none        N = ceil(required / r), spread over the zones as evenly as the limits allow
  n_plus_one  the same N, plus one spare instance in every zone (a zone keeps serving while one instance fails)
  zone_loss   every zone alone carries required / (Z - 1), so losing any one of Z zones leaves enough
and at the end the region holds at least `min_instances`. Types are used newest generation first (then cheapest
per request); when a type reaches a zone's or the region's limit, the next type takes the rest. Load that no
type can take within the limits is returned as `shortfall`, never dropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from cloudtune.capacity.config import Catalog, ServiceModel

_EPS = 1e-9  # 3.0000000004 instances is 3: float noise must not buy a server


@dataclass(frozen=True)
class Option:
    """One instance type a service can use in one region, with its limits there."""
    instance_type: str
    family: str
    generation: int
    rpm: float  # requests per minute one instance serves at target utilization
    relative_cost: float
    zone_limits: dict[str, float]  # zone -> most instances (math.inf when limits are ignored)
    region_limit: float


@dataclass
class Sizing:
    required_load: float
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (zone, instance type) -> instances
    shortfall: float = 0.0  # requests per minute no type could take within the limits
    notes: list[str] = field(default_factory=list)

    @property
    def instances(self) -> int:
        return sum(self.counts.values())

    def in_zone(self, zone: str) -> int:
        return sum(n for (z, _), n in self.counts.items() if z == zone)

    def of_type(self, instance_type: str) -> int:
        return sum(n for (_, t), n in self.counts.items() if t == instance_type)


def ceil_instances(load: float, rpm: float) -> int:
    return max(0, math.ceil(load / rpm - _EPS))


def region_options(model: ServiceModel, catalog: Catalog, region: str, ignore_limits: bool = False) -> list[Option]:
    """The service's instance types available in `region`, most preferred first."""
    options = []
    for name, rpm in model.options:
        itype = catalog.instance_types[name]
        loc = itype.locations.get(region)
        if loc is None:
            continue
        if ignore_limits:
            zones = {z: math.inf for z in catalog.regions[region]}
            limit = math.inf
        else:
            zones = {z: float(n) for z, n in loc.zones.items() if n > 0}
            limit = math.inf if loc.limit is None else float(loc.limit)
        if zones and limit > 0:
            options.append(Option(name, itype.family, itype.generation, rpm, itype.relative_cost, zones, limit))
    return sorted(options, key=lambda o: (-o.generation, o.relative_cost / o.rpm, o.instance_type))


def size_region(peak_load: float, model: ServiceModel, options: list[Option], zones: list[str]) -> Sizing:
    """Instances per (zone, type) for one service in one region at one peak (requests per minute)."""
    spec = model.spec
    sizing = Sizing(required_load=peak_load * (1.0 + spec.headroom))
    if not options:
        sizing.shortfall = sizing.required_load
        sizing.notes.append("no instance type of runs_on is available in this region")
        return sizing
    usable = [z for z in zones if any(z in o.zone_limits for o in options)]
    if spec.redundancy == "zone_loss":
        if len(usable) < 2:
            sizing.notes.append(f"zone_loss needs 2 or more zones with capacity, have {len(usable)}; "
                                f"sized without zone redundancy")
            _fill_pool(sizing, sizing.required_load, options, usable)
        else:
            per_zone = sizing.required_load / (len(usable) - 1)
            for zone in usable:
                _fill_zone(sizing, zone, per_zone, options)
    else:
        _fill_pool(sizing, sizing.required_load, options, usable)
        if spec.redundancy == "n_plus_one":
            for zone in usable:
                if not _add_one(sizing, options, [zone]):
                    sizing.notes.append(f"no room for the N+1 spare in zone {zone}")
    while sizing.instances < spec.min_instances:
        if not _add_one(sizing, options, usable):
            sizing.notes.append(f"limits allow only {sizing.instances} of the {spec.min_instances} minimum instances")
            break
    return sizing


def _room(sizing: Sizing, option: Option, zone: str) -> float:
    zone_room = option.zone_limits.get(zone, 0) - sizing.counts.get((zone, option.instance_type), 0)
    region_room = option.region_limit - sizing.of_type(option.instance_type)
    return max(0.0, min(zone_room, region_room))


def _fill_zone(sizing: Sizing, zone: str, target: float, options: list[Option]) -> None:
    remaining = target
    for option in options:
        if remaining <= _EPS:
            break
        n = int(min(_room(sizing, option, zone), ceil_instances(remaining, option.rpm)))
        if n:
            sizing.counts[(zone, option.instance_type)] = sizing.counts.get((zone, option.instance_type), 0) + n
            remaining -= n * option.rpm
    if remaining > _EPS:
        sizing.shortfall += remaining
        sizing.notes.append(f"zone {zone}: limits leave {remaining:,.0f} requests/min of {target:,.0f} uncovered")


def _fill_pool(sizing: Sizing, target: float, options: list[Option], zones: list[str]) -> None:
    """Instances of the preferred type, one at a time into the zone holding fewest, then the next type."""
    remaining = target
    for option in options:
        want = ceil_instances(remaining, option.rpm)
        placed = _spread(sizing, option, zones, want)
        remaining -= placed * option.rpm
        if remaining <= _EPS:
            return
    if remaining > _EPS:
        sizing.shortfall += remaining
        sizing.notes.append(f"limits leave {remaining:,.0f} requests/min of {target:,.0f} uncovered")


def _spread(sizing: Sizing, option: Option, zones: list[str], want: int) -> int:
    """Round robin into the zone holding fewest; whole rounds over the tied zones are placed at once."""
    placed = 0
    while placed < want:
        rooms = {z: _room(sizing, option, z) for z in zones}
        open_zones = [z for z in zones if rooms[z] >= 1]
        if not open_zones:
            break
        totals = {z: sizing.in_zone(z) for z in open_zones}
        low = min(totals.values())
        lowest = [z for z in open_zones if totals[z] == low]
        next_level = min((t for t in totals.values() if t > low), default=math.inf)
        region_room = option.region_limit - sizing.of_type(option.instance_type)
        step = min(next_level - low, min(rooms[z] for z in lowest), (want - placed) // len(lowest),
                   region_room // len(lowest))
        targets, step = (lowest, int(step)) if step >= 1 else (lowest[:1], 1)
        for zone in targets:
            sizing.counts[(zone, option.instance_type)] = sizing.counts.get((zone, option.instance_type), 0) + step
        placed += step * len(targets)
    return placed


def _add_one(sizing: Sizing, options: list[Option], zones: list[str]) -> bool:
    """One more instance of the most preferred type with room, in the zone holding fewest."""
    for option in options:
        if _spread(sizing, option, zones, 1):
            return True
    return False
