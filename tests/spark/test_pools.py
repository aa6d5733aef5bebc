"""Spark actions started together: each in its own fair-scheduler pool, results by name, and an error raised only
after every other job has finished (nothing keeps writing unseen)."""
import threading

import pytest

from cloudtune.spark.pools import InPools, concurrently

pytestmark = pytest.mark.spark


def test_each_job_runs_in_its_own_pool_and_results_come_by_name(spark):
    def pool():
        return spark.sparkContext.getLocalProperty("spark.scheduler.pool"), spark.range(5).count()

    got = concurrently(spark, {"small": pool, "big": pool})
    assert got == {"small": ("small", 5), "big": ("big", 5)}
    assert spark.sparkContext.getLocalProperty("spark.scheduler.pool") is None  # the caller's thread has none


def test_an_error_is_raised_after_the_other_jobs_finished(spark):
    finished, started = [], threading.Event()

    def slow():
        started.set()
        rows = spark.range(1000).selectExpr("sum(id)").first()[0]
        finished.append("slow")
        return rows

    def failing():
        started.wait(30)
        raise RuntimeError("the write failed")

    with pytest.raises(RuntimeError, match="the write failed"):
        with InPools(spark) as pools:
            pools.start("slow", slow)
            pools.start("failing", failing)
            pools.results()
    assert finished == ["slow"]


def test_leaving_early_still_waits_for_the_jobs_started(spark):
    finished = []
    with pytest.raises(ValueError, match="already started"):
        with InPools(spark) as pools:
            pools.start("write", lambda: finished.append(spark.range(100).count()))
            pools.start("write", lambda: None)  # the caller's own error, while its first job may still run
    assert finished == [100]
