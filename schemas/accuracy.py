"""Tables of measured accuracy: rolling-origin backtests (cloudtune.backtest) and the champion decisions they drive."""
from schemas.table import Column, Table, key_columns, run_columns

_RUN = run_columns()


def _metric(name: str, doc: str) -> Column:
    return Column(name, "double", doc + " NaN when nothing was scored (e.g. MAPE with every actual 0).")


ACCURACY = Table(
    name="accuracy",
    doc="Rolling-origin backtest accuracy per model, horizon bucket and hierarchy level, at three scopes: fold (one "
        "node, one origin), node (one node over all origins) and level (all nodes of a level, key '*'). Figures pool "
        "every scored point, so a level's MAE is the MAE of all its points. Seasonal naive is always a model here.",
    columns=(
        *key_columns(" '*' on a region or global total, and on level-scope rows."),
        Column("level", "string", "Hierarchy level: series, region (service '*') or global (service, region '*').",
               nullable=False),
        Column("scope", "string", "fold (one origin), node (all origins of one node) or level (all nodes).",
               nullable=False),
        Column("model", "string", "Model backtested (the model config under test).", nullable=False),
        Column("answered_by", "string", "Model that produced the fold's forecast (a fallback when the tested model "
               "could not fit); null on summary rows."),
        Column("status", "string", "ok, fallback (some window answered by a fallback model) or failed.",
               nullable=False),
        Column("reason", "string", "Why a window fell back or failed."),
        Column("origin", "timestamp", "Forecast origin of the fold (UTC); null on node and level rows."),
        Column("horizon_bucket", "string", "Time since the origin scored, e.g. 0-1d or 1d-7d; 'all' = whole horizon.",
               nullable=False),
        Column("horizon", "string", "Backtest horizon, e.g. 1d.", nullable=False),
        Column("nodes", "bigint", "Series or totals pooled in the row."),
        Column("windows", "bigint", "Fold windows pooled in the row."),
        Column("fallback_windows", "bigint", "Windows answered by a fallback model."),
        Column("failed_windows", "bigint", "Windows no model answered (scored nothing)."),
        Column("points", "bigint", "Actual points scored."),
        _metric("mae", "Mean absolute error."),
        _metric("rmse", "Root mean squared error."),
        _metric("mape", "Mean absolute percentage error in percent, over points whose actual is not 0."),
        _metric("smape", "Symmetric MAPE in percent, 0..200."),
        _metric("mase", "Absolute error scaled by the in-sample MAE of seasonal naive (Hyndman & Koehler 2006)."),
        _metric("pinball_p50", "Mean pinball loss of P50."),
        _metric("pinball_p90", "Mean pinball loss of P90."),
        _metric("pinball_p99", "Mean pinball loss of P99."),
        _metric("wql", "Weighted quantile loss: mean over P50/P90/P99 of 2 * sum(pinball) / sum(|actual|)."),
        _metric("coverage_p90", "Share of actuals at or below P90 (nominal 0.9)."),
        _metric("coverage_p99", "Share of actuals at or below P99 (nominal 0.99)."),
        _metric("under_forecast_rate_p90", "Share of actuals above P90: the capacity risk of sizing on P90."),
        _metric("peak_day_magnitude_error_pct", "Mean |forecast peak - actual peak| / actual peak per day since "
                "the origin, percent."),
        _metric("peak_day_timing_error_min", "Mean |forecast peak time - actual peak time| per day, minutes."),
        _metric("peak_event_magnitude_error_pct", "As peak_day_magnitude_error_pct, per event occurrence."),
        _metric("peak_event_timing_error_min", "As peak_day_timing_error_min, per event occurrence."),
        Column("peak_days", "bigint", "Days with a peak scored."),
        Column("peak_events", "bigint", "Event occurrences with a peak scored."),
        *_RUN,
    ),
    partition_by=("run_date",),
    key=("run_date",),
)

CHAMPION_DECISIONS = Table(
    name="champion_decisions",
    doc="Champion / challenger per team from a backtest: the configured model against the best other model on "
        "the champion metric over the team's series; the winner and why.",
    columns=(
        Column("team", "string", "Team (outliers.teams) or, without teams, the service.", nullable=False),
        Column("pattern", "string", "Service patterns the team owns, comma separated."),
        Column("metric_name", "string", "Metric compared (lower is better), e.g. mase.", nullable=False),
        Column("champion_model", "string", "Model the config answers with today.", nullable=False),
        Column("challenger_model", "string", "Best other backtested model."),
        Column("champion_value", "double", "Champion's metric over the team's series and origins."),
        Column("challenger_value", "double", "Challenger's metric."),
        Column("seasonal_naive_value", "double", "Seasonal naive's metric, the floor every model must beat."),
        Column("improvement_pct", "double", "100 * (champion - challenger) / champion."),
        Column("winner", "string", "Model to use: the challenger if better by min_improvement_pct, else the "
               "champion."),
        Column("switch", "boolean", "True when the winner is the challenger."),
        Column("series", "bigint", "Series of the team in the comparison."),
        Column("windows", "bigint", "Fold windows per model."),
        Column("reason", "string", "The figures and the rule that decided.", nullable=False),
        *_RUN,
    ),
    partition_by=("run_date",),
    key=("run_date",),
)
