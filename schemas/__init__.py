"""One definition per Delta table. Used to create the tables, to type what Spark writes, and in tests.

Column docs become Delta column comments, so `DESCRIBE cloudtune.actuals` explains every column. Every `Table`
defined at the top level of a module in this package is a table: adding a module adds its tables.
"""
import importlib
import pkgutil

from schemas.table import Column, Table

_MODULE_ORDER = ("ingest", "cleaning", "forecasting", "accuracy", "planning")  # creation order; others follow


def _collect() -> dict[str, Table]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name != "table"]
    names.sort(key=lambda n: (_MODULE_ORDER.index(n) if n in _MODULE_ORDER else len(_MODULE_ORDER), n))
    tables: dict[str, Table] = {}
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        for attr, value in vars(module).items():
            if isinstance(value, Table):
                if value.name in tables and tables[value.name] is not value:
                    raise ValueError(f"table {value.name} is defined twice (schemas/{name}.py)")
                tables[value.name] = value
                globals()[attr] = value
    return tables


ALL_TABLES: dict[str, Table] = _collect()

__all__ = ["ALL_TABLES", "Column", "Table", *[name.upper() for name in ALL_TABLES]]
