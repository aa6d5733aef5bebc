"""Reconciliation as matrices: reconciled = S @ P @ base, with P (n_bottom x n_nodes) chosen by the method.

    bottom_up    P = [0 | I]: the bottom forecasts, summed up.
    top_down     each bottom series gets its historical share of the top-level node above it (proportions of the
                 historical averages, Gross & Sohl 1990); needs the bottom series' historical means.
    ols          P = (S'S)^-1 S'                       (W = I)
    wls_struct   P = (S'W^-1 S)^-1 S'W^-1, W = diag(S 1): a node's variance taken as its number of series.
    mint_shrink  the same with W = the Schafer-Strimmer shrinkage estimate of the residual covariance
                 (Wickramasuriya, Athanasopoulos & Hyndman 2019, "MinT(Shrink)").

The shrinkage follows that paper (and its reference code, hts::shrink.estim): W1 = E'E / T (uncentred: residuals
are taken to be mean zero), target = diag(W1), and intensity lambda = sum_{i!=j} Var(r_ij) / sum_{i!=j} r_ij^2,
where r_ij are the residual correlations and Var(r_ij) = sum_t (w_tij - mean_t w_tij)^2 / (T (T - 1)) with
w_tij = x_ti x_tj on residuals x scaled by their root mean square; lambda is clipped to [0, 1] and
W = lambda diag(W1) + (1 - lambda) W1.

Missing residuals (NaN, e.g. outlier hours one series left out) are allowed, so that an hour one node lacks is not
thrown away for every node (with hundreds of series hardly any hour is complete). Each node's mean square uses its
own T_i timestamps; the correlations are x_i'x_j / sqrt(T_i T_j) over the timestamps both have (x scaled by the
node's root mean square), i.e. the pairwise correlation times the overlap T_ij / sqrt(T_i T_j) <= 1. That is a
normalised Gram matrix, so W1 stays positive semi-definite (a plain pairwise estimate need not), and with no gaps
it is exactly E'E / T. Var(r_ij) uses the T_ij shared timestamps and the same overlap factor.
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
    rows: int  # the fewest timestamps any pair of columns shares


def shrink_covariance(residuals: np.ndarray) -> ShrunkCovariance:
    """Schafer-Strimmer shrinkage toward the diagonal of a T x n residual matrix (NaN = missing; see module doc)."""
    e = np.asarray(residuals, dtype=float)
    if e.ndim != 2:
        raise InputError(f"shrinkage needs a T x n residual matrix, got shape {e.shape}")
    present = np.isfinite(e)
    e0 = np.where(present, e, 0.0)  # a missing residual adds nothing to any sum; the counts exclude it
    pairs = present.T.astype(float) @ present.astype(float)  # T_ij: timestamps where both i and j have one
    if pairs.min() < 2:
        raise InputError(f"shrinkage needs at least 2 timestamps shared by every pair of columns, got "
                         f"{int(pairs.min())}")
    own = np.diag(pairs)  # T_i
    scale = np.sqrt(np.square(e0).sum(axis=0) / own)
    if (scale <= 0).any():
        raise InputError(f"residual column(s) {np.flatnonzero(scale <= 0).tolist()} are all zero; their "
                         "correlation with the others is undefined")
    x = e0 / scale
    cross = x.T @ x  # diagonal: T_i
    overlap = pairs / np.sqrt(np.outer(own, own))  # T_ij / sqrt(T_i T_j), 1 without gaps
    corr = cross / np.sqrt(np.outer(own, own))
    # Variance of each sample correlation, from the spread of the products x_ti x_tj over the shared timestamps.
    var_r = (np.square(x).T @ np.square(x) - np.square(cross) / pairs) / (pairs * (pairs - 1)) * np.square(overlap)
    off = ~np.eye(e.shape[1], dtype=bool)
    denom = float(np.square(corr[off]).sum())
    lam = 1.0 if denom <= 0 else float(np.clip(var_r[off].sum() / denom, 0.0, 1.0))
    w1 = corr * np.outer(scale, scale)
    cov = lam * np.diag(np.diag(w1)) + (1.0 - lam) * w1
    return ShrunkCovariance(cov, lam, int(pairs.min()))


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
