"""Tables about what the fit sees: outlier flags and the event calendar."""
from schemas.table import Column, Table, key_columns, run_columns

OUTLIER_FLAGS = Table(
    name="outlier_flags",
    doc="Points and windows left out of the fit, with why. The actuals themselves are never changed.",
    columns=(
        *key_columns(),
        Column("start", "timestamp", "First flagged timestamp (UTC).", nullable=False),
        Column("end", "timestamp", "Last flagged timestamp (UTC), inclusive.", nullable=False),
        Column("reason", "string", "spike_up, spike_down, outage, level_drop or manual_exclude.", nullable=False),
        Column("score", "double", "Robust z-score of the window (manual: null)."),
        Column("method", "string", "Detector that raised it, e.g. mad_residual or manual.", nullable=False),
        Column("team", "string", "Team whose manual window raised or kept it (null for automatic flags)."),
        Column("note", "string", "Free text from the manual window, or detector detail."),
        *run_columns(),
    ),
    partition_by=("run_date",),
    key=("run_date",),
)

EVENTS = Table(
    name="events",
    doc="Event occurrences from conf/events, one row per occurrence and region.",
    columns=(
        Column("name", "string", "Event name, e.g. prime_day.", nullable=False),
        Column("region", "string", "Region it applies in.", nullable=False),
        Column("kind", "string", "sale, holiday, festival or launch."),
        Column("start", "timestamp", "Start (UTC).", nullable=False),
        Column("end", "timestamp", "End (UTC), exclusive.", nullable=False),
        Column("ramp_before_minutes", "bigint", "Minutes of build-up before start."),
        Column("decay_after_minutes", "bigint", "Minutes of decay after end."),
        Column("prior_lift", "double", "Multiplier used while the event has no past occurrence."),
        Column("prior_shape", "string", "flat, front_loaded or spike."),
    ),
    key=("name", "region", "start"),
)
