"""The `cloudtune` command: one-line errors and exit code 2 for unusable input, before Spark starts."""
import subprocess
import sys

import pytest


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cloudtune.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.mark.parametrize("name, content, message", [
    ("missing.csv", None, "file not found"),
    ("empty.csv", "", "file is empty"),
    ("data.txt", "x", "cannot tell the format from '.txt'"),
])
def test_unusable_source_is_one_line_and_exit_2(tmp_path, name, content, message):
    src = tmp_path / name
    if content is not None:
        src.write_text(content)
    out = run("ingest", "--source", str(src), "--warehouse", str(tmp_path / "wh"), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "Traceback" not in out.stderr
    assert message in out.stderr and name in out.stderr


def test_config_typo_is_rejected_by_the_command(tmp_path, repo):
    bad = tmp_path / "pipeline.yaml"
    bad.write_text("ingest:\n  grian: 1min\n")
    out = run("init", "--config", str(bad), "--warehouse", str(tmp_path / "wh"), cwd=repo)
    assert out.returncode == 2 and "unknown key 'ingest.grian'" in out.stderr and "Did you mean 'grain'" in out.stderr
