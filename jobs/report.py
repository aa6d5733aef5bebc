"""spark-submit entry point: the HTML report of a forecast run (after the daily run, say).

    spark-submit jobs/report.py --run forecast-20251208-1a2b3c4d --region us --out reports/today.html
"""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
