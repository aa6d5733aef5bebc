"""The per-node function the forecast job maps over grouped rows, and the one row type it returns.

One pass fits each hierarchy node once and emits every output (forecast, components, flags, peaks, residuals,
report) as tagged rows of one wide schema; the job splits them into the Delta tables. The forecast is packed
(cloudtune.reconcile.packed): a row per reconciliation block whose mean, p50, p90 and p99 are arrays. Components
and residuals are packed too (`pack_steps`): a row per component, and one for the residuals, whose `values` are
on the row's grain from `ts`; `unpack_steps` makes them long rows in Spark, on their way to a table. The function
closes over plain dicts, lists and an Arrow schema only, so it pickles small and needs nothing from the driver's
process or folder.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cloudtune.errors import ModelError
from cloudtune.models.grain import GRAINS
from cloudtune.timestamps import utc_index

KEYS = ["service", "region", "metric"]
AGGREGATE = "*"  # the key value of an aggregated column (service '*' is a region total)
NODE = "node"  # the fit's group: a node's number in `node_table`
UNPLANNED = "unplanned"  # on fit input rows without a node number: their keys, for the error

# Every output of run_series as one row type, told apart by `record`.
WIDE_SCHEMA = (
    "record string, service string, region string, metric string, level string, ts timestamp, "
    "mean array<double>, p50 array<double>, p90 array<double>, p99 array<double>, "
    "peak_to_mean_steps array<double>, model string, status string, reason string, errored boolean, "
    "component string, values array<double>, combine string, grain string, start timestamp, `end` timestamp, "
    "flag_reason string, score double, method string, team string, note string, event string, "
    "event_start timestamp, day date, peak_p50 double, peak_p90 double, peak_p99 double, peak_ts timestamp, "
    "peak_to_mean double"
)
WIDE_COLUMNS = [part.strip().split(" ")[0].strip("`") for part in WIDE_SCHEMA.split(",")]


def wide_arrow_schema() -> pa.Schema:
    """WIDE_SCHEMA as the Arrow schema Spark expects back from the runner (parsing DDL needs a running session)."""
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType

    return to_arrow_schema(StructType.fromDDL(WIDE_SCHEMA))


PACKED = ["mean", "p50", "p90", "p99", "peak_to_mean_steps"]
# Records whose rows are packed on a regular grid by pack_steps, and the column their values unpack to.
STEPPED = {"component": "value", "residual": "residual"}


def node_table(keys: pd.DataFrame) -> pd.DataFrame:
    """The nodes (cloudtune.spark.reconcile.node_keys: service, region, metric, level) numbered: their keys as the
    totals' rows carry them (AGGREGATE where a level drops one) and `node`, an int the fit groups by. Grouping by
    an int instead of four strings keeps the strings out of every row the fit shuffles and sends to Python through
    Arrow: that halved the fit stage's JVM CPU. Numbered 0..n-1 here; the forecast job renumbers them with
    `session.balanced_keys`, so its tasks get equal shares."""
    table = keys[[*KEYS, "level"]].astype(object).where(keys[[*KEYS, "level"]].notna(), AGGREGATE)
    return table.drop_duplicates().reset_index(drop=True).assign(**{NODE: lambda t: range(len(t))})


def node_names(table: pd.DataFrame) -> dict[int, tuple]:
    """node_table as the runner's plain dict: number -> (service, region, metric, level)."""
    return dict(zip(table[NODE].astype(int), table[[*KEYS, "level"]].itertuples(index=False, name=None)))


def make_series_runner(run: dict, model: dict, outliers: dict, events: list[dict], block_seconds: int,
                       nodes: dict[int, tuple], schema: pa.Schema, counter=None):
    """The applyInArrow function over one node's actuals, (node, ts, value) rows; `nodes` maps each node number
    to its (service, region, metric, level) (`node_names`). Forecasts packed in blocks of `block_seconds`
    (cloudtune.spark.reconcile.planned_block_seconds). Returns `to_wide`'s rows as an Arrow table of `schema`
    (WIDE_SCHEMA's): pyarrow converts the frame in a quarter of the time pyspark's per-column converters took."""

    calendars = {}  # per region: the same for every node of a region, and a task runs several

    def run_group(table: pa.Table) -> pa.Table:
        # Nanoseconds, as applyInPandas gave them (tz-aware here; run_series reads them through utc_index).
        wide = run_frame(table.to_pandas(coerce_temporal_nanoseconds=True))
        # Unsafe like pyspark's own conversion (spark.sql.execution.pandas.convertToArrowArraySafely).
        return pa.Table.from_pandas(wide, schema=schema, preserve_index=False, safe=False)

    def run_frame(rows: pd.DataFrame) -> pd.DataFrame:
        from cloudtune.config.pipeline import ForecastSettings
        from cloudtune.config.strict import from_dict
        from cloudtune.models.settings import ModelSettings
        from cloudtune.outliers.settings import OutlierSettings
        from cloudtune.pipeline import run_series

        number = rows[NODE].iloc[0]
        if pd.isna(number) or int(number) not in nodes:
            named = rows[UNPLANNED].iloc[0] if UNPLANNED in rows else None
            raise ModelError(f"fit input rows of {named or f'node number {number}'} are not among the nodes "
                             "planned from the actuals' keys (node_table): did an ingest add a series during "
                             "the run? Rerun the run date")
        *key, level = nodes[int(number)]
        key = tuple(key)
        if key[1] not in calendars:
            calendars[key[1]] = node_events(events, key[1])
        result = run_series(
            rows, key, from_dict(ForecastSettings, run), from_dict(ModelSettings, model),
            from_dict(OutlierSettings, outliers), calendars[key[1]],
        )
        if counter is not None:
            counter.add(1)
        return to_wide(key, level, result, block_seconds)

    run_group.frame = run_frame  # the same answer as a pandas frame (tests, notebooks)
    return run_group


