"""The session's SQL settings are ones Spark knows (a misspelt key is accepted without a word and does nothing), and
heavy stages get their tasks and equal shares of the work."""
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


def test_balanced_keys_give_every_task_an_equal_share(spark):
    """Spark's hash partitioning places 0..n-1 unevenly; the balanced numbers put n // tasks (or one more) in each."""
    from pyspark.sql import functions as F

    from cloudtune.spark.session import balanced_keys

    def shares(numbers, tasks):
        frame = spark.createDataFrame([(n,) for n in numbers], "node bigint").repartition(tasks, "node")
        counts = frame.groupBy(F.spark_partition_id().alias("task")).count().collect()
        return sorted(r["count"] for r in counts)

    plain = shares(range(1004), 8)
    assert plain[-1] - plain[0] > 10  # the unevenness the numbering removes
    numbers = balanced_keys(spark, 1004, 8)
    assert len(set(numbers)) == 1004
    assert shares(numbers, 8) == [125] * 4 + [126] * 4
    assert shares(balanced_keys(spark, 5, 3), 3) == [1, 2, 2]
