"""detect_outliers: actuals in, flags out (one row per flagged window); mask_from_flags for the fit.
detect_series_outliers: the same for one series whose key is known.

Flags are an audit trail: automatic windows (method mad_residual) and manual exclusions (method
manual) with a reason and a score. Nothing is deleted from the actuals; the model leaves the points
under a flag out of its fit.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from cloudtune.config.sections import config_section
from cloudtune.errors import ConfigError, InputError, shorten
from cloudtune.outliers.detect import detect_series
from cloudtune.outliers.manual import manual_windows, window_mask, windows_for_series
from cloudtune.outliers.settings import OutlierSettings
from cloudtune.timestamps import utc_index

log = logging.getLogger(__name__)

KEY = ["service", "region", "metric"]
ACTUALS_COLUMNS = KEY + ["ts", "value"]
FLAG_COLUMNS = KEY + ["start", "end", "reason", "score", "method", "team", "note"]
REASONS = ("spike_up", "spike_down", "outage", "level_drop", "manual_exclude")
AUTO_METHOD = "mad_residual"
MANUAL_METHOD = "manual"


def detect_outliers(actuals: pd.DataFrame, events=None, config=None) -> pd.DataFrame:
    """Flag outliers in every series of `actuals` (service, region, metric, ts, value).

    events: None, a calendar DataFrame (name, region, start, end, ...) or a YAML calendar file or folder;
        points inside an event window (with its ramp before and decay after) are never flagged.
    config: None (defaults), an OutlierSettings, a PipelineConfig, or the path of a pipeline YAML.
    Returns FLAG_COLUMNS, one row per window; start and end are UTC and both inclusive.
    """
    settings = resolve_settings(config)
    frame = _validate(actuals)
    calendar = _resolve_events(events)
    manual = manual_windows(settings)
    parts = [_named_series_flags(group, key, calendar, manual, settings)
             for key, group in frame.groupby(KEY, sort=True, observed=True)]
    return _collect(parts, frame.groupby(KEY).ngroups)


def detect_series_outliers(history: pd.DataFrame, key: tuple, events=None, config=None) -> pd.DataFrame:
    """detect_outliers for one series whose key is known: `history` has ts and value only. The same flags, without
    grouping key columns repeated on every row (the Spark job calls this once per node)."""
    settings = resolve_settings(config)
    if not isinstance(history, pd.DataFrame):
        raise InputError(f"history must be a pandas DataFrame, got {type(history).__name__}")
    if len(key) != len(KEY):
        raise InputError(f"key must be ({', '.join(KEY)}), got {key!r}")
    _require(history, ["ts", "value"], f"series {'/'.join(map(str, key))}")
    _check_values(history, lambda row: "/".join(map(str, key)))
    flags = _named_series_flags(history[["ts", "value"]], tuple(key), _resolve_events(events),
                                manual_windows(settings), settings)
    return _collect([flags], 1)


def _named_series_flags(group, key: tuple, calendar, manual, settings) -> pd.DataFrame:
    try:
        return _series_flags(group, *key, calendar, manual, settings)
    except (InputError, ConfigError):
        raise
    except Exception as exc:  # name the series; a bare numpy error from deep inside says nothing
        raise InputError(f"series {'/'.join(map(str, key))}: outlier detection failed: {exc}") from exc


def _collect(parts: list[pd.DataFrame], series: int) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    flags = pd.concat(parts, ignore_index=True) if parts else _empty()
    log.info("outliers: %d flags over %d series (%s)", len(flags), series, flags["reason"].value_counts().to_dict())
    return flags.sort_values(KEY + ["start"]).reset_index(drop=True)


def mask_from_flags(actuals: pd.DataFrame, flags: pd.DataFrame) -> pd.Series:
    """True for each actuals row under a flag (same series, start <= ts <= end); aligned to actuals.index."""
    _require(actuals, KEY + ["ts"], "actuals")
    _require(flags, KEY + ["start", "end"], "flags")
    mask = np.zeros(len(actuals), dtype=bool)
    if flags.empty or actuals.empty:
        return pd.Series(mask, index=actuals.index, name="flagged")
    ts = _utc_ns(actuals["ts"], "actuals", "ts")
    by_key = {k: g for k, g in flags.groupby(KEY, sort=False, observed=True)}
    positions = actuals.reset_index(drop=True).groupby(KEY, sort=False, observed=True).indices
    for key, pos in positions.items():
        f = by_key.get(key)
        if f is None:
            continue
        order = np.argsort(ts[pos], kind="stable")
        inside = window_mask(ts[pos][order], f["start"], f["end"], inclusive_end=True)
        mask[pos[order]] = inside
    return pd.Series(mask, index=actuals.index, name="flagged")


def resolve_settings(config) -> OutlierSettings:
    """OutlierSettings from None, an OutlierSettings, a PipelineConfig or a pipeline YAML path."""
    return config_section(config, "outliers", OutlierSettings)


def _series_flags(group, service, region, metric, calendar, manual, settings) -> pd.DataFrame:
    group = group.sort_values("ts")
    ts = _utc_ns(group["ts"], f"series {service}/{region}/{metric}", "ts")
    values = group["value"].to_numpy(dtype=float)
    dup = np.flatnonzero(np.diff(ts) == 0)
    if len(dup):
        raise InputError(f"series {service}/{region}/{metric}: duplicate timestamp {pd.Timestamp(ts[dup[0]], tz='UTC')} "
                         f"({len(dup)} in all); combine duplicates before detecting outliers")
    mine = windows_for_series(manual, service, region, metric)
    excl, keep = mine[mine["action"] == "exclude"], mine[mine["action"] == "keep"]
    excluded = window_mask(ts, excl["start"], excl["end"])
    in_event = _event_mask(ts, calendar, region)
    rows = [_manual_rows(ts, values, w, (service, region, metric)) for w in excl.itertuples(index=False)]
    rows = [r for r in rows if r is not None]
    if settings.enabled and len(ts) >= 3:
        grain = _grain(ts)
        quiet = in_event | excluded | window_mask(ts, keep["start"], keep["end"])
        for w in detect_series(ts, values, grain, in_event | excluded, quiet, settings.detect):
            rows.append(dict(service=service, region=region, metric=metric,
                             start=pd.Timestamp(w.start_ns, tz="UTC"), end=pd.Timestamp(w.end_ns, tz="UTC"),
                             reason=w.reason, score=w.score, method=AUTO_METHOD, team="", note=""))
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)


def _manual_rows(ts, values, w, key) -> dict | None:
    """A manual exclusion snapped to the series' own points in [start, end); None if it holds no point."""
    inside = np.flatnonzero(window_mask(ts, pd.Series([w.start]), pd.Series([w.end])))
    if len(inside) == 0:
        return None
    service, region, metric = key
    return dict(service=service, region=region, metric=metric,
                start=pd.Timestamp(ts[inside[0]], tz="UTC"), end=pd.Timestamp(ts[inside[-1]], tz="UTC"),
                reason="manual_exclude", score=np.nan, method=MANUAL_METHOD, team=w.team, note=w.note)


