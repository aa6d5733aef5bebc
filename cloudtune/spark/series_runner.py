"""The per-series function the Spark jobs map with applyInPandas, and the one row type it returns.

One pass fits each hierarchy node once and emits every output (forecast, components, flags, peaks, residuals,
report) as tagged rows of one wide schema; the job splits them into the Delta tables. The forecast is packed
(cloudtune.reconcile.packed): a row per reconciliation block whose mean, p50, p90 and p99 are arrays. The function
closes over plain dicts and lists only, so it pickles small and needs nothing from the driver's process or folder.
"""
from __future__ import annotations

import pandas as pd

from cloudtune.timestamps import utc_index

KEYS = ["service", "region", "metric"]
AGGREGATE = "*"  # the key value of an aggregated column (service '*' is a region total)

# Every output of run_series as one row type, told apart by `record`.
WIDE_SCHEMA = (
    "record string, service string, region string, metric string, level string, ts timestamp, "
    "mean array<double>, p50 array<double>, p90 array<double>, p99 array<double>, "
    "peak_to_mean_steps array<double>, model string, status string, reason string, errored boolean, "
    "component string, value double, combine string, grain string, start timestamp, `end` timestamp, "
    "flag_reason string, score double, method string, team string, note string, event string, "
    "event_start timestamp, day date, peak_p50 double, peak_p90 double, peak_p99 double, peak_ts timestamp, "
    "peak_to_mean double, residual double"
)
WIDE_COLUMNS = [part.strip().split(" ")[0].strip("`") for part in WIDE_SCHEMA.split(",")]


PACKED = ["mean", "p50", "p90", "p99", "peak_to_mean_steps"]


def make_series_runner(run: dict, model: dict, outliers: dict, events: list[dict], block_seconds: int,
                       counter=None):
    """The applyInPandas function over one node's actuals (service, region, metric, level, ts, value); forecasts
    packed in blocks of `block_seconds` (cloudtune.spark.reconcile.planned_block_seconds)."""

    calendars = {}  # per region: the same for every node of a region, and a task runs several

    def run_group(rows: pd.DataFrame) -> pd.DataFrame:
        from cloudtune.config.pipeline import ForecastSettings
        from cloudtune.config.strict import from_dict
        from cloudtune.models.settings import ModelSettings
        from cloudtune.outliers.settings import OutlierSettings
        from cloudtune.pipeline import run_series

        key = tuple(str(rows[k].iloc[0]) for k in KEYS)
        level = str(rows["level"].iloc[0]) if "level" in rows else "series"
        if key[1] not in calendars:
            calendars[key[1]] = node_events(events, key[1])
        result = run_series(
            rows, key, from_dict(ForecastSettings, run), from_dict(ModelSettings, model),
            from_dict(OutlierSettings, outliers), calendars[key[1]],
        )
        if counter is not None:
            counter.add(1)
        return to_wide(key, level, result, block_seconds)

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
    from cloudtune.reconcile.packed import pack

    report = {**result.report}
    parts = [pd.DataFrame([{"record": "report", **report}])]
    if len(result.forecast):
        forecast = result.forecast.rename(columns={"peak_to_mean": "peak_to_mean_steps"})
        packed = pack(forecast, block_seconds, [c for c in PACKED if c in forecast])
        parts.append(packed.assign(record="forecast", model=report.get("model")))
    if len(result.components):
        parts.append(result.components.assign(record="component"))
    if len(result.flags):
        flags = result.flags.rename(columns={"reason": "flag_reason"})
        parts.append(flags.drop(columns=[c for c in KEYS if c in flags]).assign(record="flag"))
    if len(result.peaks):
        parts.append(result.peaks.drop(columns=KEYS, errors="ignore").assign(record="peak"))
    if len(result.residuals):
        parts.append(result.residuals.assign(record="residual"))
    wide = pd.concat(parts, ignore_index=True)
    wide["service"], wide["region"], wide["metric"] = key
    wide["level"] = level
    for col in WIDE_COLUMNS:
        if col not in wide.columns:
            wide[col] = None
    for col in PACKED:  # concat filled the other records' arrays with NaN; Arrow needs a list or None
        wide[col] = wide[col].where(wide["record"] == "forecast", None)
    for col in ("ts", "start", "end", "event_start", "peak_ts"):
        wide[col] = utc_index(wide[col])
    wide["errored"] = wide["errored"].astype("boolean")
    return wide[WIDE_COLUMNS]


def events_records(config) -> list[dict]:
    """The configured calendar as plain records for the per-series function."""
    from cloudtune.events import load_calendar

    cal = load_calendar(config.resolve(config.events_dir))
    cal = cal.assign(start=cal.start.astype(str), end=cal.end.astype(str),
                     ramp_before=cal.ramp_before.astype(str), decay_after=cal.decay_after.astype(str))
    return cal.astype(object).where(cal.notna(), None).to_dict("records")
