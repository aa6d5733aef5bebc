"""Spark actions run together from threads, each in its own fair-scheduler pool.

The session runs spark.scheduler.mode FAIR, so the small actions of a run (a commit, a few rows: mostly latency)
take a share of the cores while a big one runs, instead of queueing behind all of its tasks.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

from pyspark.sql import SparkSession


class InPools:
    """`start(name, job)` runs job() in a thread and in the pool `name`; `results()` waits for every job and
    returns their results by name, raising the first error after all have finished. Leaving the `with` block
    waits for the jobs still running (an error on the caller's side never leaves a write running unseen)."""

    def __init__(self, spark: SparkSession, workers: int = 8):
        self._context = spark.sparkContext
        self._threads = ThreadPoolExecutor(max_workers=workers)
        self._futures = {}

    def start(self, name: str, job) -> None:
        if name in self._futures:
            raise ValueError(f"a job named {name!r} was already started")
        self._futures[name] = self._threads.submit(self._in_pool, name, job)

    def results(self) -> dict:
        wait(self._futures.values())
        return {name: future.result() for name, future in self._futures.items()}

    def _in_pool(self, name: str, job):
        self._context.setLocalProperty("spark.scheduler.pool", name)
        try:
            return job()
        finally:
            self._context.setLocalProperty("spark.scheduler.pool", None)

    def __enter__(self) -> "InPools":
        return self

    def __exit__(self, *exc) -> None:
        self._threads.shutdown(wait=True)


def concurrently(spark: SparkSession, jobs: dict) -> dict:
    """Run every job (name -> callable) at once, each in its own pool; their results by name (see `InPools`)."""
    with InPools(spark, max(1, len(jobs))) as pools:
        for name, job in jobs.items():
            pools.start(name, job)
        return pools.results()
