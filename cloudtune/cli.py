"""The `cloudtune` command: init, simulate, ingest and run (the main pipeline on the embedded default).

Spark is imported only by the commands that need it, so `cloudtune simulate` starts in a second.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from cloudtune.config import PipelineConfig, load_config
from cloudtune.errors import CloudTuneError

log = logging.getLogger("cloudtune")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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

    p = sub.add_parser("forecast", parents=[common],
                       help="the daily forecast run: outliers, fit, forecast, components, peaks -> Delta tables")
    p.add_argument("--run-date", default=None, help="run date YYYY-MM-DD (default: today, UTC); a rerun replaces it")
    p.set_defaults(handler=_cmd_forecast)

    p = sub.add_parser("run", parents=[common],
                       help="the main pipeline on the embedded default: sample (or --source) -> ingest -> forecast")
    p.add_argument("--source", default=None, help="actuals file to ingest instead of the sample fleet")
    p.add_argument("--run-date", default=None, help="run date YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--days", type=int, default=None, help="days of sample history (default: config)")
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
    names = create_tables(spark, config.database)
    _write_sql_properties(args, config)
    print(f"{len(names)} tables ready in database '{config.database}' under {Path(args.warehouse).resolve()}")
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
    from cloudtune.spark.ingest import ingest_file
    from cloudtune.spark.tables import create_tables

    warehouse = Path(args.warehouse).resolve()
    source = args.source
    if source is None:
        paths = _simulate(args, config, warehouse.parent / f"{warehouse.name}-sample", "csv")
        source = paths["actuals"]
        print(f"simulated sample fleet: {source}")
    spark = _spark(args, config)
    create_tables(spark, config.database)
    print(ingest_file(spark, config, source).text())
    print(_forecast(spark, config, args.run_date))
    props = _write_sql_properties(args, config)
    print(f"\nDelta tables: {warehouse / (config.database + '.db')}  (database '{config.database}')")
    print("Query them with Spark SQL, for example:")
    print(f"  PATH=\"$PWD/.venv/bin:$PATH\" spark-sql --properties-file {props} -e "
          f"\"select service, region, count(*) as minutes, round(avg(value)) as mean "
          f"from {config.database}.actuals group by 1, 2 order by 1, 2\"")
    print(f"  ... or: select service, region, event, day, peak_p90, peak_ts, peak_to_mean "
          f"from {config.database}.event_peaks order by peak_p90 desc limit 10")
    return 0


def _cmd_forecast(args, config: PipelineConfig) -> int:
    from cloudtune.spark.tables import create_tables

    spark = _spark(args, config)
    create_tables(spark, config.database)
    print(_forecast(spark, config, args.run_date))
    return 0


def _forecast(spark, config: PipelineConfig, run_date: str | None) -> str:
    from datetime import date

    from cloudtune.spark.forecast_job import run_forecast

    try:
        day = date.fromisoformat(run_date) if run_date else None
    except ValueError:
        raise CloudTuneError(f"--run-date must be YYYY-MM-DD, got {run_date!r}") from None
    r = run_forecast(spark, config, day)
    return (f"forecast run {r['run_id']} ({r['run_date']}): {r['series']} series "
            f"({r['series_fallback']} fallback, {r['series_failed']} failed), {r['forecast_rows']} forecast rows")


def _write_sql_properties(args, config: PipelineConfig) -> Path:
    from cloudtune.spark.session import spark_sql_properties

    path = Path(args.warehouse).resolve() / "spark-sql.properties"
    path.write_text(spark_sql_properties(config, args.warehouse))
    return path


if __name__ == "__main__":
    sys.exit(main())
