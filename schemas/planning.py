"""Tables for capacity planning: capacity plans per planning window, and the two-year regional roll-up."""
from schemas.table import Column, Table, run_columns

CAPACITY_PLANS = Table(
    name="capacity_plans",
    doc="Instances to have in place per service, region, planning window, zone and instance type, sized on the "
        "peak minute at a forecast quantile, with the change from the current fleet. A service with no capacity "
        "model has one row with status no_capacity_model.",
    columns=(
        Column("service", "string", "Service.", nullable=False),
        Column("region", "string", "Region.", nullable=False),
        Column("metric", "string", "Metric sized on (the service's capacity model says which; requests by default)."),
        Column("window_kind", "string", "event (an event occurrence with its ramp and decay) or week (Monday UTC)."),
        Column("window", "string", "Event name, or 'week'."),
        Column("period_start", "timestamp", "Start of the window the capacity covers (UTC)."),
        Column("period_end", "timestamp", "End of the window (exclusive)."),
        Column("quantile", "string", "Forecast quantile sized on: p99 for events and p90 for weeks by default."),
        Column("peak_load", "double", "The window's busiest minute at that quantile (requests per minute)."),
        Column("peak_ts", "timestamp", "When that minute is expected."),
        Column("peak_source", "string", "forecasts (max of pointwise quantiles) or event_peaks (quantile of the "
               "window maximum), whichever is higher."),
        Column("required_load", "double", "peak_load times (1 + headroom)."),
        Column("zone", "string", "Zone the instances are placed in."),
        Column("instance_type", "string", "Instance type, e.g. c7.2xlarge."),
        Column("family", "string", "Instance family, e.g. c."),
        Column("generation", "int", "Instance generation, e.g. 7."),
        Column("load_per_instance", "double", "Requests per minute one instance serves at target utilization."),
        Column("headroom", "double", "Share added on top of the peak."),
        Column("redundancy", "string", "none, n_plus_one (a spare per zone) or zone_loss (survive losing a zone)."),
        Column("min_instances", "int", "The service's minimum fleet in a region."),
        Column("instances", "bigint", "Instances needed in this zone and type for the window."),
        Column("current_instances", "bigint", "Instances held now (the current fleet input)."),
        Column("change", "bigint", "instances - current_instances: positive to order, negative spare."),
        Column("relative_cost", "double", "instances x the type's relative cost per hour (catalog units)."),
        Column("order_by", "date", "When positive: the window start minus the service's lead time."),
        Column("status", "string", "ok, short (limits cannot hold the load; see message), no_capacity_model, "
               "unknown_region or no_forecast.", nullable=False),
        Column("message", "string", "What is short or missing and how to fix it."),
        Column("forecast_run_id", "string", "The forecast run the plan was sized from."),
        *run_columns(),
    ),
    partition_by=("run_date",),
    key=("run_date",),
)

CAPACITY_ROLLUP = Table(
    name="capacity_rollup",
    doc="Data-center planning view: instances by region, week and generation for two years, each service sized "
        "on its week's busiest minute (long_range_extract) with its capacity model.",
    columns=(
        Column("region", "string", "Region.", nullable=False),
        Column("week_start", "date", "Monday of the week (UTC).", nullable=False),
        Column("generation", "int", "Instance generation."),
        Column("status", "string", "placed (fits today's location limits) or beyond_limits (needed, but over "
               "today's limits; counted in the newest generation the service runs on)."),
        Column("instances", "bigint", "Instances."),
        Column("vcpu", "bigint", "Their vCPUs."),
        Column("memory_gib", "double", "Their memory (GiB)."),
        Column("relative_cost", "double", "Their relative cost per hour (catalog units)."),
        Column("services", "bigint", "Services contributing."),
        Column("quantile", "string", "Peak-minute quantile sized on."),
        Column("region_peak_load", "double", "The region's busiest minute: the region total when the extract has "
               "it, else the sum of its services' busiest minutes."),
        Column("load_source", "string", "region_total or sum_of_series_peaks."),
        Column("limit_instances", "double", "Most instances of this generation the catalog allows in the region."),
        Column("forecast_run_id", "string", "The forecast run of the extract."),
        *run_columns(),
    ),
    partition_by=("run_date",),
    key=("run_date",),
)
