"""`cloudtune capacity`: capacity plans, orders and the regional roll-up from the latest forecast run.

`--check` only validates conf/capacity (no Spark), so a team can check its capacity model in a second.
"""
from __future__ import annotations

QUANTILE_CHOICES = ("mean", "p50", "p90", "p99")


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "capacity", parents=[common],
        help="instances by type, generation and zone per service, region and window (each event, each week), "
             "capacity orders and the two-year regional roll-up -> capacity_plans, capacity_rollup, CSVs")
    p.add_argument("--capacity-dir", default=None, help="capacity config folder (default conf/capacity)")
    p.add_argument("--fleet", default=None,
                   help="current fleet: a CSV (service, region, zone, instance_type, instances) or table:<db.name> "
                        "(default: current_fleet in conf/capacity/planning.yaml)")
    p.add_argument("--out", default="out", help="folder for the plan, orders and roll-up CSVs (default ./out)")
    p.add_argument("--event-quantile", choices=QUANTILE_CHOICES, default=None,
                   help="quantile event windows are sized on (default p99, from planning.yaml)")
    p.add_argument("--week-quantile", choices=QUANTILE_CHOICES, default=None,
                   help="quantile ordinary weeks are sized on (default p90, from planning.yaml)")
    p.add_argument("--check", action="store_true", help="only validate the capacity config and print it")
    p.set_defaults(handler=_cmd_capacity)


def _cmd_capacity(args, config) -> int:
    from cloudtune.capacity import load_capacity, load_fleet
    from cloudtune.spark.capacity import capacity_dir

    folder = capacity_dir(config, args.capacity_dir)
    capacity = load_capacity(folder)  # fail in a second, before Spark starts
    fleet = args.fleet if args.fleet is not None else capacity.fleet_path()
    if fleet is not None and not str(fleet).startswith("table:"):
        load_fleet(fleet, capacity.catalog)
    if args.check:
        print(describe(capacity))
        return 0
    from cloudtune.spark.capacity import plan_latest_run
    from cloudtune.spark.session import get_spark

    spark = get_spark(config, args.warehouse)
    print(plan_latest_run(spark, config, args.out, folder, args.fleet, args.event_quantile, args.week_quantile))
    return 0


def describe(capacity) -> str:
    lines = [f"{capacity.folder}: {len(capacity.catalog.instance_types)} instance types in "
             f"{len(capacity.catalog.regions)} regions; {len(capacity.models)} service models"]
    for name, m in sorted(capacity.models.items()):
        runs_on = ", ".join(f"{t} {rpm:g}/min" for t, rpm in m.options)
        lines.append(f"  {name}: {runs_on}; {m.spec.redundancy}, headroom {m.spec.headroom:.0%}, "
                     f"min {m.spec.min_instances}, lead time {m.spec.lead_time}")
    return "\n".join(lines)
