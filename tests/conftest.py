"""Shared fixtures. One local Spark session per test run (it takes ~10 s to start on two cores)."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from cloudtune.config import load_config

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CLOUDTUNE_DATA", REPO.parent / "shared" / "data"))


def pytest_collection_modifyitems(config, items):
    """On a clone without ../shared/data, real-data tests are skipped with the reason, not failed."""
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"real data not found at {SHARED_DATA}; set CLOUDTUNE_DATA to its folder")
    uses_data: dict[Path, bool] = {}
    for item in items:
        path = Path(str(item.fspath))
        if path not in uses_data:
            uses_data[path] = "realdata" in path.read_text() or "SHARED_DATA" in path.read_text()
        if uses_data[path]:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def spark_config():
    config = load_config(REPO / "conf" / "pipeline.yaml")
    spark = dataclasses.replace(config.spark, master="local[2]", conf={
        "spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false", "spark.driver.memory": "2g",
    })
    return dataclasses.replace(config, spark=spark, database="cloudtune_test")


@pytest.fixture(scope="session")
def spark(tmp_path_factory, spark_config):
    from cloudtune.spark.session import get_spark

    session = get_spark(spark_config, tmp_path_factory.mktemp("warehouse"))
    yield session
    session.stop()
