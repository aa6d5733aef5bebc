"""spark-submit entry point for the long-range extract: weekly forecasts 104 weeks ahead per region and service.

    spark-submit jobs/long_range_extract.py --warehouse s3a://bucket/warehouse --run-date 2025-12-08 \\
        --export-dir /shared/planning
"""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["long-range", *sys.argv[1:]]))
