"""Accuracy metrics. MASE follows Hyndman & Koehler (2006): the forecast's MAE divided by the in-sample MAE of the
seasonal naive forecast (one week at the series grain, or one day when the history is shorter than two weeks)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def season_steps(step: pd.Timedelta, n_train: int) -> int:
    week = int(pd.Timedelta("7d") // step) if step <= pd.Timedelta("1d") else 1
    day = max(1, int(pd.Timedelta("1d") // step)) if step <= pd.Timedelta("1d") else 1
    return week if n_train >= 2 * week else day


def naive_scale(train: np.ndarray, season: int) -> float:
    """Mean absolute seasonal difference over the training values (NaN gaps skipped)."""
    train = np.asarray(train, dtype=float)
    if len(train) <= season:
        return float("nan")
    d = np.abs(train[season:] - train[:-season])
    d = d[np.isfinite(d)]
    return float(d.mean()) if len(d) else float("nan")


def mase(actual, pred, scale: float) -> float:
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    return float(np.mean(np.abs(actual - pred)) / scale) if scale > 0 else float("nan")


def smape(actual, pred) -> float:
    """Symmetric MAPE in percent; 0/0 terms count as 0."""
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    den = np.abs(actual) + np.abs(pred)
    terms = np.where(den > 0, 2 * np.abs(actual - pred) / np.where(den > 0, den, 1), 0.0)
    return float(100 * terms.mean())


def coverage(actual, upper) -> float:
    """Share of actuals at or below the upper quantile."""
    return float(np.mean(np.asarray(actual, float) <= np.asarray(upper, float)))
