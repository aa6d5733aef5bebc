"""spark-submit entry point: a game-day load schedule for an event from the latest forecast run.

    spark-submit jobs/gameday.py --warehouse s3://bucket/warehouse --event black_friday --region uk --quantile p99
"""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["gameday", *sys.argv[1:]]))
