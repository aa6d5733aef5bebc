"""The vocabulary of a table definition: plain Python, no Spark import.

Column types are Spark SQL type names (string, double, timestamp, date, bigint, int, boolean,
array<string>, map<string,double>). cloudtune/spark turns a Table into a StructType and a Delta table.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    partition_by: tuple[str, ...] = ()
    key: tuple[str, ...] = ()  # the natural key MERGE matches on, or the run key a rerun replaces
    extra_columns_ok: bool = False
    properties: dict = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        """`name type [NOT NULL] COMMENT '...'` list, for spark-sql users and docs."""
        parts = []
        for c in self.columns:
            null = "" if c.nullable else " NOT NULL"
            doc = c.doc.replace("'", "\\'")
            parts.append(f"{c.name} {c.type.upper()}{null} COMMENT '{doc}'")
        return ",\n  ".join(parts)

    def __post_init__(self):
        names = self.column_names
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"table {self.name}: duplicate columns {dupes}")
        for k in (*self.partition_by, *self.key):
            if k not in names:
                raise ValueError(f"table {self.name}: key/partition column '{k}' is not a column")


def key_columns(level_doc: str = "") -> tuple[Column, ...]:
    """The series key every per-series table starts with."""
    return (
        Column("service", "string", "Service that owns the load, e.g. checkout." + level_doc, nullable=False),
        Column("region", "string", "Region the service runs in, e.g. us.", nullable=False),
        Column("metric", "string", "What is counted, e.g. requests or orders.", nullable=False),
    )


def run_columns() -> tuple[Column, ...]:
    """run_id and run_date, which every table a forecast run writes ends with (partitioned by run_date)."""
    return (
        Column("run_id", "string", "Forecast run that wrote the row.", nullable=False),
        Column("run_date", "date", "Run date; a rerun of the same date replaces these rows.", nullable=False),
    )
