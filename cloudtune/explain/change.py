"""Why a forecast moved between two runs: the change of one quantity split into named parts that add up.

Quantities (over one series, or the sum of a region's series):

- ``total_4w``: the sum of the per-step mean forecast over the four weeks from the later run's date;
- ``event_peak``: the highest step of the mean forecast during the next event occurrence starting on or after
  the later run's date (the region's peak is the peak of the summed series).

Both runs are re-fitted through the pure engine (`cloudtune.models.selection.fit_with_fallback`, the same fit as
`cloudtune.pipeline.run_series`) on the actuals each run saw, three times:

    B  = fit(actuals as of run B, B's outlier exclusions)       the baseline
    AB = fit(actuals as of run A, B's outlier exclusions)       the newer data, the old exclusions
    A  = fit(actuals as of run A, A's outlier exclusions)       the run being explained

The parts:

- ``outlier exclusions`` = Q(A) - Q(AB): what the changed exclusions did;
- ``trend``, ``seasonality`` (daily, weekly, yearly, day-type and extra seasonalities), ``events`` and
  ``regressors``: how re-fitting on the newer actuals moved each named component, Q(AB) - Q(B) split exactly by
  the log-mean Divisia index over the multiplicative components (`cloudtune.explain.attribution`);
- ``new data``: the rest of Q(AB) - Q(B): the latest days' level carried forward (level_adjust), and the
  parts of a fallback model (naive, seasonal naive, ETS level) that are the data themselves;
- with the published forecasts (the forecasts table) given, two more parts make the total their change:
  ``reconciliation``, the change of the published (reconciled) means minus that of the models' own base means,
  and ``config or code``, the change of the base means minus the refits' (the config, the calendar or the code
  changed since a run). The second is zero when the refits reproduce the runs.

The parts sum to the total change of the quantity to rounding; `Explanation.check()` says so.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cloudtune.errors import InputError, ModelError
from cloudtune.explain.attribution import UNALLOCATED, differences, lmdi
from cloudtune.models.base import combine_parts
from cloudtune.models.selection import fit_with_fallback
from cloudtune.models.settings import ModelSettings

log = logging.getLogger(__name__)
QUANTITIES = ("total_4w", "event_peak")
PARTS = ("trend", "seasonality", "events", "regressors", "outlier exclusions", "new data")
PUBLISHED = "config or code"
RECONCILIATION = "reconciliation"
_SEASONAL = {"daily", "weekly", "yearly", "seasonal_naive"}
_TREND = {"trend", "level"}


@dataclass
class SeriesInput:
    """One series as the two runs saw it: history (ts, value) and outlier flags (start, end, reason)."""
    key: tuple
    history_a: pd.DataFrame
    history_b: pd.DataFrame
    flags_a: pd.DataFrame | None = None
    flags_b: pd.DataFrame | None = None


@dataclass
class Explanation:
    label: str
    quantity: str
    window: tuple
    value_a: float
    value_b: float
    parts: dict
    detail: pd.DataFrame
    series: pd.DataFrame
    notes: list = field(default_factory=list)
    run_a: str = "A"
    run_b: str = "B"
    event: str | None = None

    @property
    def total(self) -> float:
        return self.value_a - self.value_b

    def check(self, rtol: float = 1e-6) -> float:
        """The parts' sum minus the total; raises when it is off by more than rtol of the quantity."""
        gap = sum(self.parts.values()) - self.total
        scale = max(abs(self.value_a), abs(self.value_b), 1e-12)
        if abs(gap) > rtol * scale:
            raise ModelError(f"{self.label}: the parts add up to {sum(self.parts.values()):.6g}, not the total change "
                             f"{self.total:.6g}; this is a bug, please report it")
        return gap

    def text(self) -> str:
        what = (f"peak of the mean forecast during {self.event} {self.window[0]:%Y-%m-%dT%H:%MZ}"
                if self.quantity == "event_peak" else
                f"total of the mean forecast over {self.window[0]:%Y-%m-%d} .. {self.window[1]:%Y-%m-%d}")
        pct = self.total / self.value_b if self.value_b else float("nan")
        lines = [f"{self.label}: {what}",
                 f"  run {self.run_b}: {self.value_b:,.1f}   run {self.run_a}: {self.value_a:,.1f}   "
                 f"change {self.total:+,.1f} ({100 * pct:+.2f}%)"]
        for name, value in self.parts.items():
            share = value / self.value_b if self.value_b else float("nan")
            lines.append(f"  {name:<22} {value:+14,.1f}  ({100 * share:+.2f}% of run {self.run_b})")
        lines.append(f"  {'sum of parts':<22} {sum(self.parts.values()):+14,.1f}")
        if len(self.series) > 1:  # a region: which series moved (refit values)
            top = self.series.reindex(self.series["change"].abs().sort_values(ascending=False).index).head(10)
            lines.append("  by series (refits): " + ", ".join(f"{r.series} {r.change:+,.1f}" for r in top.itertuples()))
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def group_of(component: str, settings: ModelSettings | None = None) -> str:
    """The part a model component belongs to."""
    extra = set()
    if settings is not None:
        extra = {s.name for s in settings.cloudtune.seasonalities} | {c.name for c in settings.cloudtune.conditional}
    if component in _TREND:
        return "trend"
    if component in _SEASONAL or component in extra:
        return "seasonality"
    if component.startswith("event:"):
        return "events"
    if component.startswith("regressor:"):
        return "regressors"
    return "new data"  # level_adjust, naive, unallocated


