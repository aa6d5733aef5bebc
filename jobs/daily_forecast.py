"""spark-submit entry point for the daily forecast run over cloudtune.actuals.

    spark-submit jobs/daily_forecast.py --warehouse s3://bucket/warehouse --run-date 2025-12-08
"""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["forecast", *sys.argv[1:]]))
