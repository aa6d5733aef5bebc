"""One series: plan every random choice once, then render values (and optionally components) from the plan.

value = level * trend * daily * weekly * yearly * event * noise * outlier, where
- level: the per-step rate at the window start (geometric mean over a day and a week);
- trend: exp of a continuous piecewise-linear function of days, 1 at the window start; its slope is
  d log(trend) / d day (relative growth per day) and changes at the breaks (UTC midnights);
- daily, weekly, yearly: exp(amplitude * profile), see shapes.py;
- event: product of the multipliers of the event occurrences around that time, 1 elsewhere;
- noise: the draw's ratio to the expected value: lognormal (iid + AR(1), mean 1) then Poisson counts,
  so noise = count / (level * ... * event);
- outlier: the injected outliers' magnitude, 1 elsewhere.
At the 1min grain components are evaluated at the middle of each minute; at a coarser grain each
component is its mean over the step (sampled at up to 240 evenly spaced times), so a day's value is a
day's total, not 1440 times the noon minute. Rendering is deterministic: the noise generator is re-seeded
from the plan, so actuals and components rendered separately agree to the last bit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from cloudtune.simulate.anomalies import Outlier, draw_missing, outlier_multiplier, place_outliers
from cloudtune.simulate.catalog import ROBOT_FREE_METRICS, SeriesParams, draw_params, key_of
from cloudtune.simulate.effects import EventEffect, effects_multiplier, plan_effects
from cloudtune.simulate.shapes import (MINUTES_PER_DAY, MINUTES_PER_WEEK, MONDAY_MINUTE, Profile,
                                       yearly_profile)

AR_PHI_PER_MINUTE = 0.95
MAX_SAMPLES_PER_STEP = 240
_NS_PER_MIN = 60_000_000_000


@dataclass(frozen=True)
class Grid:
    """The common time grid: step starts in ns since the epoch, and sample times inside steps in minutes."""

    start: pd.Timestamp
    end: pd.Timestamp  # exclusive
    step: pd.Timedelta

    @property
    def ns(self) -> np.ndarray:
        return np.arange(self.start.value, self.end.value, self.step.value, dtype=np.int64)

    @property
    def n(self) -> int:
        return int((self.end.value - self.start.value) // self.step.value)

    @property
    def step_minutes(self) -> float:
        return self.step.value / _NS_PER_MIN

    def samples(self) -> np.ndarray:
        """(n, k) times in minutes spread evenly inside each step; k = 1 (the middle) at the 1min grain."""
        k = int(min(self.step_minutes, MAX_SAMPLES_PER_STEP))
        offsets = (np.arange(k) + 0.5) / k * self.step_minutes
        return self.ns[:, None] / _NS_PER_MIN + offsets[None, :]

    @property
    def t0(self) -> float:
        return self.start.value / _NS_PER_MIN


@dataclass(frozen=True)
class Break:
    ts: pd.Timestamp  # a UTC midnight
    slope_before: float
    slope_after: float


@dataclass(frozen=True)
class SeriesPlan:
    service: str
    region: str
    metric: str
    params: SeriesParams
    level: float  # per step
    breaks: tuple[Break, ...]
    effects: tuple[EventEffect, ...]
    outliers: tuple[Outlier, ...]
    missing: np.ndarray  # step indices
    noise_seed: np.random.SeedSequence

    @property
    def key(self) -> tuple[str, str, str]:
        return self.service, self.region, self.metric


def plan_series(service: str, region: str, metric: str, seed: int, grid: Grid, calendar: pd.DataFrame | None,
                outliers: bool, missing: bool) -> SeriesPlan:
    root = np.random.SeedSequence([seed, *key_of(service, region, metric)])
    params_ss, breaks_ss, anomalies_ss, noise_ss = root.spawn(4)
    params = draw_params(np.random.default_rng(params_ss), service, region, metric, seed)
    t1 = grid.t0 + grid.n * grid.step_minutes
    effects = plan_effects(calendar, service, region, metric, seed, params.spiky, grid.t0, t1)
    anomalies_rng = np.random.default_rng(anomalies_ss)
    placed: list[Outlier] = []
    if outliers:
        blocked = [_index_range(grid, *e.window) for e in effects]
        robots = metric not in ROBOT_FREE_METRICS
        placed = place_outliers(anomalies_rng, grid.n, grid.step_minutes, blocked, robots)
    gone = draw_missing(anomalies_rng, grid.n, grid.step_minutes, params.missing_rate) if missing \
        else np.empty(0, dtype=np.int64)
    return SeriesPlan(
        service, region, metric, params, level=params.rate * grid.step_minutes,
        breaks=_draw_breaks(np.random.default_rng(breaks_ss), grid, params.slope),
        effects=tuple(effects), outliers=tuple(placed), missing=gone, noise_seed=noise_ss,
    )


def _index_range(grid: Grid, lo: float, hi: float) -> tuple[int, int]:
    """Steps whose middle lies in [lo, hi) minutes."""
    first = (lo - grid.t0) / grid.step_minutes - 0.5
    last = (hi - grid.t0) / grid.step_minutes - 0.5
    return int(np.clip(np.ceil(first), 0, grid.n)), int(np.clip(np.ceil(last), 0, grid.n))


def _draw_breaks(rng: np.random.Generator, grid: Grid, slope: float) -> tuple[Break, ...]:
    """Most series have no break, some one, a few two; at UTC midnights >= 7 days from the ends and apart."""
    draw = rng.random()
    count = 0 if draw < 0.6 else 1 if draw < 0.9 else 2
    first = grid.start.ceil("D")
    midnights = pd.date_range(first + pd.Timedelta(days=7), grid.end - pd.Timedelta(days=7), freq="D")
    days = list(midnights)
    chosen: list[pd.Timestamp] = []
    for _ in range(count):
        room = [d for d in days if all(abs((d - c).days) >= 7 for c in chosen)]
        if not room:
            break
        chosen.append(room[int(rng.integers(0, len(room)))])
    breaks, before = [], slope
    for ts in sorted(chosen):
        days_after = max((grid.end - ts) / pd.Timedelta(days=1), 14.0)
        # Enough to see (an 8-30% change of level by the end of the window), never absurd over years.
        change = float(np.clip(rng.uniform(0.08, 0.3) / days_after, 0.0005, 0.015)) * rng.choice([-1.0, 1.0])
        breaks.append(Break(ts, before, before + change))
        before += change
    return tuple(breaks)


def profiles(p: SeriesParams) -> tuple[Profile, Profile]:
    daily = Profile(MINUTES_PER_DAY, p.daily_weights, p.daily_phases, p.daily_peak_hour * 60.0)
    weekly = Profile(MINUTES_PER_WEEK, p.weekly_weights, p.weekly_phases, p.weekly_peak_hour * 60.0,
                     origin=MONDAY_MINUTE)
    return daily, weekly


def _step_mean(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return values if shape[1] == 1 else values.reshape(shape).mean(axis=1)


def render(plan: SeriesPlan, grid: Grid, t: np.ndarray | None = None, components: bool = False) -> dict:
    """Arrays over the whole grid: 'value' (missing steps included) and, if asked, every component.
    `t` is grid.samples(), passed in to share it between series."""
    p = plan.params
    t = grid.samples() if t is None else t
    shape, flat = t.shape, t.ravel()
    days = (flat - grid.t0) / MINUTES_PER_DAY
    log_trend = p.slope * days
    for b in plan.breaks:
        at = (b.ts.value / _NS_PER_MIN - grid.t0) / MINUTES_PER_DAY
        log_trend += (b.slope_after - b.slope_before) * np.maximum(days - at, 0.0)
    daily_profile, weekly_profile = profiles(p)
    parts = dict(
        trend=np.exp(log_trend),
        daily=np.exp(p.daily_amplitude * daily_profile(flat)),
        weekly=np.exp(p.weekly_amplitude * weekly_profile(flat)),
        yearly=np.exp(p.yearly_amplitude * yearly_profile(flat, p.yearly_peak_day)),
        event=effects_multiplier(list(plan.effects), flat),
    )
    parts = {name: _step_mean(values, shape) for name, values in parts.items()}
    expected = plan.level * parts["trend"] * parts["daily"] * parts["weekly"] * parts["yearly"] * parts["event"]

    rng = np.random.default_rng(plan.noise_seed)
    n = shape[0]
    phi = AR_PHI_PER_MINUTE ** grid.step_minutes
    shocks = rng.standard_normal(n) * (p.ar_sigma * np.sqrt(1.0 - phi**2))
    # Start the AR(1) in its stationary state so the first hours are not quieter than the rest.
    ar, _ = lfilter([1.0], [1.0, -phi], shocks, zi=[phi * p.ar_sigma * rng.standard_normal()])
    log_noise = p.noise_sigma * rng.standard_normal(n) + ar - (p.noise_sigma**2 + p.ar_sigma**2) / 2.0
    counts = rng.poisson(expected * np.exp(log_noise)).astype(np.float64)
    outlier = outlier_multiplier(list(plan.outliers), n)
    out = {"value": counts * outlier}
    if components:
        out.update(level=np.full(n, plan.level), **parts, noise=counts / expected, outlier=outlier)
    return out
