"""Real data: do holidays and festivals given as events lower event-day error? (issue 4)

Run: python -m tests.benchmarks.events_real [--prophet] [--sensors N]
Writes Markdown to stdout and tests/benchmarks/results/events_real.md.

For each 2016 (pedestrian) or 2012 (bike) occurrence of an event whose earlier occurrence is in the history,
fit on the history up to the local midnight before the event, forecast through its end, and score the hours of
the event window: MAE of the default engine with the events vs the same engine without them, and Prophet
(daily + weekly + yearly seasonality, the same events as its `holidays`, lower/upper window covering the
event's days) in the same run when installed.

Data: City of Melbourne pedestrian counts via tsibble (GPL-3); UCI Bike Sharing, Fanaee-T & Gama (2013),
doi:10.1007/s13748-013-0040-3. Pedestrian event dates are the public holidays and festivals of Melbourne
in 2015-2016 (Victorian public-holiday calendar, Moomba, White Night, AFL Grand Final Friday, Melbourne Cup,
pre-Christmas shopping, New Year's Eve), given in local time and converted to UTC.
"""
from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cloudtune import realdata
from cloudtune.events import normalize_events
from cloudtune.models.engine import CloudTuneModel
from tests.benchmarks.markdown import md_table

OUT = Path(__file__).parent / "results" / "events_real.md"
MEL = "Australia/Melbourne"

# name: [(local start, local end) for 2015, for 2016]
MELBOURNE = {
    "australia_day": [("2015-01-26", "2015-01-27"), ("2016-01-26", "2016-01-27")],
    "white_night": [("2015-02-21 18:00", "2015-02-22 07:00"), ("2016-02-20 18:00", "2016-02-21 07:00")],
    "moomba_labour_day": [("2015-03-07", "2015-03-10"), ("2016-03-12", "2016-03-15")],
    "good_friday": [("2015-04-03", "2015-04-04"), ("2016-03-25", "2016-03-26")],
    "easter_monday": [("2015-04-06", "2015-04-07"), ("2016-03-28", "2016-03-29")],
    "anzac_day": [("2015-04-25", "2015-04-26"), ("2016-04-25", "2016-04-26")],
    "queens_birthday": [("2015-06-08", "2015-06-09"), ("2016-06-13", "2016-06-14")],
    "grand_final_friday": [("2015-10-02", "2015-10-03"), ("2016-09-30", "2016-10-01")],
    "melbourne_cup": [("2015-11-03", "2015-11-04"), ("2016-11-01", "2016-11-02")],
    "pre_christmas": [("2015-12-19", "2015-12-25"), ("2016-12-17", "2016-12-25")],
    "christmas_day": [("2015-12-25", "2015-12-26"), ("2016-12-25", "2016-12-26")],
    "boxing_day": [("2015-12-26", "2015-12-27"), ("2016-12-26", "2016-12-27")],
    "new_years_eve": [("2015-12-31 12:00", "2016-01-01 03:00"), ("2016-12-31 12:00", "2017-01-01 03:00")],
}


def melbourne_events() -> pd.DataFrame:
    rows = []
    for name, occs in MELBOURNE.items():
        for s, e in occs:
            rows.append(dict(name=name, region="melbourne", kind="festival",
                             start=pd.Timestamp(s).tz_localize(MEL).tz_convert("UTC"),
                             end=pd.Timestamp(e).tz_localize(MEL).tz_convert("UTC")))
    return normalize_events(pd.DataFrame(rows))


def bike_events() -> pd.DataFrame:
    """The UCI holiday flags, named per holiday so 2012's Thanksgiving learns from 2011's."""
    ev = realdata.bike_holidays()
    m, d = ev["start"].dt.month, ev["start"].dt.day
    names = {1: "new_year", 2: "presidents_day", 4: "emancipation_day", 5: "memorial_day", 7: "independence_day",
             9: "labor_day", 10: "columbus_day", 12: "christmas"}
    name = m.map(names).astype(object)
    name[(m == 1) & (d > 2)] = "mlk_day"
    name[(m == 11) & (d <= 12)] = "veterans_day"
    name[(m == 11) & (d > 12)] = "thanksgiving"
    return normalize_events(ev.assign(name=name.to_numpy()))


