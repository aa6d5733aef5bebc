"""Where the Delta Lake jars are: fetched once by .ci/setup through mvn, then used offline."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from cloudtune.errors import ConfigError

# Keep equal to .ci/delta-jars.pom.xml and the delta-spark pin in pyproject.toml (a test checks).
DELTA_ARTIFACT = "io.delta:delta-spark_4.0_2.13:4.4.0"


def jars_dir() -> Path:
    """CLOUDTUNE_JARS, else <venv>/share/cloudtune/jars where .ci/setup puts them."""
    return Path(os.environ.get("CLOUDTUNE_JARS") or Path(sys.prefix) / "share" / "cloudtune" / "jars")


def delta_jars() -> list[str]:
    folder = jars_dir()
    jars = sorted(str(p) for p in folder.glob("*.jar"))
    if not any("delta-spark" in Path(j).name for j in jars):
        raise ConfigError(
            f"Delta Lake jars not found in {folder}. Run `bash .ci/setup` (fetches {DELTA_ARTIFACT} with mvn), "
            f"set CLOUDTUNE_JARS to a folder holding them, or pass --packages {DELTA_ARTIFACT} to spark-submit."
        )
    return jars