def next_occurrence(events: pd.DataFrame | None, after: pd.Timestamp, name: str | None = None) -> pd.Series:
    if events is None or len(events) == 0:
        raise InputError("event_peak needs an event calendar for the region; none is configured (conf/events)")
    ev = events if name is None else events[events["name"] == name]
    if name is not None and ev.empty:
        raise InputError(f"unknown event {name!r}; known events: {', '.join(sorted(set(events['name'])))}")
    starts = pd.to_datetime(ev["start"], utc=True)
    ahead = ev[starts >= after]
    if ahead.empty:
        raise InputError(f"no {name or 'event'} occurrence starts on or after {after:%Y-%m-%d}; "
                         f"add one to conf/events or explain total_4w")
    return ahead.loc[pd.to_datetime(ahead["start"], utc=True).idxmin()]


class _Fit:
    def __init__(self, history, key, settings, events, flags):
        label = "/".join(map(str, key))
        fitted, report = fit_with_fallback(history, key, settings, events, None,
                                           flags if flags is not None and len(flags) else None)
        if fitted is None:
            raise ModelError(f"{label}: no model could be fitted ({report['reason']})")
        self.fitted, self.model = fitted, report["model"]
        self.events = events if self.model == "cloudtune" else None

    def parts(self, ts: pd.DatetimeIndex) -> tuple[dict, str]:
        comps = self.fitted.components(ts, events=self.events)
        combine = "multiply" if comps.attrs.get("combine", "multiply") in ("multiply", "multiplicative") else "add"
        return {c: comps[c].to_numpy(float) for c in comps.columns if c != "mean"}, combine


