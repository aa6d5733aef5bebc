"""Recovery of the sample fleet's ground truth by the default model: slope-break dates and seasonal amplitudes.

Run: python tests/benchmarks/recovery.py [--quick]
Writes tests/benchmarks/results/recovery.md (and prints it). `tests/models/test_recovery.py` runs `recover` on a
small fleet and asserts the bars.

Truth (cloudtune/simulate/truth.py): a break is a UTC midnight where d log(trend) / d day changes; an amplitude is
(max - min) / 2 of a component's log multiplier over its period. The model's summary reports amplitudes in that same
definition (`summary()["seasonal_amplitudes"]["definition"]`).

Scoring:
- breaks: each true break is matched to the nearest unmatched detected break; it is *found* when that is at most
  one day away. `recall` = found / true breaks; a detected break matched to no true break within one day is a
  *false break*. Date errors are reported for every match within 7 days, so a near miss shows as such.
- amplitudes: relative error |estimate / truth - 1| per series; the bar is 10%.
- oracle: how many true breaks least squares places within one day when told the others (`oracle_found`): a
  reference for what the daily level's noise allows, not a strict bound (the detector's robust weights can place
  a break the plain fit misses, as on one hourly series).

Fleets: per-minute, 150 days (breaks, daily and weekly amplitudes), and hourly, 800 days (yearly too: the model
fits a yearly term only with more than a year of history). No events: event effects are scored by the events tests.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cloudtune.simulate import simulate_fleet  # before the engine: importing the engine first is circular
from cloudtune.models.engine import CloudTuneModel  # noqa: E402  (engine -> events -> config -> backtest -> engine)
from cloudtune.models.breaks import _rss, hinge  # noqa: E402
from cloudtune.models.level import NS_PER_DAY  # noqa: E402

KEY = ["service", "region", "metric"]
OUT = Path(__file__).parent / "results" / "recovery.md"
MATCH_DAYS = 7  # a detected break this close to a true one is reported as a (near) match


def match_breaks(true_dates, found_dates) -> tuple[list[float], int, int]:
    """(signed date errors in days for true breaks with a detection within MATCH_DAYS, found within 1 day,
    false breaks). Greedy nearest matching, each detection used once."""
    left = list(found_dates)
    errors, found = [], 0
    for d in sorted(true_dates):
        if not left:
            break
        gaps = [(f - d) / pd.Timedelta("1d") for f in left]
        j = int(np.argmin(np.abs(gaps)))
        if abs(gaps[j]) <= MATCH_DAYS:
            errors.append(gaps[j])
            if abs(gaps[j]) <= 1:
                found += 1
                left.pop(j)
    false = sum(1 for f in found_dates if not any(abs((f - d) / pd.Timedelta("1d")) <= 1 for d in true_dates))
    return errors, found, false


def recover(fleet, settings=None) -> pd.DataFrame:
    """One row per series: true and detected break dates, date errors, found, false, and per seasonality the
    true amplitude, the estimate and the relative error (NaN when the truth has no such component or the model
    does not report it)."""
    seas = fleet.seasonality.set_index(KEY)
    rows = []
    for key, g in fleet.actuals.groupby(KEY, sort=True):
        t = time.perf_counter()
        fitted = CloudTuneModel(settings).fit(g[["ts", "value"]], key="/".join(key))
        sec = time.perf_counter() - t
        summ = fitted.summary().to_dict()
        tb = fleet.breaks[(fleet.breaks[KEY] == pd.Series(key, index=KEY)).all(axis=1)]
        true_dates = [pd.Timestamp(x) for x in tb["ts"]]
        found_dates = [pd.Timestamp(b["date"], tz="UTC") for b in summ["breaks"]]
        errors, found, false = match_breaks(true_dates, found_dates)
        row = dict(series="/".join(key), fit_s=sec, true_breaks=len(true_dates), detected=len(found_dates),
                   found=found, false=false, date_errors=errors, oracle=oracle_found(fitted, true_dates),
                   true_dates=[str(d.date()) for d in true_dates], found_dates=[str(d.date()) for d in found_dates])
        amps = summ["seasonal_amplitudes"]
        for comp in ("daily", "weekly", "yearly"):
            truth = float(seas.loc[key, f"{comp}_amplitude"])
            est = amps.get(comp)
            row[f"{comp}_true"] = truth
            row[f"{comp}_est"] = np.nan if est is None else float(est)
            row[f"{comp}_err"] = np.nan if est is None else abs(float(est) / truth - 1)
        rows.append(row)
    return pd.DataFrame(rows)


def oracle_found(fitted, true_dates) -> int:
    """True breaks that an oracle places within one day: least squares on the break test's own daily level and
    design (`DailyLevel.break_test_`), told every other true break, picks the best knot within MATCH_DAYS of
    each one. Detection must also decide that a break exists, so it usually finds fewer."""
    level = fitted.core_.level_
    test = getattr(level, "break_test_", None)
    if test is None or not true_dates:
        return 0
    t, y, base = test
    truth = [(d.value - level.t0_) / NS_PER_DAY for d in true_dates]
    found = 0
    for i, k in enumerate(truth):
        X = np.column_stack([base, hinge(t, truth[:i] + truth[i + 1:])])
        candidates = np.arange(np.round(k) - MATCH_DAYS, np.round(k) + MATCH_DAYS + 1)
        rss = [_rss(np.column_stack([X, hinge(t, [c])]), y) for c in candidates]  # the detector's least squares
        found += abs(candidates[int(np.argmin(rss))] - k) <= 1
    return int(found)


def score(res: pd.DataFrame) -> dict:
    errs = [abs(e) for es in res["date_errors"] for e in es]
    out = dict(series=len(res), true_breaks=int(res["true_breaks"].sum()), found=int(res["found"].sum()),
               oracle=int(res["oracle"].sum()),
               false_breaks=int(res["false"].sum()), detected=int(res["detected"].sum()),
               date_err_median=float(np.median(errs)) if errs else float("nan"),
               date_err_max=float(np.max(errs)) if errs else float("nan"))
    out["recall"] = out["found"] / out["true_breaks"] if out["true_breaks"] else float("nan")
    for comp in ("daily", "weekly", "yearly"):
        e = res[f"{comp}_err"].dropna()
        if len(e):
            out[comp] = dict(n=len(e), median=float(e.median()), p90=float(e.quantile(0.9)), max=float(e.max()),
                             within_10pct=float((e <= 0.10).mean()))
    return out


def _section(title: str, res: pd.DataFrame, sc: dict) -> list[str]:
    lines = [f"## {title}", "",
             f"Breaks: {sc['true_breaks']} true, {sc['detected']} detected; found within one day: {sc['found']} "
             f"(recall {sc['recall']:.0%}; an oracle told the true breaks places {sc['oracle']}); false breaks: "
             f"{sc['false_breaks']}; |date error| of matches within "
             f"{MATCH_DAYS} days: median {sc['date_err_median']:.1f}, max {sc['date_err_max']:.1f} days.", "",
             "| amplitude (half-range of log multiplier) | series | median rel. error | p90 | max | within 10% |",
             "|---|---|---|---|---|---|"]
    for comp in ("daily", "weekly", "yearly"):
        if comp in sc:
            c = sc[comp]
            lines.append(f"| {comp} | {c['n']} | {c['median']:.1%} | {c['p90']:.1%} | {c['max']:.1%} | "
                         f"{c['within_10pct']:.0%} |")
    lines += ["", "| series | true breaks | detected | date errors (days) | daily true/est | weekly true/est | "
              "yearly true/est | fit s |", "|---|---|---|---|---|---|---|---|"]
    for r in res.itertuples():
        yearly = f"{r.yearly_true:.3f} / {r.yearly_est:.3f}" if np.isfinite(r.yearly_est) else "-"
        lines.append(f"| {r.series} | {', '.join(r.true_dates) or '-'} | {', '.join(r.found_dates) or '-'} | "
                     f"{', '.join(f'{e:+.0f}' for e in r.date_errors) or '-'} | "
                     f"{r.daily_true:.3f} / {r.daily_est:.3f} | {r.weekly_true:.3f} / {r.weekly_est:.3f} | "
                     f"{yearly} | {r.fit_s:.2f} |")
    return lines + [""]


PLANS = {
    "minute": dict(days=150, grain="1min", seeds=(7, 11)),
    "hourly": dict(days=800, grain="1h", seeds=(7, 11)),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one seed and two services per fleet")
    args = ap.parse_args(argv)
    lines = ["# Recovery of the sample fleet's truth (default model)", "",
             "Written by `python tests/benchmarks/recovery.py`; scoring rules in its docstring. Amplitudes are "
             "(max - min) / 2 of the log multiplier, the simulator's definition.", ""]
    for name, plan in PLANS.items():
        frames = []
        for seed in plan["seeds"][:1] if args.quick else plan["seeds"]:
            fleet = simulate_fleet(days=plan["days"], grain=plan["grain"], seed=seed,
                                   services=["home", "cart"] if args.quick else None)
            frames.append(recover(fleet).assign(series=lambda d, s=seed: d["series"] + f" (seed {s})"))
        res = pd.concat(frames, ignore_index=True)
        title = f"{plan['grain']} history, {plan['days']} days, seeds {', '.join(map(str, plan['seeds']))}"
        lines += _section(title, res, score(res))
    text = "\n".join(lines)
    sys.stdout.write(text)
    if not args.quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
