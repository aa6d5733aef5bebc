"""Reconciliation as matrices: reconciled = S @ P @ base, with P (n_bottom x n_nodes) chosen by the method.

    bottom_up    P = [0 | I]: the bottom forecasts, summed up.
    top_down     each bottom series gets its historical share of the top-level node above it (proportions of the
                 historical averages, Gross & Sohl 1990); needs the bottom series' historical means.
    ols          P = (S'S)^-1 S'                       (W = I)
    wls_struct   P = (S'W^-1 S)^-1 S'W^-1, W = diag(S 1): a node's variance taken as its number of series.
    mint_shrink  the same with W = the Schafer-Strimmer shrinkage estimate of the residual covariance
                 (Wickramasuriya, Athanasopoulos & Hyndman 2019, "MinT(Shrink)").

The shrinkage follows that paper (and its reference code, hts::shrink.estim): W1 = E'E / T from the aligned
residual rows (uncentred: residuals are taken to be mean zero), target = diag(W1), and intensity
lambda = sum_{i!=j} Var(r_ij) / sum_{i!=j} r_ij^2, where r_ij are the residual correlations and
Var(r_ij) = sum_t (w_tij - mean_t w_tij)^2 / (T (T - 1)) with w_tij = x_ti x_tj on residuals x scaled by their
root mean square; lambda is clipped to [0, 1] and W = lambda diag(W1) + (1 - lambda) W1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from cloudtune.errors import ConfigError, InputError

METHODS = ("bottom_up", "top_down", "ols", "wls_struct", "mint_shrink")
FALLBACKS = ("bottom_up", "ols", "wls_struct")  # methods that need no data beyond the hierarchy


@dataclass(frozen=True, eq=False)
class ShrunkCovariance:
    cov: np.ndarray  # n x n
    lambda_: float  # shrinkage intensity in [0, 1]
    rows: int  # aligned residual rows it was estimated from


def shrink_covariance(residuals: np.ndarray) -> ShrunkCovariance:
    """Schafer-Strimmer shrinkage toward the diagonal of a T x n matrix of aligned residuals (no NaN)."""
    e = np.asarray(residuals, dtype=float)
    if e.ndim != 2 or e.shape[0] < 2:
        raise InputError(f"shrinkage needs a T x n residual matrix with T >= 2 rows, got shape {e.shape}")
    if not np.isfinite(e).all():
        raise InputError("shrinkage needs finite residuals; drop the rows with missing or infinite values first")
    t = e.shape[0]
    w1 = e.T @ e / t
    scale = np.sqrt(np.diag(w1))
    if (scale <= 0).any():
        raise InputError(f"residual column(s) {np.flatnonzero(scale <= 0).tolist()} are all zero; their "
                         "correlation with the others is undefined")
    x = e / scale
    corr = x.T @ x / t
    # Variance of each sample correlation, from the spread of the products x_ti x_tj over time.
    var_r = (np.square(x).T @ np.square(x) - np.square(x.T @ x) / t) / (t * (t - 1))
    off = ~np.eye(e.shape[1], dtype=bool)
    denom = float(np.square(corr[off]).sum())
    lam = 1.0 if denom <= 0 else float(np.clip(var_r[off].sum() / denom, 0.0, 1.0))
    cov = lam * np.diag(np.diag(w1)) + (1.0 - lam) * w1
    return ShrunkCovariance(cov, lam, t)


def is_positive_definite(cov: np.ndarray, rtol: float = 1e-10) -> bool:
    """Cholesky succeeds and the smallest eigenvalue is not negligible next to the largest."""
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return False
    eig = np.linalg.eigvalsh(cov)
    return bool(eig[0] > rtol * eig[-1])


def projection_matrix(S: np.ndarray, method: str, W: np.ndarray | None = None,
                      shares: np.ndarray | None = None, top: np.ndarray | None = None) -> np.ndarray:
    """P (n_bottom x n_nodes) for `method`.

    mint_shrink needs W (n x n, positive definite). top_down needs `shares` (each bottom series' share of its top
    node) and `top` (the row index of that top node in S).
    """
    n, m = S.shape
    if method == "bottom_up":
        return np.hstack([np.zeros((m, n - m)), np.eye(m)])
    if method == "top_down":
        if shares is None or top is None:
            raise ConfigError("top_down needs each series' historical share: pass the bottom-level history")
        P = np.zeros((m, n))
        P[np.arange(m), top] = shares
        return P
    if method == "ols":
        return _gls_diagonal(S, np.ones(n))
    if method == "wls_struct":
        return _gls_diagonal(S, S.sum(axis=1))
    if method == "mint_shrink":
        if W is None:
            raise ConfigError("mint_shrink needs the residual covariance W")
        return _gls(S, W)
    raise ConfigError(f"reconcile.method must be one of {', '.join(METHODS)}, got {method!r}")


def _gls_diagonal(S: np.ndarray, w: np.ndarray) -> np.ndarray:
    winv_s = S / w[:, None]
    return np.linalg.solve(S.T @ winv_s, winv_s.T)


def _gls(S: np.ndarray, W: np.ndarray) -> np.ndarray:
    # (S'W^-1 S)^-1 S'W^-1 through a Cholesky solve: W^-1 S without forming W^-1.
    winv_s = scipy.linalg.cho_solve(scipy.linalg.cho_factor(W, lower=True), S)
    return np.linalg.solve(S.T @ winv_s, winv_s.T)