def _window_index(fit: _Fit, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    step = fit.fitted.step_
    first = start.ceil(step) if step <= pd.Timedelta("1d") else start
    return pd.date_range(first, end, freq=step, inclusive="left")


def _same_flags(a, b) -> bool:
    def norm(f):
        if f is None or len(f) == 0:
            return set()
        return set(zip(pd.to_datetime(f["start"], utc=True), pd.to_datetime(f["end"], utc=True)))
    return norm(a) == norm(b)


def explain_change(series: list[SeriesInput], settings: ModelSettings, events: pd.DataFrame | None,
                   anchor, quantity: str = "total_4w", event: str | None = None, label: str | None = None,
                   published: tuple[float, float] | None = None, run_a: str = "A", run_b: str = "B",
                   base: tuple[float, float] | None = None) -> Explanation:
    """Explain the change of `quantity` from run B to run A for one series or the sum of several (a region).
    anchor: run A's date (the window starts there). events: the region's calendar. published: the quantity as
    the forecasts table holds it for (A, B), to account for what the refits do not reproduce; base: the same from
    the models' own means before reconciliation (base_mean), to tell reconciliation from config or code."""
    if quantity not in QUANTITIES:
        raise InputError(f"quantity must be one of {', '.join(QUANTITIES)}, got {quantity!r}")
    if not series:
        raise InputError("nothing to explain: no series given")
    anchor = pd.Timestamp(anchor)
    anchor = anchor.tz_localize("UTC") if anchor.tzinfo is None else anchor.tz_convert("UTC")
    label = label or "/".join(map(str, series[0].key))
    if quantity == "total_4w":
        start, end, ev_name = anchor, anchor + pd.Timedelta("28d"), None
    else:
        occ = next_occurrence(events, anchor, event)
        start, end, ev_name = pd.Timestamp(occ["start"]), pd.Timestamp(occ["end"]), occ["name"]
    notes: list[str] = []
    fits = {}
    for s in series:
        lab = "/".join(map(str, s.key))
        fb = _Fit(s.history_b, s.key, settings, events, s.flags_b)
        fa = _Fit(s.history_a, s.key, settings, events, s.flags_a)
        if _same_flags(s.flags_a, s.flags_b):
            fab = fa
        else:
            fab = _Fit(s.history_a, s.key, settings, events, s.flags_b)
        if fa.model != fb.model:
            notes.append(f"{lab}: model {fb.model} in run {run_b}, {fa.model} in run {run_a}")
        fits[s.key] = (fa, fab, fb)
    # Per series and fit: the parts on the window (the same timestamps for every fit of a series).
    grids = {k: _window_index(f[0], start, end) for k, f in fits.items()}
    evald = {k: [f.parts(grids[k]) for f in fs] for k, fs in fits.items()}
    means = {k: [combine_parts(p, how) for p, how in v] for k, v in evald.items()}
    if quantity == "total_4w":
        picks = {k: [np.ones(len(grids[k]), bool)] * 3 for k in fits}
    else:  # the peak step of the summed mean, per fit
        picks = {k: [] for k in fits}
        for j in range(3):
            frame = pd.DataFrame({k: pd.Series(means[k][j], index=grids[k]) for k in fits}).fillna(0.0)
            t_star = frame.sum(axis=1).idxmax()
            for k in fits:
                picks[k].append(grids[k] == t_star)
    q = [sum(float(means[k][j][picks[k][j]].sum()) for k in fits) for j in range(3)]
    q_a, q_ab, q_b = q
    detail_rows, per_series = [], []
    for k in fits:
        (pa, how_a), (pab, how_ab), (pb, how_b) = evald[k]
        sel_ab, sel_b = picks[k][1], picks[k][2]
        ab = {c: v[sel_ab] for c, v in pab.items()}
        b = {c: v[sel_b] for c, v in pb.items()}
        if how_ab == how_b == "multiply":
            contrib = lmdi(ab, b)
        elif how_ab == how_b == "add" and sel_ab.sum() == sel_b.sum():
            contrib = differences(ab, b)
        else:  # a multiplicative and an additive model: compare the means as one block
            contrib = lmdi({"model change": combine_parts(ab, how_ab)}, {"model change": combine_parts(b, how_b)})
        for c, v in contrib.items():
            detail_rows.append(dict(series="/".join(map(str, k)), component=c,
                                    part=group_of(c, settings) if c != UNALLOCATED else "new data", contribution=v))
        ma = float(means[k][0][picks[k][0]].sum())
        mab = float(means[k][1][sel_ab].sum())
        mb = float(means[k][2][sel_b].sum())
        per_series.append(dict(series="/".join(map(str, k)), value_a=ma, value_b=mb, change=ma - mb,
                               outlier_exclusions=ma - mab, model_a=fits[k][0].model, model_b=fits[k][2].model))
    detail = pd.DataFrame(detail_rows, columns=["series", "component", "part", "contribution"])
    parts = {p: 0.0 for p in PARTS}
    for p, v in detail.groupby("part")["contribution"].sum().items():
        parts[p] += float(v)
    parts["outlier exclusions"] = q_a - q_ab
    value_a, value_b = q_a, q_b
    if published is not None and all(v is not None and np.isfinite(v) for v in published):
        value_a, value_b = add_published(parts, q_a - q_b, published, base, notes)
    out = Explanation(label, quantity, (start, end), value_a, value_b, parts, detail,
                      pd.DataFrame(per_series), notes, run_a, run_b, ev_name)
    out.check()
    return out


def add_published(parts: dict, refit_change: float, published: tuple, base: tuple | None, notes: list) -> tuple:
    """Add the reconciliation and config-or-code parts so the parts sum to the published change; returns the
    published (value_a, value_b)."""
    pub_change = float(published[0]) - float(published[1])
    if base is not None and all(v is not None and np.isfinite(v) for v in base):
        base_change = float(base[0]) - float(base[1])
        parts[RECONCILIATION] = pub_change - base_change
    else:
        base_change = pub_change
    parts[PUBLISHED] = base_change - refit_change
    scale = max(abs(float(published[1])), 1e-12)
    if abs(parts[PUBLISHED]) > 0.01 * scale:
        notes.append(f"the refits reproduce the models' published change only to within {parts[PUBLISHED]:+,.1f}: "
                     f"the config, the event calendar or the code changed since a run")
    return float(published[0]), float(published[1])
