"""Accuracy and calibration of the default model on rolling-origin backtests: the real series in shared/data and
the sample fleet. Per dataset: MASE (in-sample seasonal-naive scaled), the same for seasonal naive on the same
windows, their ratio, sMAPE, and P90 / P99 coverage (share of actuals at or below the quantile).

Run: python tests/benchmarks/recovery_accuracy.py [names...]   -> tests/benchmarks/results/accuracy.md
The plans are those of tests/test_accuracy_real.py (which asserts the bars); the fleet plan is FLEET_PLAN.
Bars (issue 3): ratio < 1 on every dataset and >= 15% better than seasonal naive on average; P90 coverage in
[0.85, 0.95] and P99 >= 0.97.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from cloudtune import realdata
from cloudtune.backtest import backtest, summarize
from cloudtune.simulate import simulate_fleet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_accuracy_real import PLANS  # noqa: E402

OUT = Path(__file__).parent / "results" / "accuracy.md"
FLEET_PLAN = dict(horizon="1d", n_origins=3, every="1d", min_train="14d")


def fleet_actuals() -> pd.DataFrame:
    """The default sample fleet (36 series), 28 days of minutes, seed 7, no events."""
    return simulate_fleet(days=28, seed=7).actuals


def run(names=None) -> pd.DataFrame:
    names = names or [*PLANS, "fleet"]
    rows = []
    for name in names:
        t = time.perf_counter()
        if name == "fleet":
            res = backtest(fleet_actuals(), **FLEET_PLAN)
        else:
            res = backtest(realdata.DATASETS[name](), **PLANS[name])
        s = summarize(res)
        rows.append(dict(dataset=name, windows=s["windows"], mase=s["mase"], naive_mase=s["naive_mase"],
                         ratio=s["mase"] / s["naive_mase"], smape=s["smape"], cov90=s["cov90"], cov99=s["cov99"],
                         seconds=time.perf_counter() - t))
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or None
    df = run(names)
    real = df[df.dataset != "fleet"]
    lines = ["# Rolling-origin accuracy and calibration (default model)", "",
             "Written by `python tests/benchmarks/recovery_accuracy.py`. ratio = MASE / seasonal naive's MASE on the "
             "same windows; coverage = share of actuals at or below the quantile.", "",
             "| dataset | windows | MASE | naive MASE | ratio | sMAPE % | P90 cov | P99 cov |", "|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        lines.append(f"| {r.dataset} | {r.windows} | {r.mase:.3f} | {r.naive_mase:.3f} | {r.ratio:.3f} | {r.smape:.1f} | "
                     f"{r.cov90:.3f} | {r.cov99:.3f} |")
    if len(real):
        lines += ["", f"Real datasets: mean ratio {real.ratio.mean():.3f} ({100 * (1 - real.ratio.mean()):.1f}% better "
                  f"than seasonal naive); P90 coverage {real.cov90.min():.3f}..{real.cov90.max():.3f}; "
                  f"P99 coverage {real.cov99.min():.3f}..{real.cov99.max():.3f}."]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if names is None:
        OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
