"""Which occurrence a game day rehearses: the next one of an event in a region that the forecast covers."""
from __future__ import annotations

import pandas as pd

from cloudtune.errors import InputError, shorten
from cloudtune.events import events_for_region
from cloudtune.gameday.schedule import Occurrence


def covered_occurrences(calendar: pd.DataFrame, horizons: pd.DataFrame) -> list[Occurrence]:
    """Every occurrence whose whole window (with ramp and decay) lies inside its region's forecast horizon.

    horizons: region, first_ts, last_ts (the forecast's first and last minute in that region)."""
    out = []
    for h in horizons.itertuples(index=False):
        for occ in events_for_region(calendar, h.region).itertuples(index=False):
            o = Occurrence(occ.name, h.region, occ.start, occ.end, occ.start - _span(occ.ramp_before),
                           occ.end + _span(occ.decay_after))
            if o.window_start >= h.first_ts and o.window_end <= h.last_ts + pd.Timedelta(minutes=1):
                out.append(o)
    return sorted(out, key=lambda o: (o.start, o.region, o.event))


def find_occurrence(calendar: pd.DataFrame, horizons: pd.DataFrame, event: str | None = None,
                    region: str | None = None, start: str | None = None) -> Occurrence:
    """The first covered occurrence matching `event`, `region` and `start` (a date or timestamp); all optional."""
    known = set(calendar["name"])
    if event is not None and event not in known:
        import difflib

        close = difflib.get_close_matches(event, sorted(known), n=1)
        raise InputError(f"no event named {event!r} in the calendar." + (f" Did you mean {close[0]!r}?" if close
                                                                          else f" Events: {', '.join(sorted(known))}"))
    found = [o for o in covered_occurrences(calendar, horizons)
             if (event is None or o.event == event) and (region is None or o.region == region)
             and (start is None or o.start.date() == pd.Timestamp(start).date())]
    if found:
        return found[0]
    span = ", ".join(f"{h.region} {pd.Timestamp(h.first_ts):%Y-%m-%d} to {pd.Timestamp(h.last_ts):%Y-%m-%d}"
                     for h in horizons.itertuples(index=False)) or "none"
    wanted = " ".join(x for x in (event or "any event", f"in {region}" if region else "", start or "") if x)
    cal = calendar[(calendar["name"] == event) if event else calendar["name"].notna()]
    if region:
        cal = events_for_region(cal, region)
    dates = shorten([f"{r.region} {r.start:%Y-%m-%d}" for r in cal.sort_values("start", ascending=False)
                     .itertuples(index=False)]) or "none"
    raise InputError(f"no occurrence of {wanted} lies inside the latest forecast (horizon: {span}); "
                     f"occurrences in the calendar: {dates}")


def _span(value) -> pd.Timedelta:
    """A ramp or decay; missing (NaT in a hand-built calendar) means none."""
    return pd.Timedelta(0) if pd.isna(value) else pd.Timedelta(value)
