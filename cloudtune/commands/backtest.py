"""`cloudtune backtest`: rolling-origin backtests of the configured models on Spark -> accuracy tables.

Settings come from the config's `backtest:` section when it has one, else the defaults of
`cloudtune.backtest.BacktestSettings`; each flag given here overrides one setting.
"""
from __future__ import annotations

import dataclasses


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "backtest", parents=[common],
        help="rolling-origin backtests of each model (and seasonal naive) per series, region and global total; "
             "writes the accuracy and champion_decisions tables")
    p.add_argument("--run-date", default=None,
                   help="run date YYYY-MM-DD (default: today, UTC); only actuals before it are used; a rerun replaces it")
    p.add_argument("--cutoffs", type=int, default=None, help="number of origins (default 3)")
    p.add_argument("--cutoff-date", action="append", default=None, dest="cutoff_dates",
                   help="an explicit origin, e.g. 2025-12-01 (repeatable; replaces --cutoffs)")
    p.add_argument("--horizon", default=None, help="how far each fold forecasts, e.g. 1d or 7d (default 1d)")
    p.add_argument("--step", default=None, help="spacing between origins (default 1d)")
    p.add_argument("--min-train", default=None, help="history an origin needs before it (default 7d)")
    p.add_argument("--history-days", type=int, default=None, help="history each fold fits on (default 120)")
    p.add_argument("--buckets", default=None, help="horizon bucket edges, comma separated, e.g. 1d,3d (default 1d)")
    p.add_argument("--models", default=None,
                   help="models, comma separated, from cloudtune, seasonal_naive, ets, naive "
                        "(default cloudtune,seasonal_naive,ets)")
    p.add_argument("--levels", default=None, help="series[,region][,global] (default all three)")
    p.add_argument("--champion-metric", default=None, help="metric the champion is picked on (default mase)")
    p.add_argument("--min-improvement", type=float, default=None, dest="min_improvement_pct",
                   help="percent a challenger must gain to replace the champion (default 2)")
    p.set_defaults(handler=_cmd_backtest)


def backtest_settings(args, config):
    """The config's backtest section (or the defaults) with the flags given applied; errors name the flag."""
    from cloudtune.backtest.settings import BacktestSettings
    from cloudtune.config.strict import from_dict

    base = getattr(config, "backtest", None)
    data = dataclasses.asdict(base if isinstance(base, BacktestSettings) else BacktestSettings())
    flags = dict(cutoffs=args.cutoffs, cutoff_dates=args.cutoff_dates, horizon=args.horizon, step=args.step,
                 min_train=args.min_train, history_days=args.history_days, horizon_buckets=_split(args.buckets),
                 models=_split(args.models), levels=_split(args.levels), champion_metric=args.champion_metric,
                 min_improvement_pct=args.min_improvement_pct)
    data.update({k: v for k, v in flags.items() if v is not None})
    return from_dict(BacktestSettings, data, source="cloudtune backtest flags", where="backtest")


def _split(text):
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _cmd_backtest(args, config) -> int:
    from datetime import date

    from cloudtune.errors import CloudTuneError

    settings = backtest_settings(args, config)  # fail in a second, before Spark starts
    try:
        day = date.fromisoformat(args.run_date) if args.run_date else None
    except ValueError:
        raise CloudTuneError(f"--run-date must be YYYY-MM-DD, got {args.run_date!r}") from None
    from cloudtune.spark.backtest_job import run_backtest
    from cloudtune.spark.session import get_spark
    from cloudtune.spark.tables import create_tables

    spark = get_spark(config, args.warehouse)
    create_tables(spark, config.database)
    result = run_backtest(spark, config, settings, day)
    print(report_text(result, config.database))
    return 0


def report_text(result: dict, database: str) -> str:
    """Level-scope MASE per model beside seasonal naive's, and the champion decisions."""
    lv = result["levels"]
    lv = lv[lv["horizon_bucket"] == "all"].set_index(["level", "model"])
    lines = [f"backtest run {result['run_id']} ({result['run_date']}): {result['series']} series",
             "level    model            MASE    naive   ratio  sMAPE%  wQL     P90cov  P90under"]
    for (level, model), r in lv.sort_index().iterrows():
        naive = lv["mase"].get((level, "seasonal_naive"), float("nan"))
        lines.append(f"{level:<8} {model:<16} {r['mase']:.3f}  {naive:.3f}  {r['mase'] / naive:.3f}  "
                     f"{r['smape']:6.2f}  {r['wql']:.4f}  {r['coverage_p90']:.3f}   {r['under_forecast_rate_p90']:.3f}")
    for d in result["champions"].itertuples():
        lines.append(f"team {d.team}: winner {d.winner} - {d.reason}")
    lines.append(f"rows in {database}.accuracy and {database}.champion_decisions (run_date {result['run_date']})")
    return "\n".join(lines)
