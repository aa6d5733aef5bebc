"""simulate_fleet: a synthetic fleet of (service, region, metric) series with its ground truth."""
from __future__ import annotations

import logging
import time
from functools import cached_property
from itertools import product
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from cloudtune.config.pipeline import GRAINS, SimulateSettings
from cloudtune.errors import InputError, shorten
from cloudtune.events.calendar import normalize_events
from cloudtune.simulate.output import check_format, write_table
from cloudtune.simulate.series import Grid, SeriesPlan, plan_series, render
from cloudtune.simulate.truth import (KEY, breaks_table, events_table, outliers_table, seasonality_table,
                                      series_table)

log = logging.getLogger(__name__)

COMPONENT_COLUMNS = [*KEY, "ts", "level", "trend", "daily", "weekly", "yearly", "event", "noise", "outlier",
                     "value", "missing"]
COMPONENTS_AUTO_ROWS = 5_000_000  # write(components="auto") writes components up to this many rows
_DEFAULTS = SimulateSettings()


def simulate_fleet(services: Sequence[str] | None = None, regions: Sequence[str] | None = None,
                   metrics: Sequence[str] | None = None, start=None, end="2025-12-08", days: int = 28,
                   seed: int = 7, events: pd.DataFrame | None = None, outliers: bool = True, missing: bool = True,
                   grain: str = "1min", n_services: int | None = None) -> "Fleet":
    """Simulate every (service, region, metric) series over [start, end) at `grain`.

    `start=None` means `end - days`; `end` is exclusive (a UTC midnight by default). `events` is a
    calendar as `load_calendar` returns it (None: no events). `n_services` extends `services` with
    generated names svc-007, svc-008, ... (or keeps the first `n_services`) so benchmarks can ask for
    hundreds of series. Deterministic given the arguments; a series' parameters depend only on the seed
    and its key, so adding services does not change the others.
    """
    services = _names("services", services, _DEFAULTS.services)
    regions = _names("regions", regions, _DEFAULTS.regions)
    metrics = _names("metrics", metrics, _DEFAULTS.metrics)
    services = _extend(services, n_services)
    seed = _seed(seed)
    grid = make_grid(start, end, days, grain)
    calendar = None if events is None else normalize_events(events, source="events")
    began = time.perf_counter()
    plans = [plan_series(s, r, m, seed, grid, calendar, bool(outliers), bool(missing))
             for s, r, m in product(services, regions, metrics)]
    fleet = Fleet(grid, plans, seed)
    log.info("simulated %d series x %d steps (%d actual rows) in %.1f s", len(plans), grid.n, len(fleet.actuals),
             time.perf_counter() - began)
    return fleet


def make_grid(start, end, days: int, grain: str) -> Grid:
    if grain not in GRAINS:
        raise InputError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
    step = pd.Timedelta(grain)
    end_ts = _utc(end, "end")
    if start is None:
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
            raise InputError(f"days must be a whole number >= 1, got {days!r}")
        start_ts = end_ts - pd.Timedelta(days=int(days))
    else:
        start_ts = _utc(start, "start")
    if start_ts >= end_ts:
        raise InputError(f"start {start_ts} must be before end {end_ts}")
    for name, ts in (("start", start_ts), ("end", end_ts)):
        if ts.value % step.value:
            raise InputError(f"{name} {ts} is not on the {grain} grain (counted from 1970-01-01 UTC); "
                             f"use e.g. {ts.floor(step)}")
    return Grid(start_ts, end_ts, step)


def _utc(value, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"{name} must be a timestamp such as 2025-12-08 or 2025-12-08T00:00Z, got {value!r}") from None
    if ts is pd.NaT:
        raise InputError(f"{name} must be a timestamp, got {value!r}")
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).as_unit("ns")


def _names(what: str, given, default: list[str]) -> list[str]:
    names = list(default if given is None else ([given] if isinstance(given, str) else given))
    bad = [n for n in names if not isinstance(n, str) or not n.strip()]
    if not names or bad:
        raise InputError(f"{what} must be a non-empty list of non-empty names, got {shorten(map(repr, names))}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{what} must be unique; repeated: {shorten(dupes)}")
    return names


def _extend(services: list[str], n_services) -> list[str]:
    if n_services is None:
        return services
    if isinstance(n_services, bool) or not isinstance(n_services, (int, np.integer)) or n_services < 1:
        raise InputError(f"n_services must be a whole number >= 1 or None, got {n_services!r}")
    extra = [f"svc-{i:03d}" for i in range(len(services) + 1, int(n_services) + 1)]
    return (services + [s for s in extra if s not in services])[: int(n_services)]


