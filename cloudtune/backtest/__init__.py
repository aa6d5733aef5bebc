"""Rolling-origin backtests and accuracy metrics (MASE scaled by seasonal naive, sMAPE, quantile coverage)."""
from cloudtune.backtest.metrics import coverage, mase, smape
from cloudtune.backtest.rolling import backtest, summarize

__all__ = ["backtest", "coverage", "mase", "smape", "summarize"]