def _prophet_forecast(hist: pd.DataFrame, ts: pd.DatetimeIndex, events: pd.DataFrame, tz_shift) -> np.ndarray:
    from prophet import Prophet
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    days = []
    for r in events.itertuples():  # Prophet holidays are whole local days
        first = (r.start + tz_shift).floor("D")
        n = int(np.ceil(((r.end + tz_shift) - first) / pd.Timedelta("1D")))
        days.append(dict(holiday=r.name, ds=first.tz_localize(None), lower_window=0, upper_window=max(n - 1, 0)))
    m = Prophet(daily_seasonality=True, weekly_seasonality=True, yearly_seasonality=True,
                holidays=pd.DataFrame(days) if days else None)
    df = pd.DataFrame(dict(ds=(hist["ts"] + tz_shift).dt.tz_localize(None), y=hist["value"]))
    m.fit(df)
    fc = m.predict(pd.DataFrame(dict(ds=(ts + tz_shift).tz_localize(None))))
    return np.maximum(fc["yhat"].to_numpy(), 0.0)


def run(actuals: pd.DataFrame, events: pd.DataFrame, test_year: int, tz_shift: pd.Timedelta, prophet: bool,
        dataset: str) -> pd.DataFrame:
    rows = []
    for service, g in actuals.groupby("service"):
        g = g.sort_values("ts").reset_index(drop=True)
        for r in events[events["start"].dt.year == test_year].itertuples():
            origin = (r.start + tz_shift).floor("D") - tz_shift  # local midnight before the event
            if not (events[(events["name"] == r.name) & (events["end"] <= origin)]).shape[0]:
                continue
            hist = g[g["ts"] < origin]
            win = g[(g["ts"] >= r.start) & (g["ts"] < r.end)]
            if len(win) < 0.5 * (r.end - r.start) / pd.Timedelta("1h") or len(hist) < 24 * 60:
                continue
            horizon = r.end - origin
            out = dict(dataset=dataset, series=service, event=r.name, start=r.start, hours=len(win))
            ts = pd.DatetimeIndex(win["ts"])
            for label, ev in (("with", events), ("without", None)):
                fit = CloudTuneModel().fit(hist[["ts", "value"]], events=ev, key=service)
                fc = fit.forecast(horizon, events=ev).set_index("ts")["mean"].reindex(ts).to_numpy()
                out[f"mae_{label}"] = float(np.mean(np.abs(fc - win["value"].to_numpy())))
            if prophet:
                out["mae_prophet"] = float(np.mean(np.abs(_prophet_forecast(hist, ts, events[events["start"] < r.end],
                                                                           tz_shift) - win["value"].to_numpy())))
            out["mean_actual"] = float(win["value"].mean())
            rows.append(out)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prophet", action="store_true")
    ap.add_argument("--sensors", type=int, default=4)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t = time.perf_counter()
    ped = realdata.pedestrian()
    keep = sorted(ped["service"].unique())[: args.sensors]
    res = [run(ped[ped["service"].isin(keep)], melbourne_events(), 2016, pd.Timedelta("11h"), args.prophet,
               "pedestrian"),
           run(realdata.bike(), bike_events(), 2012, pd.Timedelta(0), args.prophet, "bike")]
    res = pd.concat(res, ignore_index=True)
    parts = ["# Events on real data: event-window error with vs without the events\n"]
    for ds, g in res.groupby("dataset"):
        line = (f"- {ds}: {len(g)} event forecasts; MAE with events {g['mae_with'].mean():.1f}, without "
                f"{g['mae_without'].mean():.1f}: {1 - g['mae_with'].mean() / g['mae_without'].mean():.1%} lower")
        if "mae_prophet" in g:
            line += f"; Prophet with the same events {g['mae_prophet'].mean():.1f}"
        parts.append(line)
    parts.append("\n(Melbourne local time is taken as UTC+11 for the origin midnight and Prophet's day labels.)\n")
    parts.append(md_table(res.drop(columns=["start"]), 1))
    parts.append(f"\n_Run time {time.perf_counter() - t:.0f} s._\n")
    text = "\n".join(parts)
    OUT.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
