"""Packaging promises: a light import, and Spark and Delta versions that belong together."""
import re
import subprocess
import sys
from importlib.metadata import version


def test_import_cloudtune_neither_imports_pyspark_nor_starts_a_jvm():
    code = "import sys, cloudtune; cloudtune.load_config; print('pyspark' in sys.modules, 'py4j' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


_IMPORT_EACH_FIRST = """
import importlib, pkgutil, sys
import cloudtune
names = [m.name for m in pkgutil.walk_packages(cloudtune.__path__, "cloudtune.")]
bad = []
for name in names:
    for loaded in [k for k in sys.modules if k.split(".")[0] in ("cloudtune", "schemas")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        bad.append(f"{name}: {type(exc).__name__}: {exc}")
print(len(names))
print("\\n".join(bad))
"""


def test_every_module_imports_when_it_is_the_first_one_imported():
    # A notebook may start from any module (e.g. cloudtune.models.engine); a cycle only shows from some entries.
    out = subprocess.run([sys.executable, "-c", _IMPORT_EACH_FIRST], capture_output=True, text=True, check=True)
    count, *bad = out.stdout.strip().split("\n")
    assert int(count) > 50
    assert not [b for b in bad if b], "\n".join(bad)


def test_delta_jar_matches_the_pinned_spark_and_delta_versions(repo):
    from cloudtune.spark.jars import DELTA_ARTIFACT

    pom = (repo / ".ci" / "delta-jars.pom.xml").read_text()
    artifact = re.search(r"<artifactId>(delta-spark_[^<]+)</artifactId>\s*<version>([^<]+)</version>", pom)
    spark_minor = ".".join(version("pyspark").split(".")[:2])
    assert artifact.group(1) == f"delta-spark_{spark_minor}_2.13"
    assert artifact.group(2) == version("delta-spark")
    assert DELTA_ARTIFACT == f"io.delta:{artifact.group(1)}:{artifact.group(2)}"


def test_the_notebook_api_is_callable_every_time():
    import numpy as np
    import pandas as pd

    import cloudtune

    ts = pd.date_range("2025-01-01", periods=14 * 24, freq="1h", tz="UTC")
    hours = np.arange(len(ts))
    actuals = pd.DataFrame({"service": "home", "region": "us", "metric": "requests", "ts": ts,
                            "value": 100 + 30 * np.sin(2 * np.pi * hours / 24)})
    first = cloudtune.forecast(actuals, "1d")
    second = cloudtune.forecast(actuals, "1d")  # the name stays the function after the module is imported
    assert len(first) == len(second) == 24 and list(first.columns)[-1] == "model"
    assert cloudtune.fit_report(first).status.tolist() == ["ok"]
    assert cloudtune.detect_outliers(actuals).empty
