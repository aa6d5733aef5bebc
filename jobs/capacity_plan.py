"""spark-submit entry point: capacity plans, orders and the regional roll-up from the latest forecast run.

    spark-submit jobs/capacity_plan.py --warehouse s3://bucket/warehouse --out s3-mounted/plans --fleet fleet.csv
"""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["capacity", *sys.argv[1:]]))
