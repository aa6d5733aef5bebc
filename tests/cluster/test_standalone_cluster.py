"""A real cluster, not local[*]: .ci/standalone-cluster starts a Spark standalone master and worker on loopback
(pip's Spark), spark-submits ingest and the daily forecast with the code shipped through --py-files, and stops the
cluster. These tests run it once and check what it left: the rows, where the executors took `cloudtune` from,
and that no cluster process outlived it. About 3-5 minutes on two cores; CLOUDTUNE_SKIP_CLUSTER=1 skips them."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".ci" / "standalone-cluster"
MINUTES = 1440  # the script's config: 2 series (checkout and search in us), horizon 1 day at 1 minute

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(os.environ.get("CLOUDTUNE_SKIP_CLUSTER") == "1", reason="CLOUDTUNE_SKIP_CLUSTER=1"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("standalone-cluster")
    started = time.monotonic()
    proc = subprocess.run(["bash", str(SCRIPT)], env={**os.environ, "CLOUDTUNE_CLUSTER_DIR": str(work)},
                          capture_output=True, text=True, timeout=45 * 60)
    seconds = time.monotonic() - started
    print(f"\n.ci/standalone-cluster took {seconds:.0f} s\n{proc.stdout}")
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    result = json.loads((work / "result.json").read_text())
    return work, result, proc.stdout


def test_the_daily_job_wrote_its_forecast_rows(run):
    work, result, _ = run
    assert result["problems"] == []
    by_level = result["forecast_rows_by_level"]  # read back on the cluster
    assert {k: v for k, v in by_level.items() if k.startswith("series:")} == {
        "series:checkout/us": MINUTES, "series:search/us": MINUTES}
    # Read back without Spark too (delta-rs): the table is a real Delta table in the warehouse.
    from deltalake import DeltaTable

    forecasts = DeltaTable(str(work / "warehouse" / "cloudtune.db" / "forecasts")).to_pandas()
    mine = forecasts[forecasts.run_date.astype(str) == "2025-12-08"]
    assert len(mine) == result["forecast_rows"] == sum(by_level.values())
    series = mine[mine.level == "series"]
    assert series.groupby("service").size().to_dict() == {"checkout": MINUTES, "search": MINUTES}
    assert (series.p50 <= series.p99 + 1e-9).all() and (series["mean"] >= 0).all()
    runs = DeltaTable(str(work / "warehouse" / "cloudtune.db" / "forecast_runs")).to_pandas()
    assert runs.status.tolist() == ["succeeded"]


def test_ingest_and_forecast_ran_on_the_cluster_not_in_local_mode(run):
    work, result, _ = run
    assert set(result["apps"]) == {"cloudtune-ingest", "cloudtune-forecast", "cloudtune-probe"}
    for job in ("ingest", "forecast"):
        dirs = [Path(d) for d in result[f"{job}_executor_dirs"]]
        assert dirs, f"no executor of the {job} job"
        for d in dirs:  # <worker work dir>/<app id>/<executor id>/ holds the shipped zip it ran with
            assert d.parent.name == result["apps"][f"cloudtune-{job}"] and d.is_relative_to(work / "worker")


def test_executors_import_cloudtune_from_the_shipped_artifact_in_their_own_folder(run):
    work, result, _ = run
    artifact = "cloudtune-0.1.0.zip"
    driver = result["driver"]
    # The driver runs the same Python and imports Spark's copy of the artifact (its SparkFiles, in the run's folder).
    driver_file = Path(driver["cloudtune_file"])
    assert artifact in driver_file.parts and driver_file.is_relative_to(work), driver_file
    assert Path(driver["cwd"]) == work / "driver"
    assert result["executors"]
    for e in result["executors"]:
        origin = Path(e["cloudtune_file"])
        assert origin.is_relative_to(work / "worker") and artifact in origin.parts, origin
        assert Path(e["cwd"]).is_relative_to(work / "worker") and e["cwd"] != driver["cwd"]
        assert e["pid"] != driver["pid"]
        assert Path(e["python"]).is_relative_to(work / "exec-env")
        # The venv's libraries are on the path (they live in the repo's .venv here); the repo's code is not.
        code = [p for p in e["sys_path"] if p and Path(p).is_relative_to(REPO)
                and not Path(p).is_relative_to(REPO / ".venv")]
        assert code == [], e["sys_path"]
    # The executors' Python cannot import cloudtune on its own: only the artifact makes it importable.
    alone = subprocess.run([str(work / "exec-env" / "bin" / "python"), "-c", "import cloudtune"],
                           cwd=work, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert alone.returncode != 0 and "No module named 'cloudtune'" in alone.stderr


def test_the_cluster_is_stopped_afterwards(run):
    psutil = pytest.importorskip("psutil")
    work, _, _ = run
    left = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if any(str(work) in part for part in p.info["cmdline"] or []):
                left.append((p.info["pid"], " ".join(p.info["cmdline"])[:200]))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    assert left == []


def test_a_busy_master_port_is_a_one_line_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "CLOUDTUNE_MASTER_PORT": str(port),
                                   "CLOUDTUNE_CLUSTER_DIR": str(tmp_path / "busy")})
    assert proc.returncode != 0
    assert f"port {port} on 127.0.0.1 is busy" in proc.stderr
    assert not (tmp_path / "busy").exists()  # nothing was started or written
