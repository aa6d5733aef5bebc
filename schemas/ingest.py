"""Tables written by ingest: actuals, quarantine and the ingest run log."""
from schemas.table import Column, Table, key_columns

ACTUALS = Table(
    name="actuals",
    doc="Validated per-series history. One row per (service, region, metric, ts); MERGEd by ingest.",
    columns=(
        *key_columns(),
        Column("ts", "timestamp", "UTC start of the interval, aligned to the series grain.", nullable=False),
        Column("value", "double", "Finite, non-negative load in the interval.", nullable=False),
        Column("date", "date", "UTC date of ts; the partition column.", nullable=False),
        Column("source_file", "string", "File the current value came from."),
        Column("ingest_run_id", "string", "Ingest run that last inserted or updated the row."),
        Column("ingested_at", "timestamp", "When the row was last inserted or updated."),
    ),
    partition_by=("date",),
    key=("service", "region", "metric", "ts"),
)

QUARANTINE = Table(
    name="quarantine",
    doc="Input rows that failed validation, kept verbatim with the reason. Nothing is dropped.",
    columns=(
        Column("source_file", "string", "Path of the input file.", nullable=False),
        Column("line_number", "bigint", "1-based line in a text file (header is line 1), or row number in Parquet.",
               nullable=False),
        Column("raw", "string", "The original row text (CSV/JSON line) or the row as JSON (Parquet).", nullable=False),
        Column("reason", "string", "Why it was rejected: missing_key, unparsable_timestamp, off_grain_timestamp, "
               "missing_value, non_numeric_value, nan_value, infinite_value, negative_value, conflicting_duplicate.",
               nullable=False),
        Column("detail", "string", "Which column and value failed, and how to fix it."),
        Column("service", "string", "Service as read, if any."),
        Column("region", "string", "Region as read, if any."),
        Column("metric", "string", "Metric as read, if any."),
        Column("ts_text", "string", "Timestamp text as read."),
        Column("value_text", "string", "Value text as read."),
        Column("ingest_run_id", "string", "Ingest run that first quarantined the row."),
        Column("quarantined_at", "timestamp", "When it was quarantined."),
    ),
    key=("source_file", "line_number", "reason", "raw"),
)

INGEST_RUNS = Table(
    name="ingest_runs",
    doc="One row per ingest run, with counts that add up: rows_read = accepted + quarantined + identical_duplicates.",
    columns=(
        Column("ingest_run_id", "string", "Unique id of the run.", nullable=False),
        Column("source_file", "string", "Input path.", nullable=False),
        Column("format", "string", "csv, parquet or json."),
        Column("started_at", "timestamp", "Run start (UTC)."),
        Column("rows_read", "bigint", "Data rows read from the file."),
        Column("accepted", "bigint", "Distinct valid rows found in actuals after the MERGE (inserted + updated + unchanged)."),
        Column("inserted", "bigint", "Rows new to actuals."),
        Column("updated", "bigint", "Rows whose value changed in actuals."),
        Column("unchanged", "bigint", "Valid rows already in actuals with the same value."),
        Column("quarantined", "bigint", "Invalid rows found in quarantine after the MERGE (new or from an earlier run)."),
        Column("identical_duplicates", "bigint", "Extra copies of a valid row within the file."),
        Column("status", "string", "succeeded, or counts_mismatch when the tables do not account for every row read."),
        Column("code_version", "string", "CloudTune version."),
    ),
    key=("ingest_run_id",),
)
