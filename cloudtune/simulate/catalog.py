"""Who is in the simulated fleet: sizes and habits of services, regions and metrics, and each series' draws.

Known names (the demo fleet) have hand-set profiles; any other name gets a profile drawn from a generator
keyed by the seed and the name, so a name always looks the same whatever else is in the fleet.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


def key_of(*parts: str) -> list[int]:
    """Stable integer key of names (crc32, not hash(): Python salts str hashes per process)."""
    return [zlib.crc32(str(p).encode()) for p in parts]


def keyed_rng(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, *key_of(*parts)])


@dataclass(frozen=True)
class ServiceProfile:
    rate: float  # requests per minute in a region of size 1, geometric mean over a day
    conversion: float  # orders per request
    spiky: bool  # jumps in the first minutes of an event (cart, checkout, payments)


@dataclass(frozen=True)
class RegionProfile:
    size: float  # relative traffic
    peak_hour_utc: float  # evening local time
    weekly_peak_day: int  # 0 = Monday, in UTC days


SERVICES = {
    "home": ServiceProfile(20000.0, 0.010, False),
    "search": ServiceProfile(14000.0, 0.012, False),
    "detail": ServiceProfile(16000.0, 0.015, False),
    "cart": ServiceProfile(3500.0, 0.060, True),
    "checkout": ServiceProfile(1500.0, 0.200, True),
    "payments": ServiceProfile(1100.0, 0.250, True),
}
# us peaks around 18:00 Pacific / 21:00 Eastern, in around 19:30 IST, uk around 19:00 GMT.
REGIONS = {
    "us": RegionProfile(1.00, 2.0, 0),  # Sunday evening local is Monday 02:00 UTC
    "in": RegionProfile(0.55, 14.0, 6),
    "uk": RegionProfile(0.30, 19.0, 6),
}
ROBOT_FREE_METRICS = ("orders",)
# Sawtooth-like phases: a slow rise through the day, a fast fall after the evening peak, the trough
# 7-8 hours after it (about 04:00 local).
DAILY_PHASES = np.array([-np.pi / 2, np.pi / 2, -np.pi / 2])  # robots request pages; they do not place orders


def service_profile(name: str, seed: int) -> ServiceProfile:
    if name in SERVICES:
        return SERVICES[name]
    rng = keyed_rng(seed, "service", name)
    return ServiceProfile(rate=float(np.exp(rng.uniform(np.log(50.0), np.log(20000.0)))),
                          conversion=float(rng.uniform(0.005, 0.1)), spiky=bool(rng.random() < 0.3))


def region_profile(name: str, seed: int) -> RegionProfile:
    if name in REGIONS:
        return REGIONS[name]
    rng = keyed_rng(seed, "region", name)
    return RegionProfile(size=float(rng.uniform(0.1, 0.8)), peak_hour_utc=float(rng.uniform(0.0, 24.0)),
                         weekly_peak_day=int(rng.integers(0, 7)))


def metric_scale(metric: str, service: ServiceProfile, seed: int) -> float:
    """Per-minute size of a metric relative to the service's requests."""
    if metric == "requests":
        return 1.0
    if metric == "orders":
        return service.conversion
    return float(np.exp(keyed_rng(seed, "metric", metric).uniform(np.log(0.01), 0.0)))


@dataclass(frozen=True)
class SeriesParams:
    """Every per-series draw that does not depend on the time window."""

    rate: float  # per minute, geometric mean over a day at the window start
    slope: float  # initial trend slope: d log(trend) / d day
    daily_amplitude: float
    daily_peak_hour: float  # UTC
    daily_weights: tuple[float, float, float]
    daily_phases: tuple[float, float, float]
    weekly_amplitude: float
    weekly_peak_hour: float  # hours since Monday 00:00 UTC
    weekly_weights: tuple[float, float]
    weekly_phases: tuple[float, float]
    yearly_amplitude: float
    yearly_peak_day: float  # day of year, 0 = 1 January
    noise_sigma: float  # iid part of the log noise
    ar_sigma: float  # stationary sd of the AR(1) part of the log noise
    missing_rate: float
    spiky: bool


def draw_params(rng: np.random.Generator, service: str, region: str, metric: str, seed: int) -> SeriesParams:
    svc, reg = service_profile(service, seed), region_profile(region, seed)
    rate = svc.rate * reg.size * metric_scale(metric, svc, seed) * float(np.exp(rng.normal(0.0, 0.15)))
    orders = metric == "orders"
    return SeriesParams(
        rate=rate,
        slope=float(rng.uniform(0.0002, 0.001)),
        daily_amplitude=float(rng.uniform(0.45, 0.75) + (0.1 if orders else 0.0)),
        daily_peak_hour=float((reg.peak_hour_utc + rng.normal(0.0, 0.5)) % 24.0),
        daily_weights=(1.0, float(rng.uniform(0.25, 0.5)), float(rng.uniform(0.05, 0.15))),
        daily_phases=tuple(float(p) for p in DAILY_PHASES + rng.normal(0.0, 0.2, 3)),
        weekly_amplitude=float(rng.uniform(0.05, 0.2)),
        weekly_peak_hour=float((reg.weekly_peak_day * 24 + reg.peak_hour_utc + rng.normal(0.0, 12.0)) % 168.0),
        weekly_weights=(1.0, float(rng.uniform(0.2, 0.5))),
        weekly_phases=tuple(float(p) for p in rng.uniform(0.0, 2 * np.pi, 2)),
        yearly_amplitude=float(rng.uniform(0.05, 0.12)),
        yearly_peak_day=float(rng.uniform(330.0, 350.0)),
        noise_sigma=float(rng.uniform(0.02, 0.05)),
        ar_sigma=float(rng.uniform(0.01, 0.03)),
        missing_rate=float(rng.uniform(0.001, 0.005)),
        spiky=svc.spiky,
    )
