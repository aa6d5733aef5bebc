"""The session's SQL settings are ones Spark knows: a misspelt key is accepted without a word and does nothing."""
import pytest

from cloudtune.spark.session import session_settings

pytestmark = pytest.mark.spark


def test_every_sql_setting_is_a_key_spark_defines(spark, spark_config, tmp_path):
    jvm = spark._jvm
    static = jvm.org.apache.spark.sql.internal.SQLConf.isStaticConfigKey
    getattr(jvm.org.apache.spark.sql.delta.sources, "DeltaSQLConf$").__getattr__("MODULE$")  # registers Delta's keys
    keys = [k for k in session_settings(spark_config, tmp_path) if k.startswith(("spark.sql.", "spark.databricks."))]
    assert "spark.sql.maxConcurrentOutputFileWriters" in keys
    unknown = [k for k in keys if not (spark.conf.isModifiable(k) or static(k))]
    assert unknown == []
    assert not spark.conf.isModifiable("spark.sql.maxConcurrentOutputFiles")  # the check can fail: the old typo