def _seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


class Fleet:
    """Actuals of a simulated fleet plus the ground truth that produced them (definitions in truth.py).

    actuals     service, region, metric, ts, value; missing steps are absent.
    components  per series and ts (missing steps included, flagged): value = level * trend * daily *
                weekly * yearly * event * noise * outlier. Rendered on first use (large), then kept.
    outliers, breaks, events, seasonality, series: small truth tables.
    """

    def __init__(self, grid: Grid, plans: list[SeriesPlan], seed: int):
        self.grid, self.plans, self.seed = grid, plans, seed
        self.start, self.end, self.grain = grid.start, grid.end, grid.step
        self.actuals = self._assemble(components=False)
        self.outliers = outliers_table(plans, grid)
        self.breaks = breaks_table(plans)
        self.events = events_table(plans, grid)
        self.seasonality = seasonality_table(plans)
        self.series = series_table(plans, grid)

    @cached_property
    def components(self) -> pd.DataFrame:
        return self._assemble(components=True)

    def series_components(self, service: str, region: str, metric: str) -> pd.DataFrame:
        """Components of one series, without rendering the whole fleet."""
        plans = [p for p in self.plans if p.key == (service, region, metric)]
        if not plans:
            raise InputError(f"no series {service}/{region}/{metric} in this fleet; it has "
                             f"{shorten('/'.join(p.key) for p in self.plans)}")
        return self._assemble(components=True, plans=plans)

    def _assemble(self, components: bool, plans: list[SeriesPlan] | None = None) -> pd.DataFrame:
        plans = self.plans if plans is None else plans
        grid_ns, t = self.grid.ns, self.grid.samples()
        steps, parts = [], {}
        for plan in plans:
            arrays = render(plan, self.grid, t, components=components)
            if components:
                arrays["missing"] = np.zeros(self.grid.n, dtype=bool)
                arrays["missing"][plan.missing] = True
                keep = slice(None)
                steps.append(np.arange(self.grid.n))
            else:
                keep = np.ones(self.grid.n, dtype=bool)
                keep[plan.missing] = False
                steps.append(np.flatnonzero(keep))
            for name, values in arrays.items():
                parts.setdefault(name, []).append(values[keep])
        counts = np.array([len(s) for s in steps])
        out = {col: np.repeat(np.array([getattr(p, col) for p in plans], dtype=object), counts) for col in KEY}
        ts = grid_ns[np.concatenate(steps)] if steps else np.empty(0, dtype=np.int64)
        out["ts"] = pd.DatetimeIndex(ts.view("datetime64[ns]")).tz_localize("UTC")
        names = COMPONENT_COLUMNS[4:] if components else ["value"]
        for name in names:
            out[name] = np.concatenate(parts[name]) if plans else np.empty(0)
        return pd.DataFrame(out, columns=[*KEY, "ts", *names])

    def truth(self) -> dict[str, pd.DataFrame]:
        """The small truth tables by name."""
        return dict(outliers=self.outliers, breaks=self.breaks, events=self.events, seasonality=self.seasonality,
                    series=self.series)

    def write(self, out_dir: str | Path, fmt: str = "csv", components: bool | str = "auto") -> dict[str, Path]:
        """Write actuals.<fmt> and truth_<table>.<fmt> for every truth table; returns {table: path}.

        `components`: True, False, or "auto" (written when the fleet has at most COMPONENTS_AUTO_ROWS
        steps in all, so a benchmark fleet of 10^7 rows does not write ten times that).
        """
        fmt = check_format(fmt)
        if components not in (True, False, "auto"):
            raise InputError(f"components must be True, False or 'auto', got {components!r}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables = {"actuals": self.actuals}
        if components is True or (components == "auto" and len(self.plans) * self.grid.n <= COMPONENTS_AUTO_ROWS):
            tables["components"] = self.components
        elif components == "auto":
            log.info("components not written: %d rows > %d; pass components=True to write them",
                     len(self.plans) * self.grid.n, COMPONENTS_AUTO_ROWS)
        tables.update(self.truth())
        return {name: write_table(df, out / (f"{name}.{fmt}" if name == "actuals" else f"truth_{name}.{fmt}"), fmt)
                for name, df in tables.items()}
