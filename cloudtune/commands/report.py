"""`cloudtune report`: one self-contained HTML page for a forecast run (opens offline in any browser)."""
from __future__ import annotations


def register(subparsers, common) -> None:
    p = subparsers.add_parser("report", parents=[common],
                              help="write the HTML report of a run: forecasts vs actuals, components, peaks, "
                                   "accuracy, outliers, reconciliation and the change since the previous run")
    p.add_argument("--run", required=True, help="run id (see forecast_runs)")
    p.add_argument("--series", action="append", default=[],
                   help="service/region/metric to plot (repeatable; default: the two busiest series)")
    p.add_argument("--region", action="append", default=[], help="region total to plot (repeatable)")
    p.add_argument("--days-before", type=int, default=7, help="days of actuals before the run date (default 7)")
    p.add_argument("--days-after", type=int, default=7, help="days of forecast after the run date (default 7)")
    p.add_argument("--quantity", choices=("total_4w", "event_peak"), default="total_4w",
                   help="what the change explanation explains (default total_4w)")
    p.add_argument("--no-explain", action="store_true", help="skip the change explanation (it re-fits the series)")
    p.add_argument("--out", default=None, help="output file (default reports/report-RUN_ID.html)")
    p.set_defaults(handler=_cmd_report)


def _cmd_report(args, config) -> int:
    from pathlib import Path

    from cloudtune.errors import InputError
    from cloudtune.report import render_report
    from cloudtune.spark.report_data import load_report_data, parse_series
    from cloudtune.spark.session import get_spark
    from cloudtune.spark.tracking import safe_name

    safe_name(args.run, "--run")
    keys = [parse_series(s) for s in args.series]
    regions = [safe_name(r, "--region") for r in args.region]
    if not (0 <= args.days_before <= 90 and 1 <= args.days_after <= 90):
        raise InputError(f"--days-before must be 0..90 and --days-after 1..90; got {args.days_before} and "
                         f"{args.days_after}")
    spark = get_spark(config, args.warehouse)
    data = load_report_data(spark, config, args.run, keys, regions, args.days_before, args.days_after,
                            explain=not args.no_explain, quantity=args.quantity)
    out = Path(args.out or f"reports/report-{args.run}.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(data), encoding="utf-8")
    print(f"report for run {args.run} written to {out.resolve()}")
    return 0
