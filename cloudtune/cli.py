"""The `cloudtune` command: init, simulate, ingest and run (the main pipeline on the embedded default).

Spark is imported only by the commands that need it, so `cloudtune simulate` starts in a second.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path

from cloudtune.config import PipelineConfig, load_config
from cloudtune.errors import CloudTuneError

log = logging.getLogger("cloudtune")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens in a spark-submit log file
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
        return args.handler(args, config) or 0
    except CloudTuneError as exc:
        print(f"cloudtune {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=None,
                        help="pipeline YAML (default: conf/pipeline.yaml of this checkout)")
    common.add_argument("--warehouse", default="warehouse",
                        help="folder of the Delta warehouse and metastore (default ./warehouse)")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress")
    parser = argparse.ArgumentParser(prog="cloudtune", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", parents=[common], help="create the cloudtune database and its Delta tables")
    p.set_defaults(handler=_cmd_init)

    p = sub.add_parser("simulate", parents=[common], help="write a synthetic fleet with its ground truth")
    p.add_argument("--out", default="sample", help="output folder (default ./sample)")
    p.add_argument("--services", type=int, default=None, help="number of services (default: the config's list)")
    p.add_argument("--days", type=int, default=None, help="days of history (default: config)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: config)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--components", action="store_true",
                   help="also write the per-minute truth of every component (large)")
    p.set_defaults(handler=_cmd_simulate)

    p = sub.add_parser("ingest", parents=[common], help="validate a file of actuals into the actuals table")
    p.add_argument("--source", required=True, action="append", help="CSV, Parquet or JSON-lines file (repeatable)")
    p.add_argument("--format", choices=("csv", "parquet", "json"), default=None,
                   help="file format (default: from the extension)")
    p.set_defaults(handler=_cmd_ingest)

    p = sub.add_parser("run", parents=[common],
                       help="the main pipeline on the embedded default: sample (or --source) -> ingest -> forecast")
    p.add_argument("--source", default=None, help="actuals file to ingest instead of the sample fleet")
    p.add_argument("--run-date", default=None, help="run date YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--days", type=int, default=None, help="days of sample history (default: config)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=_cmd_run)

    from cloudtune.commands import register_all

    register_all(sub, common)
    return parser


def _spark(args, config: PipelineConfig):
    from cloudtune.spark.session import get_spark

    return get_spark(config, args.warehouse)


def _cmd_init(args, config: PipelineConfig) -> int:
    from cloudtune.spark.tables import create_tables

    spark = _spark(args, config)
    from cloudtune.spark.views import register_views

    names = create_tables(spark, config.database)
    views = register_views(spark, config.database)
    _write_sql_properties(args, config)
    print(f"{len(names)} tables and {len(views)} views ready in database '{config.database}' under {Path(args.warehouse).resolve()}")
    return 0


def _cmd_simulate(args, config: PipelineConfig) -> int:
    paths = _simulate(args, config, Path(args.out), args.format)
    print(f"sample fleet written to {Path(args.out).resolve()}: " + ", ".join(sorted(paths)))
    return 0


def _simulate(args, config: PipelineConfig, out: Path, fmt: str) -> dict:
    from cloudtune.events import load_calendar
    from cloudtune.simulate import simulate_fleet

    s = config.simulate
    fleet = simulate_fleet(
        services=list(s.services), regions=list(s.regions), metrics=list(s.metrics), end=s.end,
        days=getattr(args, "days", None) or s.days, seed=getattr(args, "seed", None) or s.seed,
        events=load_calendar(config.resolve(config.events_dir)), n_services=getattr(args, "services", None),
    )
    return fleet.write(out, fmt=fmt, components=getattr(args, "components", False))


def _cmd_ingest(args, config: PipelineConfig) -> int:
    from cloudtune.ingest.rules import check_source, detect_format
    from cloudtune.spark.ingest import ingest_file
    from cloudtune.spark.tables import create_tables

    for source in args.source:  # fail in a second, before Spark starts
        detect_format(check_source(source), args.format)
    spark = _spark(args, config)
    create_tables(spark, config.database)
    for source in args.source:
        report = ingest_file(spark, config, source, args.format)
        print(report.text())
    return 0


def _cmd_run(args, config: PipelineConfig) -> int:
    """simulate (or --source) -> ingest -> forecast and reconcile -> long-range extract -> capacity plan and
    game day, then where to look."""
    from cloudtune.commands.forecast import daily_run, long_range_run, parse_run_date
    from cloudtune.spark.ingest import ingest_file
    from cloudtune.spark.tables import create_tables

    started = time.monotonic()
    warehouse = Path(args.warehouse).resolve()
    run_date = parse_run_date(args.run_date)
    source = args.source
    if source is None:
        paths = _simulate(args, config, warehouse.parent / f"{warehouse.name}-sample", "csv")
        source = paths["actuals"]
        print(f"simulated sample fleet: {source}")
        run_date = run_date or date.fromisoformat(config.simulate.end)  # the day after the sample's history
    spark = _spark(args, config)
    create_tables(spark, config.database)
    print(ingest_file(spark, config, source).text())
    code = daily_run(spark, config, run_date, args.quiet)
    code = long_range_run(spark, config, run_date, args.quiet, None) or code
    _plans(spark, config, warehouse / "plans")
    props = _write_sql_properties(args, config)
    print(f"\nDone in {time.monotonic() - started:.0f} s.")
    print(f"Delta tables: {warehouse / (config.database + '.db')}  (database '{config.database}')")
    print("Query them with Spark SQL (README.md has more examples), for example:")
    print(f"  PATH=\"$PWD/.venv/bin:$PATH\" spark-sql --properties-file {props} -e "
          f"\"select service, region, event, day, peak_p90, peak_ts, peak_to_mean "
          f"from {config.database}.latest_event_peaks order by peak_p90 desc limit 10\"")
    return code


def _plans(spark, config: PipelineConfig, out: Path) -> None:
    """Capacity plan and orders for the latest run, and a game-day schedule for the next event it covers."""
    from cloudtune.spark.capacity import plan_latest_run
    from cloudtune.spark.gameday import plan_game_day

    print("capacity plan: " + plan_latest_run(spark, config, out))
    try:
        print("game day: " + plan_game_day(spark, config, out))
    except CloudTuneError as exc:  # e.g. no event inside the forecast horizon: say so, the plan still stands
        print(f"game day: none planned: {exc}")
    print(f"  capacity plan, orders, regional roll-up and game-day schedule: {out}")


def _write_sql_properties(args, config: PipelineConfig) -> Path:
    from cloudtune.spark.session import spark_sql_properties

    path = Path(args.warehouse).resolve() / "spark-sql.properties"
    path.write_text(spark_sql_properties(config, args.warehouse))
    return path


if __name__ == "__main__":
    sys.exit(main())
