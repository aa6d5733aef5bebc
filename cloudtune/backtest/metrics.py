"""Accuracy metrics. MASE follows Hyndman & Koehler (2006): the forecast's MAE divided by the in-sample MAE of the
seasonal naive forecast (one week at the series grain, or one day when the history is shorter than two weeks).

Every metric here is also available as *sums* (`point_sums`) so that folds, series and levels aggregate exactly:
`metrics_from_sums` turns summed statistics into the metrics, whether the sums cover one fold or a whole level.
Spark sums the same columns and calls the same function, so there is one implementation of the maths.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = (0.5, 0.9, 0.99)  # the forecasts table's p50 / p90 / p99


def quantile_name(q: float) -> str:
    return f"p{round(q * 100):d}"


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


def mae(actual, pred) -> float:
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    return float(np.mean(np.abs(actual - pred)))


def rmse(actual, pred) -> float:
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    return float(np.sqrt(np.mean((actual - pred) ** 2)))


def mape(actual, pred) -> float:
    """Mean absolute percentage error in percent over the points whose actual is not 0 (NaN if none is)."""
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    nz = actual != 0
    return float(100 * np.mean(np.abs(actual[nz] - pred[nz]) / np.abs(actual[nz]))) if nz.any() else float("nan")


def mase(actual, pred, scale: float) -> float:
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    return float(np.mean(np.abs(actual - pred)) / scale) if scale > 0 else float("nan")


def _smape_terms(actual: np.ndarray, pred: np.ndarray) -> np.ndarray:
    den = np.abs(actual) + np.abs(pred)
    return np.where(den > 0, 2 * np.abs(actual - pred) / np.where(den > 0, den, 1), 0.0)


def smape(actual, pred) -> float:
    """Symmetric MAPE in percent (0..200); 0/0 terms count as 0."""
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    return float(100 * _smape_terms(actual, pred).mean())


def coverage(actual, upper) -> float:
    """Share of actuals at or below the upper quantile."""
    return float(np.mean(np.asarray(actual, float) <= np.asarray(upper, float)))


def under_forecast_rate(actual, upper) -> float:
    """Share of actuals strictly above the quantile: how often capacity sized on it would have been short."""
    return float(np.mean(np.asarray(actual, float) > np.asarray(upper, float)))


def pinball(actual, quantile_pred, q: float) -> float:
    """Mean pinball (quantile) loss: q * (y - f) when y >= f, else (1 - q) * (f - y)."""
    return float(np.mean(_pinball_terms(np.asarray(actual, float), np.asarray(quantile_pred, float), q)))


def _pinball_terms(actual: np.ndarray, qpred: np.ndarray, q: float) -> np.ndarray:
    diff = actual - qpred
    return np.maximum(q * diff, (q - 1) * diff)


def weighted_quantile_loss(actual, quantile_preds: dict) -> float:
    """Mean over quantiles of wQL[q] = 2 * sum(pinball_q) / sum(|y|) (the GluonTS / Amazon Forecast definition).
    `quantile_preds` maps q -> predicted quantile values."""
    actual = np.asarray(actual, float)
    den = np.abs(actual).sum()
    if den <= 0:
        return float("nan")
    losses = [2 * _pinball_terms(actual, np.asarray(p, float), q).sum() / den for q, p in quantile_preds.items()]
    return float(np.mean(losses))


# ---- sufficient statistics, so any grouping of folds aggregates exactly ------------------------------------------

POINT_SUMS = ("points", "abs_err_sum", "sq_err_sum", "ape_sum", "ape_points", "smape_sum", "scaled_err_sum",
              "scaled_points", "abs_actual_sum", "covered_p90", "covered_p99", "under_p90",
              *[f"pinball_{quantile_name(q)}_sum" for q in QUANTILES])
PEAK_SUMS = ("peak_days", "peak_day_magnitude_sum", "peak_day_timing_sum", "peak_events", "peak_event_magnitude_sum",
             "peak_event_timing_sum")
SUM_COLUMNS = POINT_SUMS + PEAK_SUMS

METRIC_COLUMNS = ("mae", "rmse", "mape", "smape", "mase", *[f"pinball_{quantile_name(q)}" for q in QUANTILES], "wql",
                  "coverage_p90", "coverage_p99", "under_forecast_rate_p90", "peak_day_magnitude_error_pct",
                  "peak_day_timing_error_min", "peak_event_magnitude_error_pct", "peak_event_timing_error_min")
LOWER_IS_BETTER = tuple(m for m in METRIC_COLUMNS if not m.startswith("coverage"))


def point_sums(actual, pred, quantile_preds: dict, scale: float) -> dict:
    """The point statistics of one scored window. `quantile_preds` maps each q in QUANTILES to its predictions;
    `scale` is the in-sample seasonal-naive MAE (MASE's denominator; not finite or 0 -> no MASE terms)."""
    a, p = np.asarray(actual, float), np.asarray(pred, float)
    err = np.abs(a - p)
    nz = a != 0
    scaled = np.isfinite(scale) and scale > 0
    out = dict(points=len(a), abs_err_sum=err.sum(), sq_err_sum=(err ** 2).sum(),
               ape_sum=(err[nz] / np.abs(a[nz])).sum(), ape_points=int(nz.sum()),
               smape_sum=_smape_terms(a, p).sum(), scaled_err_sum=err.sum() / scale if scaled else 0.0,
               scaled_points=len(a) if scaled else 0, abs_actual_sum=np.abs(a).sum(),
               covered_p90=int((a <= np.asarray(quantile_preds[0.9], float)).sum()),
               covered_p99=int((a <= np.asarray(quantile_preds[0.99], float)).sum()),
               under_p90=int((a > np.asarray(quantile_preds[0.9], float)).sum()))
    for q in QUANTILES:
        out[f"pinball_{quantile_name(q)}_sum"] = _pinball_terms(a, np.asarray(quantile_preds[q], float), q).sum()
    return {k: float(v) if k.endswith("_sum") else int(v) for k, v in out.items()}


def metrics_from_sums(sums: pd.DataFrame) -> pd.DataFrame:
    """One column per METRIC_COLUMNS from the SUM_COLUMNS of each row (rows may be sums over many windows).
    A metric with nothing to average over (no non-zero actual for MAPE, no peak day) is NaN, not 0."""
    s = sums
    out = pd.DataFrame(index=s.index)

    def ratio(num, den, factor=1.0):
        den = pd.to_numeric(den, errors="coerce").astype(float)
        return factor * pd.to_numeric(num, errors="coerce").astype(float) / den.where(den > 0)

    out["mae"] = ratio(s["abs_err_sum"], s["points"])
    out["rmse"] = np.sqrt(ratio(s["sq_err_sum"], s["points"]))
    out["mape"] = ratio(s["ape_sum"], s["ape_points"], 100)
    out["smape"] = ratio(s["smape_sum"], s["points"], 100)
    out["mase"] = ratio(s["scaled_err_sum"], s["scaled_points"])
    for q in QUANTILES:
        out[f"pinball_{quantile_name(q)}"] = ratio(s[f"pinball_{quantile_name(q)}_sum"], s["points"])
    out["wql"] = sum(ratio(2 * s[f"pinball_{quantile_name(q)}_sum"], s["abs_actual_sum"]) for q in QUANTILES) / len(
        QUANTILES)
    out["coverage_p90"] = ratio(s["covered_p90"], s["points"])
    out["coverage_p99"] = ratio(s["covered_p99"], s["points"])
    out["under_forecast_rate_p90"] = ratio(s["under_p90"], s["points"])
    out["peak_day_magnitude_error_pct"] = ratio(s["peak_day_magnitude_sum"], s["peak_days"], 100)
    out["peak_day_timing_error_min"] = ratio(s["peak_day_timing_sum"], s["peak_days"])
    out["peak_event_magnitude_error_pct"] = ratio(s["peak_event_magnitude_sum"], s["peak_events"], 100)
    out["peak_event_timing_error_min"] = ratio(s["peak_event_timing_sum"], s["peak_events"])
    return out[list(METRIC_COLUMNS)]
