"""Delta tables from the definitions in schemas/: create, type and write them."""
from __future__ import annotations

import logging
import re
from datetime import date

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructField, StructType, _parse_datatype_string

from schemas import ALL_TABLES, Table

log = logging.getLogger(__name__)


def struct_type(table: Table) -> StructType:
    """The Spark schema of a table, with each column's doc as its comment."""
    return StructType([
        StructField(c.name, _parse_datatype_string(c.type), c.nullable, {"comment": c.doc}) for c in table.columns
    ])


def qualified(database: str, table: Table | str) -> str:
    name = table.name if isinstance(table, Table) else table
    return f"{database}.{name}"


def create_tables(spark: SparkSession, database: str, tables: dict[str, Table] | None = None) -> list[str]:
    """Create the database and every table if missing. Idempotent; returns the qualified names."""
    location = f"{spark.conf.get('spark.sql.warehouse.dir').rstrip('/')}/{database}.db"
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database} LOCATION '{location}'")
    names = []
    for table in (tables or ALL_TABLES).values():
        name = qualified(database, table)
        builder = (
            DeltaTable.createIfNotExists(spark).tableName(name).comment(table.doc).addColumns(struct_type(table))
        )
        if table.partition_by:
            builder = builder.partitionedBy(*table.partition_by)
        for key, value in table.properties.items():
            builder = builder.property(key, value)
        builder.execute()
        _add_new_columns(spark, name, table)
        _set_properties(spark, name, table)
        names.append(name)
    return names


def _add_new_columns(spark: SparkSession, name: str, table: Table) -> None:
    """A definition that gained columns extends the existing table (new columns are nullable; nothing is lost)."""
    have = set(spark.table(name).columns)
    new = [c for c in table.columns if c.name not in have]
    if new:
        cols = ", ".join(f"`{c.name}` {c.type} COMMENT '{c.doc.replace(chr(39), chr(92) + chr(39))}'" for c in new)
        spark.sql(f"ALTER TABLE {name} ADD COLUMNS ({cols})")
        log.info("%s: added columns %s", name, [c.name for c in new])


def _set_properties(spark: SparkSession, name: str, table: Table) -> None:
    """A table created before its definition gained a property gets it (one commit, only when it differs)."""
    if not table.properties:
        return
    have = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {name}").collect()}
    changed = {k: v for k, v in table.properties.items() if have.get(k) != v}
    if changed:
        pairs = ", ".join(f"'{k}' = '{v}'" for k, v in changed.items())
        spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ({pairs})")


def conform(df: DataFrame, table: Table) -> DataFrame:
    """Select and cast a DataFrame to the table's columns, in order; a missing column is an error."""
    missing = [c for c in table.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"cannot write {table.name}: missing columns {missing}; have {df.columns}")
    schema = struct_type(table)
    return df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


def replace_partition(spark: SparkSession, df: DataFrame, database: str, table: Table, where: dict) -> None:
    """Idempotent write: replace the rows matching `where` (e.g. the run_date) with `df`."""
    condition = " AND ".join(_equals(table, k, v) for k, v in where.items())
    # Write by path: the table is registered already, and the metastore needs no schema update.
    (conform(df, table).write.format("delta").mode("overwrite").option("replaceWhere", condition)
     .save(location(spark, database, table)))


_SAFE_TEXT = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


def _column(table: Table, name: str) -> str:
    if name not in table.column_names:
        raise ValueError(f"{table.name} has no column {name!r}")
    return name


def _equals(table: Table, name: str, value) -> str:
    """`column = literal`, the literal typed like the column (DATE'2025-12-08'). Against a plain string, Delta's
    check that every written row matches the predicate parsed the string into a date again for each row: 4% of the
    forecasts' write."""
    column = _column(table, name)
    kind = next(c.type for c in table.columns if c.name == name)
    prefix = {"date": "DATE", "timestamp": "TIMESTAMP"}.get(kind, "")
    return f"{column} = {prefix}'{_literal(value)}'"


def _literal(value) -> str:
    """Values reaching a replaceWhere predicate: dates, numbers, or plain identifiers only (never free text)."""
    if isinstance(value, (date, int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and _SAFE_TEXT.fullmatch(value):
        return value
    raise ValueError(f"refusing {value!r} in a write predicate: use a date, a number or letters, digits and _.:-")


def location(spark: SparkSession, database: str, table: Table) -> str:
    """The table's storage path, from the catalog: DESCRIBE DETAIL would also rebuild the Delta snapshot's file
    statistics, seconds per call, and every write asks for the path."""
    name = qualified(database, table)
    for row in spark.sql(f"DESCRIBE TABLE EXTENDED {name}").collect():
        if row["col_name"] == "Location":
            return row["data_type"]
    raise ValueError(f"{name} has no location in the catalog; run `cloudtune init` to create the tables")
