"""The session's SQL settings are ones Spark knows: a misspelt key is accepted without a word and does nothing."""
import pytest

from cloudtune.spark.session import TASKS_PER_CORE, session_settings, stage_tasks

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


def test_heavy_stages_get_a_task_per_group_up_to_a_few_per_core(spark):
    """The fit and the reconciliation blocks: capped by the larger of the shuffle partitions (2 in the tests) and a
    few tasks per core (local[2]: 6), so a cluster's cores are used even where conf/ sets 8 partitions."""
    cores = spark.sparkContext.defaultParallelism
    assert int(spark.conf.get("spark.sql.shuffle.partitions")) < TASKS_PER_CORE * cores
    assert stage_tasks(spark, 1000) == TASKS_PER_CORE * cores
    assert stage_tasks(spark, 4) == 4
    assert stage_tasks(spark, 0) == 1
