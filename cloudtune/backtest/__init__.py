"""Rolling-origin backtests and accuracy metrics.

`backtest_fleet` (pandas) and `cloudtune.spark.backtest_job.run_backtest` (Spark) run every configured model over
rolling origins on each series and on its region and global totals, score MAE, RMSE, MAPE, sMAPE, MASE, pinball
loss, weighted quantile loss, P90/P99 coverage, the P90 under-forecast rate and peak errors per day and per event,
and pick a champion per team. `backtest` / `summarize` are the older one-model helper the accuracy tests use.
"""
from cloudtune.backtest.metrics import coverage, mae, mape, mase, pinball, rmse, smape, under_forecast_rate, \
    weighted_quantile_loss
from cloudtune.backtest.rolling import backtest, summarize
from cloudtune.backtest.run import BacktestResult, backtest_fleet
from cloudtune.backtest.settings import BacktestSettings

__all__ = ["BacktestResult", "BacktestSettings", "backtest", "backtest_fleet", "coverage", "mae", "mape", "mase",
           "pinball", "rmse", "smape", "summarize", "under_forecast_rate", "weighted_quantile_loss"]
