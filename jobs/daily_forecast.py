"""spark-submit entry point for the daily forecast run over cloudtune.actuals.

    spark-submit jobs/daily_forecast.py --warehouse s3://bucket/warehouse --run-date 2025-12-08
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
    sys.exit(main(["forecast", *sys.argv[1:]]))
