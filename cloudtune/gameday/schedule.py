"""A game day's per-minute load schedule: requests per minute to drive at each service and at each journey step.

The total each minute is the forecast at the chosen quantile: the region total when the forecast has one (the
reconciled 'region' level), else the sum of the region's service forecasts. Services get the total in proportion
to their own forecasts at that quantile (so with no region total, each service is driven at exactly its own
forecast), and journey steps get it in proportion to the services mapped to them (learned) or by configured
shares. Everything is rounded to whole requests so that services and steps each add up to the total exactly.
A ramp-up from `ramp_from` of the first minute's load precedes the window, so the systems under test warm up.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cloudtune.errors import InputError
from cloudtune.gameday.journey import JourneyConfig

QUANTILES = ("mean", "p50", "p90", "p99")


@dataclass(frozen=True)
class Occurrence:
    event: str
    region: str
    start: pd.Timestamp  # the event itself
    end: pd.Timestamp
    window_start: pd.Timestamp  # start - ramp_before: the calendar's own build-up
    window_end: pd.Timestamp  # end + decay_after


@dataclass
class GameDaySchedule:
    frame: pd.DataFrame  # ts, minute, phase, total, service.<name>..., step.<name>...
    meta: dict = field(default_factory=dict)

    @property
    def services(self) -> list[str]:
        return [c.split(".", 1)[1] for c in self.frame.columns if c.startswith("service.")]

    @property
    def steps(self) -> list[str]:
        return [c.split(".", 1)[1] for c in self.frame.columns if c.startswith("step.")]

    def write(self, folder: str | Path) -> dict[str, Path]:
        """CSV (one row per minute) and JSON (the same, plus what it was built from) for a load-testing tool."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"gameday-{self.meta['event']}-{self.meta['region']}-{self.meta['occurrence_start'][:10]}-" \
               f"{self.meta['quantile']}"
        csv_path, json_path = folder / f"{stem}.csv", folder / f"{stem}.json"
        out = self.frame.assign(ts=self.frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        out.to_csv(csv_path, index=False)
        minutes = [dict(ts=r["ts"], minute=int(r["minute"]), phase=r["phase"], total=int(r["total"]),
                        services={s: int(r[f"service.{s}"]) for s in self.services},
                        steps={s: int(r[f"step.{s}"]) for s in self.steps}) for r in out.to_dict("records")]
        json_path.write_text(json.dumps({**self.meta, "schedule": minutes}, indent=1))
        return {"csv": csv_path, "json": json_path}

    def summary(self) -> str:
        f, m = self.frame, self.meta
        event = f[f["phase"] != "ramp_up"]
        peak = event.loc[event["total"].idxmax()]
        return (f"game day {m['event']} {m['region']} {m['occurrence_start'][:16]} at {m['quantile']}: "
                f"{len(f)} minutes ({m['ramp_up_minutes']} ramp-up), peak {int(peak['total']):,} req/min at "
                f"{peak['ts']:%Y-%m-%d %H:%M}Z over {len(self.services)} services and {len(self.steps)} steps "
                f"(basis {m['basis']}, shares {m['shares']})")


def build_schedule(minutes: pd.DataFrame, occurrence: Occurrence, quantile: str, journey: JourneyConfig,
                   shares: str | None = None, metric: str = "requests") -> GameDaySchedule:
    """minutes: the forecast rows of one region and metric over the window (service, level, ts, mean..p99)."""
    if quantile not in QUANTILES:
        raise InputError(f"quantile must be one of {', '.join(QUANTILES)}, got {quantile!r}")
    shares = shares or journey.shares
    grid = pd.date_range(occurrence.window_start, occurrence.window_end, freq="1min", inclusive="left")
    series = _pivot(minutes[minutes["level"] == "series"], quantile, grid, occurrence)
    region = minutes[(minutes["level"] == "region") & (minutes["service"] == "*")]
    if len(region) and region["ts"].nunique() >= len(grid):
        total, basis = _pivot(region, quantile, grid, occurrence)["*"].to_numpy(), "region_total"
    else:
        total, basis = series.sum(axis=1).to_numpy(), "sum_of_series"
    by_service = _scale_to(series.to_numpy(), total)
    by_step, notes = _steps(series, by_service, total, journey, shares)
    ramp = int(journey.ramp / pd.Timedelta(minutes=1))
    factors = np.concatenate([np.linspace(journey.ramp_from, 1.0, ramp, endpoint=False), np.ones(len(grid))])
    first = lambda a: np.vstack([np.repeat(a[:1], ramp, axis=0), a])  # noqa: E731 - ramp minutes copy minute one
    total_all = np.concatenate([np.repeat(total[:1], ramp), total]) * factors
    total_int = np.rint(total_all).astype(np.int64)
    svc = split_integers(first(by_service) * factors[:, None], total_int)
    stp = split_integers(first(by_step) * factors[:, None], total_int)
    ts = pd.date_range(occurrence.window_start - journey.ramp, occurrence.window_end, freq="1min", inclusive="left")
    frame = pd.DataFrame({"ts": ts, "minute": np.arange(len(ts)) - ramp, "phase": _phases(ts, occurrence, ramp),
                          "total": total_int})
    for i, s in enumerate(series.columns):
        frame[f"service.{s}"] = svc[:, i]
    for i, s in enumerate(journey.steps):
        frame[f"step.{s}"] = stp[:, i]
    meta = dict(event=occurrence.event, region=occurrence.region, metric=metric, quantile=quantile,
                unit="requests per minute", step_seconds=60, occurrence_start=occurrence.start.isoformat(),
                occurrence_end=occurrence.end.isoformat(), window_start=occurrence.window_start.isoformat(),
                window_end=occurrence.window_end.isoformat(), ramp_up_minutes=ramp, ramp_from=journey.ramp_from,
                basis=basis, shares=shares, services=list(series.columns), steps=list(journey.steps), notes=notes)
    return GameDaySchedule(frame, meta)


def _pivot(rows: pd.DataFrame, q: str, grid: pd.DatetimeIndex, occ: Occurrence) -> pd.DataFrame:
    if rows.empty:
        raise InputError(f"no forecast rows for {occ.region} between {occ.window_start} and {occ.window_end}")
    wide = rows.pivot_table(index="ts", columns="service", values=q, aggfunc="first").reindex(grid)
    gaps = wide.isna()
    if gaps.any().any():
        service = gaps.any().idxmax()
        raise InputError(f"{service}/{occ.region}: the forecast has no {q} for {int(gaps[service].sum())} minutes of "
                         f"the {occ.event} window (first {wide.index[gaps[service].to_numpy()][0]}); the window must "
                         f"lie inside the forecast horizon")
    if (wide.to_numpy() < 0).any():
        raise InputError(f"negative forecast in the {occ.event} window for {occ.region}; forecasts must be >= 0")
    return wide.sort_index(axis=1)


def _scale_to(parts: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Parts rescaled row by row to add up to `total` (equal split when a row's parts are all zero)."""
    sums = parts.sum(axis=1, keepdims=True)
    equal = np.full_like(parts, 1.0 / parts.shape[1])
    shares = np.divide(parts, sums, out=equal, where=sums > 0)
    return shares * total[:, None]


def _steps(series: pd.DataFrame, by_service: np.ndarray, total: np.ndarray, journey: JourneyConfig,
           shares: str) -> tuple[np.ndarray, list[str]]:
    notes = []
    if shares == "configured":
        fixed = np.array([journey.configured.get(s, 0.0) for s in journey.steps])
        return np.outer(total, fixed), notes
    if shares != "learned":
        raise InputError(f"shares must be learned or configured, got {shares!r}")
    mapped = [s for s in series.columns if s in journey.services]
    unmapped = [s for s in series.columns if s not in journey.services]
    if not mapped:
        raise InputError(f"no service of this region ({', '.join(series.columns)}) is mapped to a journey step; "
                         f"add them under 'services' in gameday.yaml or use shares: configured")
    if unmapped:
        notes.append(f"services with no journey step, spread over the steps in proportion: {', '.join(unmapped)}")
    parts = np.zeros((len(total), len(journey.steps)))
    for i, s in enumerate(series.columns):
        if s in journey.services:
            parts[:, journey.steps.index(journey.services[s])] += by_service[:, i]
    empty = [st for j, st in enumerate(journey.steps) if not parts[:, j].any()]
    if empty:
        notes.append(f"steps with no mapped service get no load: {', '.join(empty)}")
    return _scale_to(parts, total), notes


def split_integers(parts: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Round each row of non-negative `parts` to integers that add up to that row's integer total
    (largest remainder), so the rounded services or steps still add up to the rounded total."""
    scaled = _scale_to(parts, totals.astype(float))
    floors = np.floor(scaled)
    short = (totals - floors.sum(axis=1)).astype(np.int64)
    rank = np.argsort(np.argsort(-(scaled - floors), axis=1, kind="stable"), axis=1, kind="stable")
    return (floors + (rank < short[:, None])).astype(np.int64)


def _phases(ts: pd.DatetimeIndex, occ: Occurrence, ramp: int) -> np.ndarray:
    phase = np.where(ts < occ.start, "build_up", np.where(ts < occ.end, "event", "decay"))
    phase[:ramp] = "ramp_up"
    return phase
