"""`cloudtune forecast` (the daily run over the tables, or file mode with --actuals) and `cloudtune long-range`."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from cloudtune.errors import CloudTuneError, ConfigError


def register(sub, common) -> None:
    p = sub.add_parser("forecast", parents=[common],
                       help="the daily run: outliers, fit, forecast, reconcile -> Delta tables "
                            "(or, with --actuals FILE --out DIR, the same pipeline from a file to a folder)")
    p.add_argument("--run-date", default=None, help="run date YYYY-MM-DD (default: today, UTC; in file mode the "
                   "day after the file's last day); a rerun replaces that date's rows")
    p.add_argument("--actuals", default=None, help="file mode: CSV, Parquet or JSON-lines actuals to forecast")
    p.add_argument("--out", default=None, help="file mode: output folder (one subfolder per output)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file mode output format")
    p.add_argument("--events", default=None, help="event calendar YAML or folder (default: the config's)")
    p.add_argument("--horizon", default=None, help="forecast horizon, e.g. 90d (default: config)")
    p.add_argument("--grain", default=None, help="output grain: 1min 5min 15min 30min 1h 1d 1w (default: config)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=_cmd_forecast)

    p = sub.add_parser("long-range", parents=[common],
                       help="weekly forecasts two years ahead per region and service -> long_range_extract, "
                            "CSV and Parquet")
    p.add_argument("--run-date", default=None, help="run date YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--export-dir", default=None, help="folder for the CSV and Parquet exports "
                   "(default: <warehouse>/exports/long_range)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=_cmd_long_range)


def parse_run_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CloudTuneError(f"--run-date must be YYYY-MM-DD, got {text!r}") from None


def _cmd_forecast(args, config) -> int:
    from cloudtune.spark.file_mode import with_overrides

    try:
        config = with_overrides(config, args.events, args.horizon, args.grain)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if (args.actuals is None) != (args.out is None):
        raise CloudTuneError("file mode needs both --actuals FILE and --out DIR")
    if args.actuals is not None:
        return _file_mode(args, config)
    from cloudtune.spark.session import get_spark
    from cloudtune.spark.tables import create_tables

    spark = get_spark(config, args.warehouse)
    create_tables(spark, config.database)
    return daily_run(spark, config, parse_run_date(args.run_date), args.quiet)


def _file_mode(args, config) -> int:
    from cloudtune.ingest.rules import check_source, detect_format
    from cloudtune.spark.file_mode import forecast_file
    from cloudtune.spark.session import get_spark

    detect_format(check_source(args.actuals))  # fail in a second, before Spark starts
    spark = get_spark(config, Path(args.out) / ".spark-warehouse")
    s = forecast_file(spark, config, args.actuals, args.out, args.format, parse_run_date(args.run_date),
                      progress=not args.quiet)
    print(f"forecast {s['source']}: {s['series_in']} series ({s['series_fallback']} fallback, "
          f"{s['series_failed']} failed) in {s['seconds']} s")
    for name, path in s["outputs"].items():
        print(f"  {name:20s} {s['rows'][name]:>10,d} rows  {path}")
    print(f"  summary: {Path(s['out']) / 'run.json'}")
    return 0


def _cmd_long_range(args, config) -> int:
    from cloudtune.spark.session import get_spark
    from cloudtune.spark.tables import create_tables

    spark = get_spark(config, args.warehouse)
    create_tables(spark, config.database)
    return long_range_run(spark, config, parse_run_date(args.run_date), args.quiet, args.export_dir)


def daily_run(spark, config, run_date: date | None, quiet: bool) -> int:
    """The daily run with its summary; 1 when the run is marked failed (too many series failed)."""
    import time

    from cloudtune.spark.forecast_job import run_forecast
    from cloudtune.spark.runs import RunFailed
    from cloudtune.spark.views import register_views

    started = time.monotonic()
    try:
        r = run_forecast(spark, config, run_date, progress=not quiet)
    except RunFailed as exc:
        print(f"forecast run failed: {exc}")
        return 1
    register_views(spark, config.database)
    print(f"forecast run {r['run_id']} ({r['run_date']}) in {time.monotonic() - started:.0f} s: "
          f"{r['series_in']} series and aggregates, {r['series_forecast']} forecast "
          f"({r['series_fallback']} by a fallback), {r['series_failed']} failed; "
          f"{r['forecast_rows']:,d} forecast rows")
    print(f"  reconciliation: {r['reconciliation']}")
    print(f"  tables: {config.database}.forecasts (view latest_forecasts), forecast_components, event_peaks, "
          f"outlier_flags, failures, forecast_runs")
    return 0


def long_range_run(spark, config, run_date: date | None, quiet: bool, export_dir) -> int:
    from cloudtune.spark.long_range import run_long_range
    from cloudtune.spark.views import register_views

    r = run_long_range(spark, config, run_date, export_dir, progress=not quiet)
    register_views(spark, config.database)
    print(f"long-range run {r['run_id']}: {r['forecast_rows']:,d} weekly rows in {config.database}."
          f"long_range_extract (view latest_long_range); exports: {r['exports']['csv']}, {r['exports']['parquet']}")
    return 0
