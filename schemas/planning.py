"""Tables for capacity planning."""
from schemas.table import Column, Table, run_columns

CAPACITY_PLANS = Table(
    name="capacity_plans",
    doc="Instances to have in place per service, region and instance type, sized on a forecast quantile.",
    columns=(
        Column("service", "string", "Service.", nullable=False),
        Column("region", "string", "Region (or location).", nullable=False),
        Column("instance_type", "string", "Instance type and generation, e.g. m7g.2xlarge."),
        Column("period_start", "timestamp", "Start of the period the capacity covers."),
        Column("period_end", "timestamp", "End of the period."),
        Column("quantile", "string", "Forecast quantile sized on, e.g. p99."),
        Column("peak_load", "double", "Load at that quantile (per minute)."),
        Column("load_per_instance", "double", "Load one instance serves at target utilisation."),
        Column("headroom", "double", "Extra share added for failover and deploys."),
        Column("instances", "bigint", "Instances required."),
        *run_columns(),
    ),
    partition_by=("run_date",),
    key=("run_date",),
)
