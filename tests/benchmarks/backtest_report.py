"""Rolling-origin backtests with the full metric set on the sample fleet and the real series in shared/data,
through `cloudtune.backtest.backtest_fleet` (the function the Spark job maps over its groups).

Run: python tests/benchmarks/backtest_report.py [names...]   -> tests/benchmarks/results/backtest.md
     python tests/benchmarks/backtest_report.py --spark [names...]  also runs the Spark adapter (local[2]) on a
     handful of real series (SPARK_SET): seconds, series per second, and the largest MASE difference from pandas

Models: the default (cloudtune), ETS and seasonal naive; figures are level-scope rows pooled over every series and
origin (see cloudtune/backtest/summary.py). Real-data plans follow tests/test_accuracy_real.py (horizon, origins,
spacing, minimum history), with the whole history available to each fold as there. Sources of the real data: each
folder's SOURCE.md, loaders in cloudtune.realdata.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from cloudtune import realdata
from cloudtune.backtest import BacktestSettings, backtest_fleet
from cloudtune.simulate import simulate_fleet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import md_table  # noqa: E402

OUT = Path(__file__).parent / "results" / "backtest.md"
MODELS = ["cloudtune", "ets", "seasonal_naive"]
SPARK_SET = ["twitter", "bike", "electricity"]


def _plan(horizon, cutoffs, step, min_train="7d", levels=("series",), buckets=("1d",)):
    return BacktestSettings(cutoffs=cutoffs, horizon=horizon, step=step, min_train=min_train, history_days=800,
                            horizon_buckets=list(buckets), models=MODELS, levels=list(levels))


# Pedestrian sensors add up to a city total; NAB's metrics are unrelated kinds (CPU %, bytes), so no total.
PLANS = {
    "fleet": _plan("1d", 3, "1d", "14d", levels=("series", "region", "global"), buckets=("6h",)),
    "twitter": _plan("1d", 3, "1d", "6d", buckets=("6h",)),
    "nab": _plan("1d", 3, "1d", buckets=("6h",)),
    "pedestrian": _plan("7d", 6, "28d", "28d", levels=("series", "region")),
    "bike": _plan("7d", 8, "28d", "28d"),
    "electricity": _plan("1d", 28, "1d", "28d", buckets=("6h",)),
}


def load(name: str):
    """(actuals, events) for a dataset."""
    if name == "fleet":  # the default sample fleet: 36 series, 28 days of minutes, seed 7 (as accuracy.md)
        return simulate_fleet(days=28, seed=7).actuals, None
    if name == "bike":
        return realdata.bike(), realdata.bike_holidays()  # holidays: per-event peak errors and the model's events
    return realdata.DATASETS[name](), None


def run(names) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, decisions = [], []
    for name in names:
        actuals, events = load(name)
        t = time.perf_counter()
        r = backtest_fleet(actuals, PLANS[name], events=events)
        seconds = time.perf_counter() - t
        lv = r.accuracy[(r.accuracy.scope == "level") & (r.accuracy.horizon_bucket == "all")].set_index(
            ["level", "model"])
        for level in lv.index.get_level_values(0).unique():
            m = lv.loc[level]
            c = m.loc["cloudtune"]
            rows.append(dict(dataset=name, level=level, nodes=int(c.nodes), windows=int(c.windows),
                             mase_cloudtune=c.mase, mase_ets=m.loc["ets", "mase"],
                             mase_naive=m.loc["seasonal_naive", "mase"], ratio=c.mase / m.loc["seasonal_naive", "mase"],
                             smape=c.smape, mape=c.mape, wql=c.wql, wql_naive=m.loc["seasonal_naive", "wql"],
                             cov90=c.coverage_p90, cov99=c.coverage_p99, under90=c.under_forecast_rate_p90,
                             peak_day_err_pct=c.peak_day_magnitude_error_pct,
                             peak_day_min=c.peak_day_timing_error_min, seconds=seconds))
        for d in r.champions.itertuples():
            decisions.append(dict(dataset=name, team=d.team, winner=d.winner, reason=d.reason))
        print(rows[-1], flush=True)
    return pd.DataFrame(rows), pd.DataFrame(decisions)


def spark_timing(names) -> pd.DataFrame:
    """The same backtests through the Spark adapter on local[2]: seconds, and the largest difference from pandas."""
    import dataclasses
    import tempfile

    from cloudtune.config import load_config
    from cloudtune.spark.backtest_job import run_backtest
    from cloudtune.spark.session import get_spark
    from cloudtune.spark.tables import create_tables, qualified

    repo = Path(__file__).resolve().parents[2]
    config = load_config(repo / "conf" / "pipeline.yaml")
    config = dataclasses.replace(config, database="backtest_bench", spark=dataclasses.replace(
        config.spark, master="local[2]", conf={"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false"}))
    spark = get_spark(config, tempfile.mkdtemp(prefix="backtest-bench-"))
    out = []
    for name in names:
        actuals, events = load(name)
        spark.sql(f"DROP DATABASE IF EXISTS {config.database} CASCADE")
        create_tables(spark, config.database)
        frame = actuals.assign(date=actuals.ts.dt.date, source_file=name, ingest_run_id="bench",
                               ingested_at=pd.Timestamp.now(tz="UTC"))
        spark.createDataFrame(frame).write.format("delta").mode("append").saveAsTable(
            qualified(config.database, "actuals"))
        run_date = (actuals.ts.max() + pd.Timedelta("1d")).date()
        ev = [] if events is None else events.assign(start=events.start.astype(str), end=events.end.astype(str)) \
            .to_dict("records")
        t = time.perf_counter()
        res = run_backtest(spark, config, PLANS[name], run_date, events=ev)
        seconds = time.perf_counter() - t
        local = backtest_fleet(actuals, PLANS[name], events=events)
        keys = ["level", "model", "horizon_bucket"]
        lv = local.accuracy[local.accuracy.scope == "level"]
        both = res["levels"].merge(lv, on=keys, suffixes=("_spark", "_pandas"))
        diff = float((both.mase_spark - both.mase_pandas).abs().max())
        out.append(dict(dataset=name, series=res["series"], seconds=seconds,
                        series_per_second=res["series"] / seconds, max_mase_difference=diff))
        print(out[-1], flush=True)
    return pd.DataFrame(out)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    use_spark = "--spark" in argv
    names = [a for a in argv if a != "--spark"] or list(PLANS)
    df, decisions = run(names)
    lines = ["# Rolling-origin backtests: default model vs ETS vs seasonal naive", "",
             "Written by `python tests/benchmarks/backtest_report.py` through `cloudtune.backtest.backtest_fleet`, "
             "the function `cloudtune backtest` maps over Spark groups. Level rows pool every series (or total) and "
             "origin. ratio = default model's MASE / seasonal naive's (MASE scaled by the in-sample seasonal-naive "
             "MAE). Coverage = share of actuals at or below the quantile; under90 = share above P90 (capacity risk); "
             "peak errors are per day since the origin (magnitude %, timing minutes). seconds = pandas path, one "
             "core, three models, on a shared 2-core machine.", "",
             md_table(df, 3), ""]
    real = df[(df.dataset != "fleet") & (df.level == "series")]
    if len(real):
        lines.append(f"Real datasets (series level): the default model's MASE is {real.ratio.min():.3f}.."
                     f"{real.ratio.max():.3f} of seasonal naive's (mean ratio {real.ratio.mean():.3f}); it beats "
                     f"seasonal naive on {int((real.ratio < 1).sum())} of {len(real)} datasets.")
        lines.append("")
    if len(decisions):
        lines += ["## Champion / challenger (per team = per service here)", "", md_table(decisions), ""]
    if use_spark:
        lines += ["## Spark adapter (local[2]) on a handful of real series", "",
                  "`cloudtune.spark.backtest_job.run_backtest` on a Delta actuals table, same settings; seconds "
                  "include Spark's scheduling on the shared machine (the session start is not counted).", "",
                  md_table(spark_timing(SPARK_SET), 4), ""]
    text = "\n".join(lines)
    sys.stdout.write(text)
    if set(names) == set(PLANS):
        OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
