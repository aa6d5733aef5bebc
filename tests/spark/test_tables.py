"""Tables are created from schemas/, idempotently, and readable by Spark SQL and by a non-Spark Delta reader."""
import pytest

from cloudtune.spark.tables import create_tables, struct_type
from schemas import ALL_TABLES

pytestmark = pytest.mark.spark


def test_init_creates_every_table_with_the_declared_schema(spark, spark_config):
    db = spark_config.database
    first = create_tables(spark, db)
    again = create_tables(spark, db)  # idempotent: no error, same tables
    assert first == again == [f"{db}.{name}" for name in ALL_TABLES]
    for name, table in ALL_TABLES.items():
        actual = spark.table(f"{db}.{name}").schema
        assert [(f.name, f.dataType, f.nullable) for f in actual] == \
               [(f.name, f.dataType, f.nullable) for f in struct_type(table)], name
        assert actual[table.column_names[0]].metadata.get("comment") == table.columns[0].doc


def test_partitioning_follows_the_definitions(spark, spark_config):
    create_tables(spark, spark_config.database)
    detail = spark.sql(f"DESCRIBE DETAIL {spark_config.database}.actuals").first()
    assert list(detail["partitionColumns"]) == ["date"]


def test_a_delta_reader_other_than_spark_reads_the_tables(spark, spark_config):
    deltalake = pytest.importorskip("deltalake")
    create_tables(spark, spark_config.database)
    location = spark.sql(f"DESCRIBE DETAIL {spark_config.database}.quarantine").first()["location"]
    table = deltalake.DeltaTable(location)
    assert [f.name for f in table.schema().fields] == ALL_TABLES["quarantine"].column_names


def test_a_second_session_on_another_warehouse_is_refused(spark, spark_config, tmp_path):
    from cloudtune.errors import ConfigError
    from cloudtune.spark.session import get_spark

    with pytest.raises(ConfigError, match="already running in this process"):
        get_spark(spark_config, tmp_path / "elsewhere")