def _event_mask(ts: np.ndarray, calendar: pd.DataFrame | None, region: str) -> np.ndarray:
    if calendar is None or calendar.empty:
        return np.zeros(len(ts), dtype=bool)
    from cloudtune.events import events_for_region

    ev = events_for_region(calendar, region)
    # The ramp before and the decay after are part of the event: load there is real, not an outlier.
    return window_mask(ts, ev["start"] - ev["ramp_before"], ev["end"] + ev["decay_after"], inclusive_end=True)


def _resolve_events(events) -> pd.DataFrame | None:
    if events is None:
        return None
    from cloudtune.events import load_calendar, normalize_events

    if isinstance(events, (str, Path)):
        return load_calendar(events)
    if isinstance(events, pd.DataFrame):
        # The simulator's event truth gives ramp and decay in minutes; a calendar gives Timedeltas.
        for which, name in (("ramp", "ramp_before"), ("decay", "decay_after")):
            if name not in events.columns and f"{which}_minutes" in events.columns:
                events = events.assign(**{name: pd.to_timedelta(events[f"{which}_minutes"], unit="min")})
        return normalize_events(events)
    raise InputError(f"events must be None, a calendar DataFrame or a YAML path, got {type(events).__name__}")


def _validate(actuals: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(actuals, pd.DataFrame):
        raise InputError(f"actuals must be a pandas DataFrame, got {type(actuals).__name__}")
    _require(actuals, ACTUALS_COLUMNS, "actuals")
    frame = actuals[ACTUALS_COLUMNS]
    _check_values(frame, lambda row: f"{row['service']}/{row['region']}/{row['metric']}")
    return frame


def _check_values(frame: pd.DataFrame, series_of) -> None:
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = frame[~np.isfinite(values.to_numpy(dtype=float)) | (values < 0).to_numpy()]
    if len(bad):
        row = bad.iloc[0]
        raise InputError(f"actuals: 'value' must be finite and >= 0; {len(bad)} row(s) are not, first "
                         f"{series_of(row)} at {row['ts']}: {row['value']!r}")


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}; need {', '.join(columns)}, "
                         f"got {shorten(list(frame.columns))}")


def _utc_ns(values: pd.Series, what: str, column: str) -> np.ndarray:
    try:
        ts = utc_index(values)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{what}: column '{column}' has a value that is not a timestamp ({exc})") from None
    if ts.hasnans:
        raise InputError(f"{what}: column '{column}' has empty timestamps")
    return ts.asi8


def _grain(ts: np.ndarray) -> int:
    """The series' grain: the most common step between points (robust to gaps)."""
    steps = np.diff(ts)
    steps = steps[steps > 0]
    if len(steps) == 0:
        return 60 * 10**9
    vals, counts = np.unique(steps, return_counts=True)
    return int(vals[np.argmax(counts)])


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in FLAG_COLUMNS})
    frame["start"] = pd.Series(dtype="datetime64[ns, UTC]")
    frame["end"] = pd.Series(dtype="datetime64[ns, UTC]")
    frame["score"] = pd.Series(dtype=float)
    return frame
