"""Speed and accuracy benchmark: CloudTune vs Prophet, statsforecast MSTL and seasonal naive.

Run: python -m tests.benchmarks.bench_speed [--mstl] [--no-prophet] [--series N] [--out PATH]
(peers need `pip install -e '.[bench]'`). Writes a Markdown table to stdout and to --out
(tests/benchmarks/results/bench_speed.md by default). A peer that is not run this time (Prophet with --no-prophet,
MSTL without --mstl) keeps its rows from the previous file, marked "(earlier run)", so a CloudTune-only rerun
takes seconds and the table still compares against the peers' last measured figures.

1. Fit + 90-day per-minute forecast from 90 days of minute history (synthetic, one core): median seconds, peak MB.
2. Fit + 1-day forecast from 14 days of minutes on sample-fleet series, and on the Twitter minute series (first 9
   days -> the 10th; github.com/twitter/AnomalyDetection, GPL-3): seconds per series (median), peak MB, MASE
   (in-sample seasonal-naive scaled). MSTL (1440, 10080) takes minutes, so it runs on one series only (--mstl).
   Seconds are medians over repeated runs (REPEAT: fleet series run Prophet once each, the Twitter series three
   times) because the machine is shared; the Prophet ratio compares medians from the same run.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cloudtune import realdata  # noqa: E402
from cloudtune.backtest.metrics import mase, naive_scale, season_steps  # noqa: E402
from cloudtune.models.engine import CloudTuneModel  # noqa: E402
from cloudtune.models.naive import SeasonalNaiveModel  # noqa: E402

OUT = Path(__file__).parent / "results" / "bench_speed.md"
CHEAP = {"cloudtune", "seasonal_naive"}
REPEAT = {"cloudtune": 7, "seasonal_naive": 7, "prophet": 3}  # timed runs per series (median); MSTL runs once


def measure(fn, repeat: int = 1):
    """(result, median seconds of `repeat` untraced runs, peak MB of Python/numpy allocations in a traced run).
    The machine is shared, so cheap models are timed several times and the median is kept."""
    secs = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        secs.append(time.perf_counter() - t)
    sec = float(np.median(secs))
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, sec, peak


def synth(days, seed=0):
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2025-01-06", periods=days * 1440, freq="min", tz="UTC")
    t = np.arange(len(ts)) / 1440
    y = 100 * np.exp(0.002 * t + 0.3 * np.sin(2 * np.pi * t) - 0.2 * (ts.dayofweek >= 5) + rng.normal(0, .1, len(ts)))
    return pd.Series(y, index=ts)


def cloudtune_fn(train, h):
    return lambda: CloudTuneModel().fit(train).forecast(h, quantiles=(0.5, 0.9, 0.99))["mean"].to_numpy()


def naive_fn(train, h):
    return lambda: SeasonalNaiveModel().fit(train).forecast(h, quantiles=(0.5,))["mean"].to_numpy()


def prophet_fn(train, h):
    def run():
        from prophet import Prophet
        df = pd.DataFrame({"ds": train.index.tz_localize(None), "y": train.to_numpy()})
        m = Prophet(daily_seasonality=True, weekly_seasonality=True, yearly_seasonality=False)
        m.fit(df)
        fut = pd.DataFrame({"ds": pd.date_range(df.ds.iloc[-1] + pd.Timedelta("1min"), periods=h, freq="min")})
        return m.predict(fut)["yhat"].to_numpy()
    return run


def mstl_fn(train, h):
    def run():
        from statsforecast import StatsForecast
        from statsforecast.models import MSTL
        df = pd.DataFrame({"unique_id": "s", "ds": train.index.tz_localize(None), "y": train.to_numpy()})
        sf = StatsForecast(models=[MSTL(season_length=[1440, 10080])], freq="min", n_jobs=1)
        return sf.forecast(df=df, h=h)["MSTL"].to_numpy()
    return run


def series_cases(n_fleet: int):
    cases = []
    try:
        from cloudtune.simulate import simulate_fleet
        fleet = simulate_fleet(days=15, seed=7, n_services=None)
        for key, g in list(fleet.actuals.groupby(["service", "region", "metric"]))[:n_fleet]:
            y = pd.Series(g["value"].to_numpy(), index=pd.DatetimeIndex(g["ts"])).asfreq("min")
            y = y.interpolate(limit_direction="both")
            cut = y.index[-1] + pd.Timedelta("1min") - pd.Timedelta("1d")
            cases.append(("fleet", "/".join(key), y[y.index < cut], y[y.index >= cut]))
    except Exception as exc:  # the simulator is another module; the benchmark still runs without it
        logging.warning("sample fleet unavailable: %s", exc)
    tw = realdata.twitter()
    y = pd.Series(tw["value"].to_numpy(), index=pd.DatetimeIndex(tw["ts"]))
    cut = y.index[0] + pd.Timedelta("9d")
    cases.append(("twitter", "twitter", y[y.index < cut], y[(y.index >= cut) & (y.index < cut + pd.Timedelta("1d"))]))
    return cases


def earlier_rows(path: Path, models) -> dict:
    """{(source, model): [(seconds, peak MB, MASE)]} of `models` from a previous results file, one entry per
    series (the file keeps a median and a mean, so that value is repeated `series` times)."""
    out = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or cells[0] not in ("fleet", "twitter"):
            continue
        name = cells[1].replace(" (earlier run)", "")
        if name in models:
            try:
                out[(cells[0], name)] = [(float(cells[3]), float(cells[5]), float(cells[6]))] * int(cells[2])
            except ValueError:
                continue
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mstl", action="store_true", help="also run statsforecast MSTL on the Twitter series (minutes)")
    ap.add_argument("--no-prophet", action="store_true")
    ap.add_argument("--series", type=int, default=6, help="sample-fleet series to run")
    ap.add_argument("--out", type=Path, default=OUT, help="results file (also read for the peers not run)")
    args = ap.parse_args(argv)
    skipped = ({"prophet"} if args.no_prophet else set()) | (set() if args.mstl else {"mstl"})
    carried = earlier_rows(args.out, skipped)
    logging.getLogger("prophet").setLevel(logging.ERROR)
    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    lines = ["# CloudTune speed benchmark (one core)", ""]
    y90 = synth(90)
    secs, peaks = [], []
    for _ in range(5):
        _, s, p = measure(cloudtune_fn(y90, 90 * 1440))
        secs.append(s)
        peaks.append(p)
    lines += ["## Fit + 90-day per-minute forecast from 90 days of minutes", "",
              "| model | median s | peak MB (tracemalloc) |", "|---|---|---|",
              f"| cloudtune | {np.median(secs):.3f} | {max(peaks):.0f} |", ""]
    models = {"cloudtune": cloudtune_fn, "seasonal_naive": naive_fn}
    if not args.no_prophet:
        models["prophet"] = prophet_fn
    rows = {}
    for source, key, train, test in series_cases(args.series):
        h = len(test)
        scale = naive_scale(train.to_numpy(), season_steps(pd.Timedelta("1min"), len(train)))
        todo = dict(models)
        if args.mstl and source == "twitter":
            todo["mstl"] = mstl_fn
        for name, fn in todo.items():
            reps = REPEAT.get(name, 1) if source == "twitter" or name in CHEAP else 1
            pred, s, p = measure(fn(train, h), reps)
            rows.setdefault((source, name), []).append((s, p, mase(test.to_numpy(), pred[:h], scale)))
    rows.update({k: v for k, v in carried.items() if k not in rows})
    lines += ["## Fit + 1-day forecast from 14 days of minutes (Twitter: 9 days -> the 10th)", "",
              "| data | model | series | median s/series | Prophet s / this | peak MB | MASE (mean) |",
              "|---|---|---|---|---|---|---|"]
    for (source, name), vals in sorted(rows.items()):
        v = np.array(vals)
        med = np.median(v[:, 0])
        prophet = rows.get((source, "prophet"))
        r = np.median(np.array(prophet)[:, 0]) / med if prophet else None
        ratio = "-" if r is None else (f"{r:.0f}x" if r >= 1 else f"{r:.3f}x")
        label = f"{name} (earlier run)" if (source, name) in carried else name
        lines.append(f"| {source} | {label} | {len(v)} | {med:.3f} | {ratio} | {v[:, 1].max():.0f} | "
                     f"{v[:, 2].mean():.3f} |")
    lines += ["", f"_Load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine); seconds are "
              f"medians of repeated runs (REPEAT: {REPEAT}; fleet Prophet and MSTL once), and the Prophet column "
              "compares medians from this run._"]
    if carried:
        lines += ["", f"_Rows marked (earlier run): {', '.join(sorted(skipped))} not rerun this time; figures copied "
                  f"from the previous results file, so their seconds (and the Prophet column, where Prophet was "
                  "not rerun) come from another run and another machine load._"]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