def node_events(records: list[dict], region: str) -> pd.DataFrame | None:
    """The calendar a node sees: its region's and global events; a cross-region total sees every region's."""
    if not records:
        return None
    from cloudtune.events import events_for_region, normalize_events

    calendar = normalize_events(pd.DataFrame(records))
    if region == AGGREGATE:
        chosen = calendar.drop_duplicates(subset=["name", "start", "end"]).reset_index(drop=True)
    else:
        chosen = events_for_region(calendar, region)
    return chosen if len(chosen) else None


def to_wide(key: tuple, level: str, result, block_seconds: int) -> pd.DataFrame:
    from cloudtune.pipeline import RESIDUAL_GRAIN
    from cloudtune.reconcile.packed import pack

    report = {**result.report}
    parts = [pd.DataFrame([{"record": "report", **report}])]
    if len(result.forecast):
        forecast = result.forecast.rename(columns={"peak_to_mean": "peak_to_mean_steps"})
        packed = pack(forecast, block_seconds, [c for c in PACKED if c in forecast])
        parts.append(packed.assign(record="forecast", model=report.get("model")))
    if len(result.components):
        parts.append(pack_steps(result.components, "value").assign(record="component"))
    if len(result.flags):
        flags = result.flags.rename(columns={"reason": "flag_reason"})
        parts.append(flags.drop(columns=[c for c in KEYS if c in flags]).assign(record="flag"))
    if len(result.peaks):
        parts.append(result.peaks.drop(columns=KEYS, errors="ignore").assign(record="peak"))
    if len(result.residuals):
        residuals = result.residuals.assign(grain=RESIDUAL_GRAIN)
        parts.append(pack_steps(residuals, "residual").assign(record="residual"))
    wide = pd.concat(parts, ignore_index=True)
    wide["service"], wide["region"], wide["metric"] = key
    wide["level"] = level
    for col in WIDE_COLUMNS:
        if col not in wide.columns:
            wide[col] = None
    for col in PACKED:  # concat filled the other records' arrays with NaN; Arrow needs a list or None
        wide[col] = wide[col].where(wide["record"] == "forecast", None)
    wide["values"] = wide["values"].where(wide["record"].isin(list(STEPPED)), None)
    for col in ("ts", "start", "end", "event_start", "peak_ts"):
        wide[col] = utc_index(wide[col])
    wide["errored"] = wide["errored"].astype("boolean")
    return wide[WIDE_COLUMNS]


def pack_steps(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Long rows (ts, grain, `column` and constant columns) as one row per value of the other columns: `ts` its
    first step and `values` the column on the grain's grid from there, NaN where a step has no row. A few rows
    of arrays instead of thousands of rows cross from Python to the JVM and stay on disk until the write. A NaN
    value is a missing step too: unpack_steps leaves it out (a component or residual that is not a number)."""
    by = [c for c in frame.columns if c not in ("ts", column)]
    ts = utc_index(frame["ts"]).asi8
    values = frame[column].to_numpy(dtype=float)
    rows = []
    for key, index in frame.groupby(by, sort=False, dropna=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        fields = dict(zip(by, key))
        step = GRAINS[fields["grain"]].value
        first = ts[index].min()
        offset = ts[index] - first
        if (offset % step).any():
            raise ModelError(f"{column} rows to pack are not on a regular {fields['grain']} grid from "
                             f"{pd.Timestamp(first, tz='UTC')}")
        grid = np.full(int(offset.max() // step) + 1, np.nan)
        grid[offset // step] = values[index]
        rows.append({**fields, "ts": pd.Timestamp(first, tz="UTC"), "values": grid})
    return pd.DataFrame(rows, columns=[*by, "ts", "values"])


def unpack_steps(packed, column: str):
    """Spark's inverse of pack_steps: a row per step of `values` (missing steps left out) with its ts, the value in
    `column`. The explode runs in the JVM, inside the task that writes the rows."""
    from pyspark.sql import functions as F

    step_micros = F.create_map(*[part for name, step in GRAINS.items()
                                 for part in (F.lit(name), F.lit(step.value // 1000))])
    return (packed.select("*", F.posexplode("values").alias("_step", column))
            .where(F.col(column).isNotNull() & ~F.isnan(column))  # Arrow may carry a NaN step as null
            .withColumn("ts", F.timestamp_micros(F.unix_micros("ts") + F.col("_step") * step_micros[F.col("grain")]))
            .drop("values", "_step"))


def events_records(config) -> list[dict]:
    """The configured calendar as plain records for the per-series function."""
    from cloudtune.events import load_calendar

    cal = load_calendar(config.resolve(config.events_dir))
    cal = cal.assign(start=cal.start.astype(str), end=cal.end.astype(str),
                     ramp_before=cal.ramp_before.astype(str), decay_after=cal.decay_after.astype(str))
    return cal.astype(object).where(cal.notna(), None).to_dict("records")
