"""spark-submit entry point: validate files of actuals into cloudtune.actuals (quarantining bad rows).

    spark-submit jobs/ingest_actuals.py --source s3://bucket/actuals/2025-12-07.parquet --warehouse s3://...
"""
import os
import sys

from cloudtune.cli import main

if __name__ == "__main__":
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        # Under spark-submit, attach to the JVM it started before the session factory reads the submitted settings:
        # pyspark's SparkConf sees --master/--conf/--jars only once the gateway is up (else conf/'s local[*] wins).
        from pyspark import SparkContext

        SparkContext._ensure_initialized()
    sys.exit(main(["ingest", *sys.argv[1:]]))
