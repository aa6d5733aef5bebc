"""spark-submit entry point: validate files of actuals into cloudtune.actuals (quarantining bad rows).

    spark-submit jobs/ingest_actuals.py --source s3://bucket/actuals/2025-12-07.parquet --warehouse s3://...
"""
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
