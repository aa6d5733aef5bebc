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


def test_table_properties_are_set_on_new_and_on_older_tables(spark, spark_config):
    import json

    import pandas as pd

    from cloudtune.spark.tables import conform, location
    from schemas import FORECASTS

    db = spark_config.database
    create_tables(spark, db)
    name = f"{db}.forecasts"
    lean = "parquet.column.statistics.enabled#service"
    spark.sql(f"ALTER TABLE {name} UNSET TBLPROPERTIES ('delta.dataSkippingStatsColumns', '{lean}')")  # as made before
    create_tables(spark, db)
    props = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {name}").collect()}
    assert props["delta.dataSkippingStatsColumns"] == FORECASTS.properties["delta.dataSkippingStatsColumns"]
    assert props[lean] == "false"

    row = {c: None for c in FORECASTS.column_names}
    row.update(service="a", region="us", metric="requests", level="series", grain="1min", mean=5.0,
               ts=pd.Timestamp("2026-01-01T00:00Z"), run_id="r", run_date=pd.Timestamp("2026-01-01").date())
    rows = pd.DataFrame([row] * 1000).assign(mean=[5.0, 6.0] * 500)  # repeats: a dictionary would pay, unasked
    df = conform(spark.createDataFrame(rows.astype(object)), FORECASTS).coalesce(1)
    path = location(spark, db, FORECASTS)
    df.write.format("delta").mode("overwrite").save(path)
    adds = spark.read.json(f"{path}/_delta_log/*.json").where("add is not null").collect()
    stats = [json.loads(r["add"]["stats"]) for r in adds]
    assert stats and all("ts" in s["minValues"] and "mean" not in s["minValues"] for s in stats)
    # The table's Parquet properties reach the files: no min/max of the strings, no dictionary of the doubles.
    from urllib.parse import unquote

    import pyarrow.parquet as pq

    columns = pq.ParquetFile(f"{path.removeprefix('file:')}/{unquote(adds[0]['add']['path'])}").metadata.row_group(0)
    by_name = {columns.column(i).path_in_schema: columns.column(i) for i in range(columns.num_columns)}
    assert by_name["ts"].statistics.has_min_max and by_name["mean"].statistics.has_min_max
    assert by_name["service"].statistics is None and by_name["run_id"].statistics is None
    assert by_name["metric"].statistics.has_min_max
    assert not any("DICTIONARY" in e for e in by_name["mean"].encodings)
    assert any("DICTIONARY" in e for e in by_name["service"].encodings)


def test_write_predicates_are_typed_and_refuse_free_text():
    from datetime import date

    from cloudtune.spark.tables import _equals

    forecasts, breaches = ALL_TABLES["forecasts"], ALL_TABLES["event_breaches"]
    assert _equals(forecasts, "run_date", date(2025, 12, 8)) == "run_date = DATE'2025-12-08'"
    assert _equals(breaches, "event_start", "2025-11-28T00:00:00") == "event_start = TIMESTAMP'2025-11-28T00:00:00'"
    assert _equals(breaches, "event", "prime_day") == "event = 'prime_day'"
    with pytest.raises(ValueError, match="refusing"):
        _equals(forecasts, "run_date", "2025-12-08' OR '1'='1")
    with pytest.raises(ValueError, match="no column"):
        _equals(forecasts, "date", "2025-12-08")
