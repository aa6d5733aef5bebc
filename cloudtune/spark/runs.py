"""The run record of a job in forecast_runs: 'running' while it writes, then 'succeeded' or 'failed'.

Consumers (the latest_forecasts view, capacity plans) read only succeeded runs, so a run that crashes half way
through its writes is never mistaken for a good one, and earlier runs stay as they were.
"""
from __future__ import annotations

import logging
import uuid
from concurrent.futures import Executor
from datetime import date, datetime, timezone

import cloudtune
from cloudtune.config import PipelineConfig
from cloudtune.errors import CloudTuneError
from cloudtune.spark.tables import replace_partition, struct_type
from schemas import FORECAST_RUNS

log = logging.getLogger(__name__)
JOBS = ("daily", "long_range")


class RunFailed(CloudTuneError):
    """The run finished its writes but is marked failed, e.g. too many series failed."""


class RunRecord:
    """`with RunRecord(spark, config, "daily", run_date) as run:` ... `run.update(series_in=...)`."""

    def __init__(self, spark, config: PipelineConfig, job: str, run_date: date, background: Executor | None = None):
        if job not in JOBS:
            raise ValueError(f"job must be one of {JOBS}, got {job!r}")
        if not isinstance(run_date, date):
            raise CloudTuneError(f"run date must be a date, got {run_date!r}")
        self.spark, self.database = spark, config.database
        prefix = "forecast" if job == "daily" else job.replace("_", "-")
        self.fields = dict(
            run_id=f"{prefix}-{run_date:%Y%m%d}-{uuid.uuid4().hex[:8]}", run_date=run_date, job=job,
            started_at=datetime.now(timezone.utc), config_hash=config.config_hash(),
            code_version=cloudtune.__version__, status="running",
        )
        # With an executor the 'running' row (a one-row Delta commit: seconds of latency, little work) is written
        # while the run starts reading; the outcome's row waits for it, so the two never race.
        self._background, self._started = background, None

    @property
    def run_id(self) -> str:
        return self.fields["run_id"]

    def update(self, **counts) -> None:
        self.fields.update(counts)

    def __enter__(self) -> "RunRecord":
        if self._background is None:
            self._write()
        else:
            self._started = self._background.submit(self._write, dict(self.fields))
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        start_error = self._wait_started()
        exc = exc or start_error
        self.fields["finished_at"] = datetime.now(timezone.utc)
        if exc is None:
            self.fields["status"] = "succeeded"
        else:
            self.fields["status"] = "failed"
            self.fields["message"] = f"{type(exc).__name__}: {exc}"[:2000]
        try:
            self._write()
        except Exception:  # noqa: BLE001 - never hide the run's own error behind a failed bookkeeping write
            log.exception("could not record run %s as %s", self.run_id, self.fields["status"])
            if exc is None:
                raise
        if start_error is not None and exc_type is None:
            raise start_error
        return False

    def started(self) -> None:
        """Wait until the 'running' row is written (it may be in the background); raises its error."""
        if self._started is not None:
            self._started.result()

    def _wait_started(self) -> Exception | None:
        if self._started is None:
            return None
        try:
            self._started.result()
        except Exception as error:  # noqa: BLE001 - returned: the run is then recorded as failed with it
            return error
        return None

    def _write(self, fields: dict | None = None) -> None:
        schema = struct_type(FORECAST_RUNS)
        row = {f.name: (fields or self.fields).get(f.name) for f in schema.fields}
        replace_partition(self.spark, self.spark.createDataFrame([row], schema), self.database, FORECAST_RUNS,
                          {"run_date": self.fields["run_date"], "job": self.fields["job"]})
