"""spark-submit entry point: rolling-origin backtests of every model on cloudtune.actuals -> accuracy tables.

    spark-submit jobs/backtest.py --warehouse s3://bucket/warehouse --run-date 2025-12-08 --cutoffs 7 --horizon 7d
"""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["backtest", *sys.argv[1:]]))
