"""The only place that imports pyspark or delta: session factory, Delta I/O and grouped-map adapters."""
