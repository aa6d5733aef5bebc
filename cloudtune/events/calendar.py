"""Event calendars: conf/events/<region>.yaml -> one row per occurrence.

An event is data: a name, the regions it belongs to, occurrences (start plus end or duration),
an optional ramp before and decay after, and an optional prior lift and shape for an event that
has never happened before (a console launch).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pandas as pd

from cloudtune.config.durations import parse_duration
from cloudtune.config.strict import load_file
from cloudtune.errors import ConfigError, InputError

PRIOR_SHAPES = ("flat", "front_loaded", "spike")
CALENDAR_COLUMNS = [
    "name", "region", "kind", "start", "end", "ramp_before", "decay_after", "prior_lift", "prior_shape",
]


@dataclass(frozen=True)
class Occurrence:
    start: str
    end: Optional[str] = None
    duration: Optional[str] = None
    note: str = ""


@dataclass(frozen=True)
class EventSpec:
    name: str
    occurrences: list[Occurrence]
    kind: str = "sale"  # sale | holiday | launch | festival
    regions: Optional[list[str]] = None  # defaults to the file's region
    ramp_before: str = "0min"
    decay_after: str = "0min"
    prior_lift: Optional[float] = None  # multiplier on load, used when no occurrence is in the history
    prior_shape: str = "flat"
    description: str = ""

    def __post_init__(self):
        if self.prior_shape not in PRIOR_SHAPES:
            raise ValueError(f"event '{self.name}': prior_shape must be one of {', '.join(PRIOR_SHAPES)}")
        if self.prior_lift is not None and self.prior_lift <= 0:
            raise ValueError(f"event '{self.name}': prior_lift must be > 0 (1.0 means no change)")


@dataclass(frozen=True)
class CalendarFile:
    region: str
    events: list[EventSpec] = field(default_factory=list)


def load_calendar(path: str | Path) -> pd.DataFrame:
    """Load one YAML calendar or every *.yaml in a folder into a DataFrame with CALENDAR_COLUMNS."""
    path = Path(path)
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise ConfigError(f"{path}: no event calendars (*.yaml) found")
    rows = []
    for f in files:
        cal = load_file(CalendarFile, f)
        for ev in cal.events:
            for i, occ in enumerate(ev.occurrences):
                rows.extend(_occurrence_rows(f, cal.region, ev, i, occ))
    return normalize_events(pd.DataFrame(rows, columns=CALENDAR_COLUMNS), source=str(path))


def _occurrence_rows(f: Path, region: str, ev: EventSpec, i: int, occ: Occurrence) -> list[dict]:
    where = f"{f}: events.{ev.name}.occurrences[{i}]"
    start = _timestamp(occ.start, where + ".start")
    if (occ.end is None) == (occ.duration is None):
        raise ConfigError(f"{where}: give exactly one of 'end' or 'duration'")
    end = _timestamp(occ.end, where + ".end") if occ.end is not None else start + parse_duration(occ.duration, where)
    if end <= start:
        raise ConfigError(f"{where}: end {end} is not after start {start}")
    ramp = parse_duration(ev.ramp_before, f"{f}: events.{ev.name}.ramp_before")
    decay = parse_duration(ev.decay_after, f"{f}: events.{ev.name}.decay_after")
    return [
        dict(name=ev.name, region=r, kind=ev.kind, start=start, end=end, ramp_before=ramp, decay_after=decay,
             prior_lift=ev.prior_lift, prior_shape=ev.prior_shape)
        for r in (ev.regions or [region])
    ]


def _timestamp(text: str, where: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ConfigError(f"{where}: cannot read timestamp {text!r}; use ISO 8601 such as 2025-07-08T07:00Z") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _timestamps(col: pd.Series) -> pd.Series:
    """UTC timestamps from a column that may mix ISO dates and date-times (an all-day sale beside a 2-hour launch):
    pandas infers one format from the first row and rejects the others."""
    try:
        return pd.to_datetime(col, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return pd.to_datetime(col, utc=True)


def normalize_events(events: pd.DataFrame, source: str = "events") -> pd.DataFrame:
    """Check and complete an events DataFrame (at least name, region, start, end); UTC, sorted."""
    if _normalized(events):  # each series' outliers and peaks check the node's calendar again: 2 ms each
        return events.copy()
    missing = [c for c in ("name", "region", "start", "end") if c not in events.columns]
    if missing:
        raise InputError(f"{source}: events need columns name, region, start, end; missing {', '.join(missing)}")
    out = events.copy()
    for col in ("start", "end"):
        try:
            out[col] = _timestamps(out[col])
        except (ValueError, TypeError) as exc:
            raise InputError(f"{source}: column '{col}' has a value that is not a timestamp ({exc})") from None
    bad = out[out["end"] <= out["start"]]
    if len(bad):
        raise InputError(f"{source}: event '{bad.iloc[0]['name']}' ends at or before it starts ({bad.iloc[0]['start']})")
    defaults = dict(kind="sale", ramp_before=pd.Timedelta(0), decay_after=pd.Timedelta(0), prior_lift=None,
                    prior_shape="flat")
    for col, value in defaults.items():
        if col not in out.columns:
            out[col] = [value] * len(out)
    for col in ("ramp_before", "decay_after"):
        out[col] = pd.to_timedelta(out[col])
    out["prior_lift"] = pd.to_numeric(out["prior_lift"], errors="coerce")
    out["region"] = out["region"].astype(str)
    return out[CALENDAR_COLUMNS].sort_values(["region", "start", "name"]).reset_index(drop=True)


_NORMALIZED_DTYPES = {"name": "object", "region": "object", "kind": "object", "start": "datetime64[ns, UTC]",
                      "end": "datetime64[ns, UTC]", "ramp_before": "timedelta64[ns]",
                      "decay_after": "timedelta64[ns]", "prior_lift": "float64", "prior_shape": "object"}


def _normalized(events: pd.DataFrame) -> bool:
    """Whether `events` already is what normalize_events returns: its columns and types, text names and regions,
    no event ending before it starts, sorted, and a fresh unnamed index."""
    index = events.index
    if list(events.columns) != CALENDAR_COLUMNS or type(index) is not pd.RangeIndex or index.name is not None \
            or index.start != 0 or index.step != 1:
        return False
    if any(str(events[col].dtype) != dtype for col, dtype in _NORMALIZED_DTYPES.items()):
        return False
    if not (events["end"] > events["start"]).all():
        return False
    region, name = events["region"].to_numpy(), events["name"].to_numpy()
    if not all(isinstance(v, str) for v in (*region, *name)):
        return False
    start = events["start"].array.asi8  # sorted by region, then start, then name
    r0, r1, s0, s1, n0, n1 = region[:-1], region[1:], start[:-1], start[1:], name[:-1], name[1:]
    return bool(((r0 < r1) | ((r0 == r1) & ((s0 < s1) | ((s0 == s1) & (n0 <= n1))))).all())


def events_for_region(events: pd.DataFrame, region: str) -> pd.DataFrame:
    """The occurrences that apply to one region ('global' events apply everywhere)."""
    return events[(events["region"] == region) | (events["region"] == "global")].reset_index(drop=True)
