"""`cloudtune gameday`: a per-minute load schedule (CSV and JSON) to rehearse an event, from the latest forecast."""
from __future__ import annotations


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "gameday", parents=[common],
        help="per-minute requests to drive at each service and journey step for an event window, with a ramp-up")
    p.add_argument("--event", default=None, help="event name from conf/events (default: the next one covered)")
    p.add_argument("--region", default=None, help="region, e.g. us (default: the event's first covered region)")
    p.add_argument("--quantile", choices=("mean", "p50", "p90", "p99"), default="p99",
                   help="forecast quantile to drive (default p99)")
    p.add_argument("--start", default=None, help="which occurrence, by its start date YYYY-MM-DD (default: next)")
    p.add_argument("--shares", choices=("learned", "configured"), default=None,
                   help="journey-step shares (default: gameday.yaml's shares)")
    p.add_argument("--capacity-dir", default=None, help="capacity config folder with gameday.yaml "
                                                        "(default conf/capacity)")
    p.add_argument("--out", default="out", help="folder for the schedule files (default ./out)")
    p.set_defaults(handler=_cmd_gameday)


def _cmd_gameday(args, config) -> int:
    from cloudtune.gameday import load_journey
    from cloudtune.spark.capacity import capacity_dir

    load_journey(capacity_dir(config, args.capacity_dir) / "gameday.yaml")  # fail before Spark starts
    from cloudtune.spark.gameday import plan_game_day
    from cloudtune.spark.session import get_spark

    spark = get_spark(config, args.warehouse)
    print(plan_game_day(spark, config, args.out, event=args.event, region=args.region, quantile=args.quantile,
                        start=args.start, shares=args.shares, capacity_dir_path=args.capacity_dir))
    return 0
