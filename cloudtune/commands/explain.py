"""`cloudtune explain`: why a forecast moved between two runs, in parts that add up to the change."""
from __future__ import annotations


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "explain", parents=[common],
        help="attribute the change of a forecast quantity between two runs to trend, seasonality, events, "
             "regressors, outlier exclusions and new data")
    p.add_argument("--run", required=True, help="the run to explain (run id)")
    p.add_argument("--vs", default=None, help="the run to compare with (default: the latest succeeded run before it)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--series", help="service/region/metric, e.g. checkout/us/requests")
    who.add_argument("--region", help="every series of a region (summed), e.g. us")
    p.add_argument("--metric", default=None, help="with --region: only this metric (default: each metric)")
    p.add_argument("--quantity", choices=("total_4w", "event_peak"), default="total_4w",
                   help="total_4w: the four weeks from the run's date (default); event_peak: the next event's peak")
    p.add_argument("--event", default=None, help="with event_peak: this event (default: the next one)")
    p.set_defaults(handler=_cmd_explain)


def _cmd_explain(args, config) -> int:
    from cloudtune.errors import InputError
    from cloudtune.spark.report_data import (explain_runs, get_run, parse_series, previous_run, series_in_region)
    from cloudtune.spark.session import get_spark
    from cloudtune.spark.tracking import safe_name

    for name, value in (("--run", args.run), ("--vs", args.vs), ("--region", args.region),
                        ("--metric", args.metric), ("--event", args.event)):
        if value is not None:
            safe_name(value, name)  # before Spark starts
    key = parse_series(args.series) if args.series else None
    spark = get_spark(config, args.warehouse)
    db = config.database
    run_a = get_run(spark, db, args.run)
    if args.vs is not None:
        run_b = get_run(spark, db, args.vs)
    else:
        run_b = previous_run(spark, db, run_a)
        if run_b is None:
            raise InputError(f"run {args.run} has no earlier succeeded run to compare with; pass --vs RUN_ID")
    if run_b["run_date"] >= run_a["run_date"]:
        raise InputError(f"--vs {run_b['run_id']} ({run_b['run_date']}) is not earlier than --run {run_a['run_id']} "
                         f"({run_a['run_date']}); swap them")
    if key is not None:
        targets = [([key], args.series)]
    else:
        keys = series_in_region(spark, db, run_a, args.region, args.metric)
        if not keys:
            raise InputError(f"run {run_a['run_id']} has no series in region {args.region!r}"
                             + (f" with metric {args.metric!r}" if args.metric else ""))
        metrics = sorted({k[2] for k in keys})
        targets = [([k for k in keys if k[2] == m], f"{args.region} / {m}") for m in metrics]
    for keys, label in targets:
        print(explain_runs(spark, config, run_a, run_b, keys, label, args.quantity, args.event).text())
    return 0
