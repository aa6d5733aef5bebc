"""Progress of a long run: the stage, and series done out of the total, printed every few seconds.

Series are counted by an accumulator that the per-series function adds to; Spark merges a task's additions
when the task ends, so the count moves by whole tasks.
"""
from __future__ import annotations

import threading
import time


def _print(line: str) -> None:
    print(line, flush=True)  # a spark-submit log is a file: unflushed lines would show up only at the end


class Progress:
    def __init__(self, spark, out=None, every: float = 15.0, enabled: bool = True):
        self.spark, self.out, self.every, self.enabled = spark, out or _print, every, enabled
        self.done = spark.sparkContext.accumulator(0)
        self.started = time.monotonic()
        self._stage, self._total = "starting", None
        self._stop = threading.Event()
        self._thread = None

    def stage(self, name: str, total: int | None = None) -> None:
        self._stage, self._total = name, total
        self.say()

    def say(self) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        count = ""
        if self._total:
            done = min(self.done.value, self._total)
            count = f" {done}/{self._total} series ({100 * done / self._total:.0f}%)"
        self.out(f"[{elapsed:6.0f}s] {self._stage}{count}")

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="cloudtune-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> bool:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        return False

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.say()
