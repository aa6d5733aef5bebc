"""`cloudtune track`: live tracking of an event's actuals against the forecast in force before it began."""
from __future__ import annotations


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "track", parents=[common],
        help="compare an event's actuals with the as-of forecast minute by minute; write breaches and a report")
    p.add_argument("--event", required=True, help="event name from conf/events, e.g. black_friday")
    p.add_argument("--region", default=None, help="only this region (default: every region the event applies in)")
    p.add_argument("--start", default=None,
                   help="occurrence start date YYYY-MM-DD (default: the occurrence in progress, or the latest begun)")
    p.add_argument("--now", default=None,
                   help="tracking time, ISO 8601 UTC (default: the clock); set it to replay a past event")
    p.add_argument("--out", default="reports", help="folder for the post-event report (default ./reports)")
    p.add_argument("--follow", type=int, default=0, metavar="SECONDS",
                   help="repeat the pass every SECONDS until the event has ended and its report is written "
                        "(default: one pass)")
    p.set_defaults(handler=_cmd_track)


def _cmd_track(args, config) -> int:
    import time

    import pandas as pd

    from cloudtune.errors import InputError
    from cloudtune.spark.session import get_spark
    from cloudtune.spark.tables import create_tables
    from cloudtune.spark.tracking import safe_name, track_event

    safe_name(args.event, "--event")  # before Spark starts
    if args.region is not None:
        safe_name(args.region, "--region")
    if args.now is not None:
        try:
            pd.Timestamp(args.now)
        except ValueError:
            raise InputError(f"--now must be an ISO 8601 time such as 2025-11-28T12:00Z, got {args.now!r}") from None
    if args.follow and args.now is not None:
        raise InputError("--follow tracks against the clock; drop --now (or drop --follow to replay one pass)")
    if args.follow < 0:
        raise InputError(f"--follow must be a number of seconds >= 0, got {args.follow}")
    spark = get_spark(config, args.warehouse)
    create_tables(spark, config.database)
    while True:
        result = track_event(spark, config, args.event, args.region, args.start, args.now, args.out)
        print(result["text"])
        print(f"{result['breaches']} breached series-minutes written to {config.database}.event_breaches; "
              f"summary rows ({result['status']}) to {config.database}.event_reports", flush=True)
        if result["report_path"]:
            print(f"post-event report: {result['report_path']}")
        if not args.follow or result["status"] == "final":
            return 0
        time.sleep(args.follow)
