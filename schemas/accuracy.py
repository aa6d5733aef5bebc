"""Tables of measured accuracy: backtests and live tracking."""
from schemas.table import Column, Table, key_columns, run_columns

_RUN = run_columns()

ACCURACY = Table(
    name="accuracy",
    doc="Backtest and live accuracy per series, model and horizon, always beside seasonal naive.",
    columns=(
        *key_columns(),
        Column("model", "string", "Model evaluated.", nullable=False),
        Column("origin", "timestamp", "Forecast origin of the backtest fold (null for a summary row)."),
        Column("horizon", "string", "Horizon bucket, e.g. 1d or 7d."),
        Column("mase", "double", "Mean absolute error scaled by seasonal naive's."),
        Column("smape", "double", "Symmetric mean absolute percentage error, 0..2."),
        Column("coverage_p90", "double", "Share of actuals at or below P90."),
        Column("coverage_p99", "double", "Share of actuals at or below P99."),
        Column("points", "bigint", "Points scored."),
        *_RUN,
    ),
    partition_by=("run_date",),
    key=("run_date",),
)
